package services

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
)

// swappable is an upstream whose server can be replaced between runs.
type swappable struct{ h atomic.Pointer[http.Handler] }

func (s *swappable) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*s.h.Load()).ServeHTTP(w, r) }
func (s *swappable) set(m *server.MCPServer) {
	var h http.Handler = server.NewStreamableHTTPServer(m)
	s.h.Store(&h)
}

// toolNames lists the tools the service offers vaults.
func toolNames(t *testing.T, r *Registry, service string) []string {
	t.Helper()
	p, _ := r.Provider(service)
	tools, err := p.Tools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
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
			t.Cleanup(hs.Close) // after the registries, whose clients hold streams open
			dir := t.TempDir()
			sec := &secretstest.Memory{}
			first := openRegistry(t, dir, sec)
			first.Add(t.Context(), api.ServiceSpec{Name: "echo", URL: hs.URL + "/mcp"})
			before := toolNames(t, first, "echo") // the first listing pins
			closeRegistry(first)
			if (tc.kind == "changed") != slices.Contains(before, tc.tool) {
				t.Fatalf("before the change: %v", before)
			}

			up.set(providertest.NewMutatedEchoServer(rec, tc.mutation))
			c := openRegistry(t, dir, sec) // restarted: the pins are kept
			if names := toolNames(t, c, "echo"); slices.Contains(names, tc.tool) {
				t.Fatalf("%s is offered after it %s upstream: %v", tc.tool, tc.kind, names)
			}
			changes, err := c.Review(context.Background(), "echo")
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

			if err := c.Accept(context.Background(), "echo"); err != nil {
				t.Fatal(err)
			}
			if after := toolNames(t, c, "echo"); !slices.Contains(after, tc.tool) {
				t.Fatalf("%s still hidden after accepting: %v", tc.tool, after)
			}
			if res, err := p.Call(context.Background(), tc.tool, args, nil); err != nil || res.IsError {
				t.Fatalf("the accepted tool is not callable: %+v %v", res, err)
			}
			if changes, _ := c.Review(context.Background(), "echo"); len(changes) != 0 {
				t.Fatalf("changes left after accepting: %+v", changes)
			}
			// Prompts can say which tool was reviewed after a change.
			reviewed := p.(providers.Reviewed)
			if _, ok := reviewed.ReviewedAt(tc.tool); !ok {
				t.Fatalf("%s is not marked reviewed after accepting its change", tc.tool)
			}
			if _, ok := reviewed.ReviewedAt("rich"); ok {
				t.Fatal("an unchanged tool is marked reviewed")
			}
		})
	}
}

// Adding with a check lists the tools before anything is saved: a server
// that does not answer is refused, leaving no trace, and the tools the check
// listed are the accepted ones, even if the server changes before its first
// use.
func TestTheCheckedAddPinsWhatItListed(t *testing.T) {
	rec := providertest.NewRecorder()
	up := &swappable{}
	up.set(providertest.NewEchoServer(rec))
	hs := httptest.NewServer(up)
	t.Cleanup(hs.Close)
	dir := t.TempDir()
	sec := &secretstest.Memory{}
	r := openRegistry(t, dir, sec)

	broken := api.ServiceSpec{Name: "broken", Command: `sh -c "echo 'no token given' >&2; exit 1"`, Env: []string{"TOKEN=x"}, Check: true}
	if _, err := r.Add(t.Context(), broken); err == nil || !strings.Contains(err.Error(), "no token given") || !strings.Contains(err.Error(), "not added") {
		t.Fatalf("a server that exits at once was added, or the reason is missing: %v", err)
	}
	if _, ok := r.Provider("broken"); ok {
		t.Fatal("the refused server is running")
	}
	if _, err := sec.Get(envKey("broken", "TOKEN")); err == nil {
		t.Fatal("the refused server's variable is in the keychain")
	}
	if list, _ := r.List(t.Context()); len(list) != 0 {
		t.Fatalf("services after a refused add: %+v", list)
	}

	info, err := r.Add(t.Context(), api.ServiceSpec{Name: "echo", URL: hs.URL + "/mcp", Check: true})
	if err != nil || info.Status != "connected, 6 tools" {
		t.Fatalf("checked add: %+v, %v", info, err)
	}
	up.set(providertest.NewMutatedEchoServer(rec, providertest.MutateNewTool))
	closeRegistry(r)
	r = openRegistry(t, dir, sec)
	if changes, err := r.Review(t.Context(), "echo"); err != nil || len(changes) != 1 || changes[0].Tool != "exfiltrate" {
		t.Fatalf("a tool added after the check was not held for review: %+v, %v", changes, err)
	}
}
