package mcpserver

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/providers"
)

// fakeProvider offers a read-only and a destructive tool and counts calls.
type fakeProvider struct{ echo, del atomic.Int64 }

func (f *fakeProvider) Tools(context.Context) ([]mcp.Tool, error) {
	return []mcp.Tool{
		mcp.NewTool("echo", mcp.WithString("message"), mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
		mcp.NewTool("delete", mcp.WithString("id"), mcp.WithReadOnlyHintAnnotation(false), mcp.WithDestructiveHintAnnotation(true)),
	}, nil
}

func (f *fakeProvider) Call(_ context.Context, tool string, _ any, _ providers.ProgressFunc) (*mcp.CallToolResult, error) {
	if tool == "delete" {
		f.del.Add(1)
	} else {
		f.echo.Add(1)
	}
	return mcp.NewToolResultText("ok"), nil
}

func (f *fakeProvider) Close() error { return nil }

// discardAuditor accepts records without keeping them (fuzzing makes many).
type discardAuditor struct{}

func (discardAuditor) Record(audit.Record) (uint64, error)        { return 1, nil }
func (discardAuditor) RecordWritten(audit.Record) (uint64, error) { return 1, nil }
func (discardAuditor) Digest(any) string                          { return "d" }

// FuzzServeHTTP posts arbitrary bodies to a vault endpoint with a valid
// token: the server must never fail with a 5xx nor run the blocked tool.
func FuzzServeHTTP(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fake_echo","arguments":{"message":"x"}},"_meta":{}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"fake_delete","name":"fake_echo"}}`,
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`,
		`{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}`,
		`{"jsonrpc":"2.0","id":{"a":1},"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"f","version":"1"}}}`,
	} {
		f.Add(seed, "2026-07-28")
		f.Add(seed, "2025-11-25")
	}
	p := &fakeProvider{}
	// Quiet: a fuzzing worker that logs every request soon blocks on its output.
	srv := New(Config{Catalog: catalog{"fake": p}, Auditor: &discardAuditor{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	defer srv.Close()
	tok, digest := vaulttoken.New()
	srv.PutVault(Vault{ID: "v", Name: "v", TokenDigest: digest, Services: []string{"fake"}})
	f.Fuzz(func(t *testing.T, body, version string) {
		// A request may legitimately open a stream (subscriptions/listen) that
		// lasts until the client leaves: this client leaves after a second.
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		req := httptest.NewRequestWithContext(ctx, http.MethodPost, "http://127.0.0.1/v/v/mcp", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("MCP-Protocol-Version", version)
		w := httptest.NewRecorder()
		done := make(chan struct{})
		go func() { srv.ServeHTTP(w, req); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			buf := make([]byte, 1<<20)
			t.Fatalf("request hung: %q (version %q)\n%s", body, version, buf[:runtime.Stack(buf, true)])
		}
		if w.Code >= 500 {
			t.Fatalf("status %d for %q: %s", w.Code, body, w.Body.String())
		}
		if p.del.Load() != 0 {
			t.Fatalf("the blocked tool ran for %q", body)
		}
	})
}
