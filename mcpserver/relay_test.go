package mcpserver

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
)

// rawCall builds the tools/call a client of protocol proto sends on vault
// "a": on a session for the session-based protocol, with the metadata and
// headers of the stateless one otherwise. edit may change the body's fields
// and the headers before the request is made.
func (f *fixture) rawCall(t *testing.T, token, session, proto, tool string, args map[string]any, edit func(body map[string]any, h http.Header)) *http.Request {
	t.Helper()
	params := map[string]any{"name": tool}
	if args != nil {
		params["arguments"] = args
	}
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	h.Set("Authorization", "Bearer "+token)
	h.Set(mcp.HeaderProtocolVersion, proto)
	if proto == modern {
		params["_meta"] = map[string]any{
			mcp.MetaKeyProtocolVersion:    modern,
			mcp.MetaKeyClientInfo:         map[string]any{"name": "raw-agent", "version": "2"},
			mcp.MetaKeyClientCapabilities: map[string]any{},
		}
		h.Set(mcp.HeaderMethod, "tools/call")
		h.Set(mcp.HeaderName, tool)
	} else {
		h.Set(server.HeaderKeySessionID, session)
	}
	body := map[string]any{"jsonrpc": "2.0", "id": 7, "method": "tools/call", "params": params}
	if edit != nil {
		edit(body, h)
	}
	raw, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, f.url+"/v/a/mcp", bytes.NewReader(raw))
	r.Header = h
	return r
}

// onVault starts a fixture with vault "a" under its default policy and an
// agent on it speaking proto, and returns the agent's token and session
// ("" when stateless) and the vault's endpoint.
func onVault(t *testing.T, proto string) (f *fixture, token, session string, e *endpoint) {
	t.Helper()
	f = newFixture(t, nil)
	token = f.vault(t, "a")
	session = f.connect(t, "a", token, proto).GetSessionId()
	return f, token, session, f.srv.endpoint("a")
}

// answer decodes a JSON-RPC response.
func answer(t *testing.T, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("response %d %q: %v", w.Code, w.Body, err)
	}
	return m
}

func TestRelayAnswersCallsAsMcpGoWould(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) {
			f, token, session, e := onVault(t, proto)
			for _, tc := range []struct {
				tool   string
				args   map[string]any
				paused bool
			}{
				{"echo_echo", map[string]any{"message": "ping"}, false},
				{"echo_rich", nil, false},
				{"echo_fail", map[string]any{}, false},
				{"echo_echo", map[string]any{"message": "ping"}, true},
			} {
				f.srv.SetPaused(tc.paused)
				before := len(f.audit.records())
				relayed := httptest.NewRecorder()
				if !e.direct(relayed, f.rawCall(t, token, session, proto, tc.tool, tc.args, nil)) {
					t.Fatalf("%s: the relay left a plain call of an allowed tool to mcp-go", tc.tool)
				}
				direct := httptest.NewRecorder()
				e.http.ServeHTTP(direct, f.rawCall(t, token, session, proto, tc.tool, tc.args, nil))
				got, want := answer(t, relayed), answer(t, direct)
				if relayed.Code != direct.Code || !reflect.DeepEqual(got, want) {
					t.Fatalf("%s (paused %v):\nrelay  %d %s\nmcp-go %d %s", tc.tool, tc.paused, relayed.Code, relayed.Body, direct.Code, direct.Body)
				}
				recs := f.audit.records()[before:]
				want0 := map[bool]audit.Phase{false: audit.Intent, true: audit.Outcome}[tc.paused]
				if len(recs) == 0 || recs[0].Phase != want0 {
					t.Fatalf("%s: audit %+v", tc.tool, recs)
				}
				if client := map[string]string{legacy: "test-agent 0.1", modern: "raw-agent 2"}[proto]; recs[0].Client != client {
					t.Errorf("%s: audited client %q, want %q", tc.tool, recs[0].Client, client)
				}
				if !tc.paused && !f.audit.wasDurable(before) {
					t.Errorf("%s: the intent was not durable before the call", tc.tool)
				}
			}
		})
	}
}

