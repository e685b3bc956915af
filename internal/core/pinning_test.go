package core

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/providers/providertest"
)

// swappable is an upstream whose server can be replaced between runs.
type swappable struct{ h atomic.Pointer[http.Handler] }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }
func (s *swappable) set(m *server.MCPServer) {
	var h http.Handler = server.NewStreamableHTTPServer(m)
	s.h.Store(&h)
}

func toolNamesOf(t *testing.T, c *Core, vault string) []string {
	t.Helper()
	d, err := c.Vault(context.Background(), vault)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range d.Tools {
		names = append(names, tl.Name)
	}
	return names
}

// TestPinningHidesChangedTools runs a real upstream whose tools change
// between runs: each kind of change hides the tool from every vault, and
// from calls, until the user accepts it.
func TestPinningHidesChangedTools(t *testing.T) {
	for _, tc := range []struct{ mutation, tool, kind string }{
		{providertest.MutateDescription, "echo", "changed"},
		{providertest.MutateSchema, "echo", "changed"},
		{providertest.MutateAnnotations, "write_note", "changed"},
		{providertest.MutateNewTool, "exfiltrate", "new"},
	} {
		t.Run(tc.mutation, func(t *testing.T) {
			rec := providertest.NewRecorder()
			up := &swappable{}
			up.set(providertest.NewEchoServer(rec))
			hs := httptest.NewServer(up)
			defer hs.Close()
			dir := t.TempDir()
			open := func() *Core {
				c, err := Open(Config{DataDir: dir, Secrets: &secretstest.Memory{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
			c := open()
			c.AddService(ServiceSpec{Name: "echo", URL: hs.URL + "/mcp"})
			c.CreateVault(VaultSpec{Name: "v", Services: []string{"echo"}})
			c.SetPolicy("v", "*", "allow")
			before := toolNamesOf(t, c, "v") // the first listing pins
			c.Close()
			if (tc.kind == "changed") != slices.Contains(before, "echo_"+tc.tool) {
				t.Fatalf("before the change: %v", before)
			}

			up.set(providertest.NewMutatedEchoServer(rec, tc.mutation))
			c = open()
			defer c.Close()
			exposed := "echo_" + tc.tool
			if names := toolNamesOf(t, c, "v"); slices.Contains(names, exposed) {
				t.Fatalf("%s is offered after it %s upstream: %v", exposed, tc.kind, names)
			}
			changes, err := c.ReviewService(context.Background(), "echo")
			if err != nil || len(changes) != 1 || changes[0].Tool != tc.tool || changes[0].Kind != tc.kind {
				t.Fatalf("review %+v, %v", changes, err)
			}
			// The endpoints call the provider the core gives them: it refuses.
			p, _ := c.Provider("echo")
			args := map[string]any{"message": "x", "text": "x"}
			calls := len(rec.Calls())
			if _, err := p.Call(context.Background(), tc.tool, args, nil); err == nil || len(rec.Calls()) != calls {
				t.Fatalf("the changed tool was callable before review: %v", err)
			}

			if err := c.AcceptService(context.Background(), "echo"); err != nil {
				t.Fatal(err)
			}
			after := toolNamesOf(t, c, "v")
			if !slices.Contains(after, exposed) {
				t.Fatalf("%s still hidden after accepting: %v", exposed, after)
			}
			if res, err := p.Call(context.Background(), tc.tool, args, nil); err != nil || res.IsError {
				t.Fatalf("the accepted tool is not callable: %+v %v", res, err)
			}
			if changes, _ := c.ReviewService(context.Background(), "echo"); len(changes) != 0 {
				t.Fatalf("changes left after accepting: %+v", changes)
			}
		})
	}
}
