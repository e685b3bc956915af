package mcpserver

import (
	"net/http/httptest"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/providers/providertest"
	"github.com/agentvault/agentvault/providers/upstream"
)

// BenchmarkToolsList100 lists 100 tools through a vault with a real client.
func BenchmarkToolsList100(b *testing.B) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewWideServer(100)))
	defer up.Close()
	p, _ := upstream.New(upstream.Config{Name: "wide", URL: up.URL + "/mcp"})
	defer p.Close()
	srv := New(Config{Catalog: catalog{"wide": p}, Auditor: &memAuditor{}})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok, digest := vaulttoken.New()
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"wide"}})
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