func TestRelayLeavesEverythingElseToMcpGo(t *testing.T) {
	f, token, session, e := onVault(t, legacy)
	ping := map[string]any{"message": "ping"}
	params := func(b map[string]any) map[string]any { return b["params"].(map[string]any) }
	for _, tc := range []struct {
		name, proto, tool string
		edit              func(b map[string]any, h http.Header)
	}{
		{"approval", legacy, "echo_write_note", nil},
		{"blocked", legacy, "echo_delete_note", nil},
		{"unknown tool", legacy, "echo_nope", nil},
		{"other _meta", legacy, "echo_echo", func(b map[string]any, _ http.Header) {
			params(b)["_meta"] = map[string]any{"progressToken": 1, "io.example/trace": "t"}
		}},
		{"task", legacy, "echo_echo", func(b map[string]any, _ http.Header) { params(b)["task"] = map[string]any{} }},
		{"array arguments", legacy, "echo_echo", func(b map[string]any, _ http.Header) { params(b)["arguments"] = []any{1} }},
		{"fractional id", legacy, "echo_echo", func(b map[string]any, _ http.Header) { b["id"] = 1.5 }},
		{"null id", legacy, "echo_echo", func(b map[string]any, _ http.Header) { b["id"] = nil }},
		{"other method", legacy, "echo_echo", func(b map[string]any, _ http.Header) { b["method"] = "tools/list" }},
		{"old jsonrpc", legacy, "echo_echo", func(b map[string]any, _ http.Header) { b["jsonrpc"] = "1.0" }},
		{"unknown session", legacy, "echo_echo", func(_ map[string]any, h http.Header) { h.Set(server.HeaderKeySessionID, "av-0") }},
		{"no session", legacy, "echo_echo", func(_ map[string]any, h http.Header) { h.Del(server.HeaderKeySessionID) }},
		{"unknown protocol", legacy, "echo_echo", func(_ map[string]any, h http.Header) { h.Set(mcp.HeaderProtocolVersion, "2099-01-01") }},
		{"text body", legacy, "echo_echo", func(_ map[string]any, h http.Header) { h.Set("Content-Type", "text/plain") }},
		{"name header differs", modern, "echo_echo", func(_ map[string]any, h http.Header) { h.Set(mcp.HeaderName, "echo_fail") }},
		{"no method header", modern, "echo_echo", func(_ map[string]any, h http.Header) { h.Del(mcp.HeaderMethod) }},
		{"no version in _meta", modern, "echo_echo", func(b map[string]any, _ http.Header) {
			delete(params(b)["_meta"].(map[string]any), mcp.MetaKeyProtocolVersion)
		}},
		{"versions differ", modern, "echo_echo", func(b map[string]any, _ http.Header) {
			params(b)["_meta"].(map[string]any)[mcp.MetaKeyProtocolVersion] = legacy
		}},
		{"other stateless _meta", modern, "echo_echo", func(b map[string]any, _ http.Header) { params(b)["_meta"].(map[string]any)["io.example/trace"] = "t" }},
		{"Last-Event-ID", modern, "echo_echo", func(_ map[string]any, h http.Header) { h.Set(mcp.HeaderLastEventID, "1") }},
		{"no client capabilities", modern, "echo_echo", func(b map[string]any, _ http.Header) {
			delete(params(b)["_meta"].(map[string]any), mcp.MetaKeyClientCapabilities)
		}},
		{"object progress token", legacy, "echo_echo", func(b map[string]any, _ http.Header) {
			params(b)["_meta"] = map[string]any{"progressToken": map[string]any{"a": 1}}
		}},
	} {
		calls, records := len(f.rec.Calls()), len(f.audit.records())
		r := f.rawCall(t, token, session, tc.proto, tc.tool, ping, tc.edit)
		sent, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(sent))
		w := httptest.NewRecorder()
		if e.direct(w, r) {
			t.Errorf("%s: the relay answered %s", tc.name, w.Body)
			continue
		}
		if left, _ := io.ReadAll(r.Body); !bytes.Equal(left, sent) || w.Body.Len() != 0 {
			t.Errorf("%s: mcp-go would get %q, not the request sent", tc.name, left)
		}
		if len(f.rec.Calls()) != calls || len(f.audit.records()) != records {
			t.Errorf("%s: a declined request reached the upstream or the audit log", tc.name)
		}
	}

	// A session mcp-go has not handled for a quarter of the idle timeout is
	// mcp-go's, so that it never ends a session in use.
	e.ids.get(session).seen.Store(time.Now().Add(-f.srv.cfg.SessionIdleTimeout / 3).UnixNano())
	if e.direct(httptest.NewRecorder(), f.rawCall(t, token, session, legacy, "echo_echo", ping, nil)) {
		t.Fatal("the relay answered on a session mcp-go has not seen lately")
	}
}

