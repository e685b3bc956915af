package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/providers/providertest"
)

// httpEcho serves the echo server over HTTP and counts the connections
// opened to it.
func httpEcho(t *testing.T) (*Provider, *httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	hs := httptest.NewUnstartedServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	hs.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	hs.Start()
	t.Cleanup(hs.Close)
	p := httpProvider(t, hs)
	if p.post == nil {
		t.Fatal("a loopback HTTP server is not called directly")
	}
	return p, hs, &conns
}

// httpProvider is service "echo" on the MCP server hs serves at /mcp,
// closed with the test.
func httpProvider(t *testing.T, hs *httptest.Server) *Provider {
	t.Helper()
	p, err := New(Config{Name: "echo", URL: hs.URL + "/mcp", Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestCallsReuseOneConnectionWhileItIsFresh(t *testing.T) {
	p, _, conns := httpEcho(t)
	if _, err := echo(t, p, "warm up"); err != nil {
		t.Fatal(err)
	}
	before := conns.Load()
	for i := range 20 {
		res, err := echo(t, p, fmt.Sprint(i))
		if err != nil || res.Content[0].(mcp.TextContent).Text != fmt.Sprint(i) {
			t.Fatalf("call %d: %+v, %v", i, res, err)
		}
	}
	if n := conns.Load() - before; n != 0 {
		t.Fatalf("20 sequential calls opened %d connections", n)
	}
	// A connection idle for longer than a server may keep it is not used.
	p.post.mu.Lock()
	for _, pc := range p.post.idle {
		pc.idleSince = time.Now().Add(-2 * maxIdleTime)
	}
	p.post.mu.Unlock()
	if _, err := echo(t, p, "later"); err != nil {
		t.Fatal(err)
	}
	if n := conns.Load() - before; n != 1 {
		t.Fatalf("after a long idle: %d new connections, want 1", n)
	}
}

func TestACancelledCallEndsAndTheNextOneWorks(t *testing.T) {
	p, _, _ := httpEcho(t)
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := p.Call(ctx, "slow", map[string]any{"steps": 100}, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 2*time.Second {
		t.Fatalf("cancelled call: %v after %v", err, time.Since(start))
	}
	if _, err := echo(t, p, "after"); err != nil {
		t.Fatalf("the call after a cancelled one: %v", err)
	}
}

func TestAForgottenSessionIsStartedAgain(t *testing.T) {
	mcpSrv := server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder()))
	var mu sync.Mutex
	seen, forgotten := map[string]bool{}, map[string]bool{}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Mcp-Session-Id")
		mu.Lock()
		gone := forgotten[id]
		seen[id] = id != ""
		mu.Unlock()
		if gone { // what the specification asks of a server that no longer knows a session
			http.Error(w, "session not found", http.StatusNotFound)
			return
		}
		mcpSrv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close) // after the provider's own cleanup, which ends its listening stream
	p := httpProvider(t, hs)
	if _, err := echo(t, p, "a"); err != nil {
		t.Fatal(err)
	}
	mu.Lock() // the server restarted: it knows none of the sessions so far
	for id := range seen {
		forgotten[id] = id != ""
	}
	mu.Unlock()
	if _, err := echo(t, p, "b"); err == nil || !strings.Contains(err.Error(), errSessionGone.Error()) {
		t.Fatalf("a call on a forgotten session: %v", err)
	}
	if res, err := echo(t, p, "c"); err != nil || res.Content[0].(mcp.TextContent).Text != "c" {
		t.Fatalf("the session was not started again: %+v, %v", res, err)
	}
}

// TestEventStreamsAreReadToTheResponse plays a server that answers a call
// with an event stream: a progress notification, a ping and a sampling
// request (which AgentVault answers itself), then the response.
func TestEventStreamsAreReadToTheResponse(t *testing.T) {
	var mu sync.Mutex
	var replies []map[string]any
	replied := make(chan struct{}, 2)
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var msg map[string]any
		json.NewDecoder(r.Body).Decode(&msg)
		if r.Header.Get("Mcp-Session-Id") != "s-1" || r.Header.Get(mcp.HeaderProtocolVersion) != "2025-11-25" {
			http.Error(w, "bad headers", http.StatusBadRequest)
			return
		}
		if _, isReply := msg["method"]; !isReply {
			mu.Lock()
			replies = append(replies, msg)
			mu.Unlock()
			w.WriteHeader(http.StatusAccepted)
			replied <- struct{}{}
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		fl := w.(http.Flusher)
		event := func(v string) { fmt.Fprintf(w, "event: message\ndata: %s\n\n", v); fl.Flush() }
		event(`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"p1","progress":1,"total":2,"message":"half"}}`)
		event(`{"jsonrpc":"2.0","id":"s1","method":"ping"}`)
		<-replied
		event(`{"jsonrpc":"2.0","id":7,"method":"sampling/createMessage","params":{}}`)
		<-replied
		id, _ := json.Marshal(msg["id"])
		fmt.Fprintf(w, ": a comment\nid: 3\ndata: {\"jsonrpc\":\"2.0\",\"id\":%s,\ndata: \"result\":{\"content\":[]}}\n\n", id)
	}))
	defer hs.Close()
	var progress []string
	post, err := newPoster(hs.URL, nil, func(n mcp.JSONRPCNotification) {
		progress = append(progress, fmt.Sprint(n.Method, " ", n.Params.AdditionalFields["message"]))
	})
	if err != nil || post == nil {
		t.Fatal(err)
	}
	defer post.close()
	id := mcp.NewRequestId("av-1")
	result, rpcErr, err := post.call(t.Context(), "s-1", "2025-11-25", id, []byte(`{"jsonrpc":"2.0","id":"av-1","method":"tools/call","params":{"name":"x"}}`))
	if err != nil || rpcErr != nil || string(result) != `{"content":[]}` {
		t.Fatalf("result %s, %v, %v", result, rpcErr, err)
	}
	if len(progress) != 1 || progress[0] != "notifications/progress half" {
		t.Fatalf("notifications %q", progress)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(replies) != 2 || replies[0]["id"] != "s1" || replies[0]["result"] == nil ||
		replies[1]["id"] != 7.0 || replies[1]["error"].(map[string]any)["code"] != float64(mcp.METHOD_NOT_FOUND) {
		t.Fatalf("replies to the server's requests: %v", replies)
	}
}

