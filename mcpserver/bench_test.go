package mcpserver

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/bench/upstreams"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

// wideServer is a vault server whose vault "a" offers an upstream of n
// tools as service "wide"; it returns the vault's token.
func wideServer(b *testing.B, n int, aud Auditor) (*Server, string) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(upstreams.Wide(n)))
	b.Cleanup(up.Close)
	p, _ := upstream.New(upstream.Config{Name: "wide", URL: up.URL + "/mcp"})
	b.Cleanup(func() { p.Close() })
	srv := New(Config{Catalog: catalog{"wide": p}, Auditor: aud})
	b.Cleanup(srv.Close)
	tok, digest := vaulttoken.New()
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"wide"}})
	return srv, tok
}

// freshSession loads vault "a"'s tools and opens a session mcp-go has just
// seen, as the requests AgentVault answers itself find it.
func freshSession(b *testing.B, srv *Server) string {
	e := srv.endpoint("a")
	e.reload(b.Context())
	return e.ids.Generate()
}

// sessionPost serves body as a request on session of vault "a", without the
// network.
func sessionPost(srv *Server, tok, session, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, "http://127.0.0.1/v/a/mcp", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+tok)
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set(mcp.HeaderProtocolVersion, legacy)
	r.Header.Set(server.HeaderKeySessionID, session)
	w := httptest.NewRecorder()
	srv.ServeHTTP(w, r)
	return w
}

// BenchmarkToolsList100 lists 100 tools through a vault with a real client.
func BenchmarkToolsList100(b *testing.B) {
	srv, tok := wideServer(b, 100, &memAuditor{})
	hs := httptest.NewServer(srv)
	defer hs.Close()
	f := &fixture{srv: srv, url: hs.URL}
	c := f.connect(b, "a", tok, legacy)
	b.ResetTimer()
	for b.Loop() {
		res, err := c.ListTools(b.Context(), mcp.ListToolsRequest{})
		if err != nil || len(res.Tools) != 100 {
			b.Fatal(err)
		}
	}
}

// rawEcho is a provider that answers every call at once, as JSON.
type rawEcho struct{ fakeProvider }

var echoResult = json.RawMessage(`{"content":[{"type":"text","text":"ping"}],"structuredContent":{"message":"ping"}}`)

func (r *rawEcho) CallRaw(context.Context, string, json.RawMessage, providers.ProgressFunc) (json.RawMessage, error) {
	return echoResult, nil
}

// BenchmarkRelayedCall is AgentVault's own work for one allowed call on a
// session, from the request to the response, without the network, the
// upstream or the disk: auth, decoding, policy, audit records (in memory)
// and the response.
func BenchmarkRelayedCall(b *testing.B) {
	srv := New(Config{Catalog: catalog{"fake": &rawEcho{}}, Auditor: &discardAuditor{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	tok, digest := vaulttoken.New()
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"fake"}})
	session := freshSession(b, srv)
	const body = `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"fake_echo","arguments":{"message":"ping"}}}`
	for b.Loop() {
		if w := sessionPost(srv, tok, session, body); !strings.Contains(w.Body.String(), "ping") {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}

// BenchmarkCachedList100 is AgentVault's own work for a tools/list of 100
// tools on a session, without the network.
func BenchmarkCachedList100(b *testing.B) {
	srv, tok := wideServer(b, 100, &discardAuditor{})
	session := freshSession(b, srv)
	for b.Loop() {
		if w := sessionPost(srv, tok, session, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); w.Code != http.StatusOK || w.Body.Len() < 10000 {
			b.Fatalf("%d %s", w.Code, w.Body)
		}
	}
}