func TestRelayFailsClosedWithoutAudit(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		f, token, session, e := onVault(t, proto)
		f.audit.fail.Store(true)
		w := httptest.NewRecorder()
		if !e.direct(w, f.rawCall(t, token, session, proto, "echo_echo", map[string]any{"message": "x"}, nil)) {
			t.Fatal("the relay declined a plain call")
		}
		resp := answer(t, w)
		msg, _ := resp["error"].(map[string]any)["message"].(string)
		if !strings.Contains(msg, "audit log") || slices.Contains(f.rec.Calls(), "echo") {
			t.Fatalf("%s: with no audit log: %s, upstream calls %v", proto, w.Body, f.rec.Calls())
		}
	}
}

func TestRelayedCallsKeepRateLimits(t *testing.T) {
	f := newFixture(t, nil)
	tok, digest := vaulttoken.New()
	f.srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"},
		RateLimits: []policy.RateLimit{{Pattern: "*", Count: 1, Window: policy.Duration(time.Hour)}}})
	c := f.connect(t, "a", tok, legacy)
	e := f.srv.endpoint("a")
	for i, want := range []string{"ping", "rate limit"} {
		w := httptest.NewRecorder()
		if !e.direct(w, f.rawCall(t, tok, c.GetSessionId(), legacy, "echo_echo", map[string]any{"message": "ping"}, nil)) {
			t.Fatal("the relay declined a plain call")
		}
		if !strings.Contains(w.Body.String(), want) {
			t.Fatalf("call %d: %s, want %q", i, w.Body, want)
		}
	}
	if n := len(f.rec.Calls()); n != 1 {
		t.Fatalf("the upstream got %d calls under a limit of one", n)
	}
}

func TestStatelessResultsAreCompleteWithTheServersIdentity(t *testing.T) {
	for _, result := range []string{
		`{}`,
		`{ }`,
		`{"content":[{"type":"text","text":"x"}],"isError":true}`,
		`{"_meta":{"trace":"t1"},"content":[]}`,
		`{"_meta":null,"content":[]}`,
		`{"resultType":"input_required","inputRequests":{}}`,
	} {
		var head resultHead
		if err := json.Unmarshal([]byte(result), &head); err != nil {
			t.Fatal(err)
		}
		out, err := head.complete(json.RawMessage(result))
		if err != nil {
			t.Fatalf("%s: %v", result, err)
		}
		var got, in map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s became invalid JSON %s: %v", result, out, err)
		}
		json.Unmarshal([]byte(result), &in)
		meta, _ := got["_meta"].(map[string]any)
		info, _ := meta[mcp.MetaKeyServerInfo].(map[string]any)
		if got["resultType"] != "complete" || info["name"] != serverName || info["version"] != serverVersion {
			t.Errorf("%s → %s: not a complete result with the server's identity", result, out)
		}
		if inMeta, ok := in["_meta"].(map[string]any); ok && meta["trace"] != inMeta["trace"] {
			t.Errorf("%s → %s: the service's own _meta was lost", result, out)
		}
		for k, v := range in {
			if k != "_meta" && k != "resultType" && !reflect.DeepEqual(got[k], v) {
				t.Errorf("%s → %s: field %s changed", result, out, k)
			}
		}
	}
}