func TestBadAnswersAreErrors(t *testing.T) {
	for _, tc := range []struct {
		name, contentType, body string
		status                  int
		want                    string
	}{
		{"server error", "text/plain", "boom", 500, "HTTP 500: boom"},
		{"other content", "text/html", "<p>", 200, "unexpected content type"},
		{"not JSON", "application/json", "{", 200, "decoding the answer"},
		{"another id", "application/json", `{"jsonrpc":"2.0","id":"av-9","result":{}}`, 200, "another request"},
		{"stream ends early", "text/event-stream", "data: {\"jsonrpc\":\"2.0\",\"method\":\"notifications/message\"}\n\n", 200, "ended before the response"},
	} {
		hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.Header().Set("Content-Type", tc.contentType)
			w.WriteHeader(tc.status)
			io.WriteString(w, tc.body)
		}))
		post, _ := newPoster(hs.URL, nil, nil)
		_, _, err := post.call(t.Context(), "s", "2025-11-25", mcp.NewRequestId("av-1"), []byte(`{}`))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
		post.close()
		hs.Close()
	}
}

func TestJSONRPCErrorsAreTheServersAnswer(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"jsonrpc":"2.0","id":"av-1","error":{"code":-32602,"message":"unknown tool"}}`)
	}))
	defer hs.Close()
	post, _ := newPoster(hs.URL, nil, nil)
	defer post.close()
	_, rpcErr, err := post.call(t.Context(), "s", "2025-11-25", mcp.NewRequestId("av-1"), []byte(`{}`))
	if err != nil || rpcErr == nil || rpcErr.Code != mcp.INVALID_PARAMS {
		t.Fatalf("error answer: %+v, %v", rpcErr, err)
	}
}

func TestOnlyPlainHTTPServersAreCalledDirectly(t *testing.T) {
	for url, direct := range map[string]bool{"http://127.0.0.1:8080/mcp": true, "http://localhost/mcp": true, "https://mcp.example.com/mcp": false} {
		post, err := newPoster(url, nil, nil)
		if err != nil || (post != nil) != direct {
			t.Errorf("%s: poster %v, %v", url, post != nil, err)
		}
	}
}

func TestAConnectionTheServerClosedWhileIdleIsNotACallFailure(t *testing.T) {
	hs := httptest.NewUnstartedServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	var closeIdle atomic.Bool
	hs.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateIdle && closeIdle.Load() {
			c.Close() // as a server with a short keep-alive timeout does
		}
	}
	hs.Start()
	t.Cleanup(hs.Close) // after the provider's own cleanup, which ends its listening stream
	p := httpProvider(t, hs)
	if _, err := echo(t, p, "a"); err != nil {
		t.Fatal(err)
	}
	closeIdle.Store(true)
	if _, err := echo(t, p, "b"); err != nil { // its connection is closed by now
		t.Fatal(err)
	}
	for i := range 5 {
		if res, err := echo(t, p, fmt.Sprint(i)); err != nil || res.Content[0].(mcp.TextContent).Text != fmt.Sprint(i) {
			t.Fatalf("call on a connection the server closed while idle: %+v, %v", res, err)
		}
	}
	if s := p.Status(); !strings.HasPrefix(s, "connected") {
		t.Fatalf("the session was dropped: %s", s)
	}
}

func TestAnAlreadyCancelledCallSendsNothing(t *testing.T) {
	rec := providertest.NewRecorder()
	hs := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(rec)))
	t.Cleanup(hs.Close)
	p := httpProvider(t, hs)
	if _, err := echo(t, p, "warm up"); err != nil { // leaves a kept connection
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for range 50 {
		if _, err := p.CallRaw(ctx, "echo", json.RawMessage(`{"message":"late"}`), nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("a cancelled call: %v", err)
		}
	}
	if calls := rec.Calls(); len(calls) != 1 {
		t.Fatalf("the server received %d calls, want only the first: %v", len(calls), calls)
	}
}