// messages decodes a response: one JSON-RPC message, or the messages of an
// event stream in order.
func messages(t *testing.T, w *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	if !strings.HasPrefix(w.Header().Get("Content-Type"), "text/event-stream") {
		return []map[string]any{answer(t, w)}
	}
	var out []map[string]any
	for _, line := range strings.Split(w.Body.String(), "\n") {
		if data, ok := strings.CutPrefix(line, "data: "); ok {
			var m map[string]any
			if err := json.Unmarshal([]byte(data), &m); err != nil {
				t.Fatalf("event %q: %v", data, err)
			}
			out = append(out, m)
		}
	}
	return out
}

func TestRelayedProgressIsStreamedAsMcpGoStreamsIt(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) {
			f, token, session, e := onVault(t, proto)
			withToken := func(b map[string]any, _ http.Header) {
				p := b["params"].(map[string]any)
				meta, _ := p["_meta"].(map[string]any)
				if meta == nil {
					meta = map[string]any{}
				}
				meta["progressToken"] = "agent-7"
				p["_meta"] = meta
			}
			relayed := httptest.NewRecorder()
			if !e.direct(relayed, f.rawCall(t, token, session, proto, "echo_slow", map[string]any{"steps": 3}, withToken)) {
				t.Fatal("the relay left a call with a progress token to mcp-go")
			}
			direct := httptest.NewRecorder()
			e.http.ServeHTTP(direct, f.rawCall(t, token, session, proto, "echo_slow", map[string]any{"steps": 3}, withToken))
			// The service's steps, in order under the agent's token, then the
			// response mcp-go gives. (The echo service, an mcp-go server, may
			// drop a step that races its own response.)
			got, want := messages(t, relayed), messages(t, direct)
			last := len(got) - 1
			if last < 1 || last > 3 || !reflect.DeepEqual(got[last], want[len(want)-1]) {
				t.Fatalf("relay:\n%s\nmcp-go:\n%s", relayed.Body, direct.Body)
			}
			for i, m := range got[:last] {
				p := m["params"].(map[string]any)
				if m["method"] != "notifications/progress" || p["progressToken"] != "agent-7" || (i > 0 && p["progress"].(float64) <= got[i-1]["params"].(map[string]any)["progress"].(float64)) {
					t.Fatalf("event %d: %v", i, m)
				}
			}
		})
	}
}

func TestANullProgressTokenIsNoToken(t *testing.T) {
	f, token, session, e := onVault(t, legacy)
	w := httptest.NewRecorder()
	if !e.direct(w, f.rawCall(t, token, session, legacy, "echo_slow", map[string]any{"steps": 2}, func(b map[string]any, _ http.Header) {
		b["params"].(map[string]any)["_meta"] = map[string]any{"progressToken": nil}
	})) {
		t.Fatal("the relay declined a call with a null progress token")
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("answered as %s:\n%s", ct, w.Body)
	}
}

func TestNotificationsCancelledCancelARelayedCall(t *testing.T) {
	f, token, session, e := onVault(t, legacy)
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		w := httptest.NewRecorder()
		e.direct(w, f.rawCall(t, token, session, legacy, "echo_slow", map[string]any{"steps": 500}, nil))
		done <- w
	}()
	time.Sleep(100 * time.Millisecond) // the call is under way upstream
	n := httptest.NewRequest(http.MethodPost, f.url+"/v/a/mcp", strings.NewReader(`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7,"reason":"user"}}`))
	n.Header.Set("Content-Type", "application/json")
	n.Header.Set("Authorization", "Bearer "+token)
	n.Header.Set(mcp.HeaderProtocolVersion, legacy)
	n.Header.Set(server.HeaderKeySessionID, session)
	f.srv.ServeHTTP(httptest.NewRecorder(), n)
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("notifications/cancelled did not end the relayed call")
	}
	recs := f.audit.records()
	if last := recs[len(recs)-1]; last.Phase != audit.Outcome || last.Outcome != audit.Cancelled {
		t.Fatalf("audit: %+v", last)
	}
}
