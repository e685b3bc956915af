package mcpserver

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agentvault/agentvault/internal/approval"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
	"github.com/agentvault/agentvault/providers/upstream"
)

// guardedVault serves echo under a path guard allowing /srv/ok.
func (f *fixture) guardedVault(t *testing.T, id string) string {
	t.Helper()
	tok, digest := vaulttoken.New()
	f.srv.PutVault(Vault{ID: id, Name: id, TokenDigest: digest, Services: []string{"echo"}, Policy: policy.Policy{
		Guards: []policy.Guard{{Kind: policy.Path, Allow: []string{"/srv/ok"}}}}})
	return tok
}

func TestGuardRefusesCallsOutsideWithTheReason(t *testing.T) {
	f := newFixture(t, nil)
	c := f.connect(t, "a", f.guardedVault(t, "a"), modern)

	res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "hi", "path": "/srv/ok/notes.txt"})
	if err != nil || res.IsError {
		t.Fatalf("allowed path: %+v %v", res, err)
	}
	for _, path := range []string{"/etc/passwd", "/srv/ok/../../etc/passwd", "/srv/okay/x", "srv/ok/x"} {
		res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "hi", "path": path})
		if err != nil || !res.IsError {
			t.Fatalf("%s: %+v %v", path, res, err)
		}
		if text := providertest.ResultText(res); !strings.Contains(text, "AgentVault refused this call: path") {
			t.Fatalf("%s: no reason in %q", path, text)
		}
	}
	if calls := f.rec.Calls(); len(calls) != 1 {
		t.Fatalf("upstream received %v; only the allowed call may reach it", calls)
	}
	recs := f.audit.records()
	last := recs[len(recs)-1]
	if last.Outcome != audit.Blocked || last.Rule != "guard:path" || !strings.Contains(last.Error, "srv/ok") {
		t.Fatalf("refusal not audited with its reason: %+v", last)
	}
}

// The decision and the call read the same decoded arguments: with a JSON
// key given twice, the value decided is the value the upstream receives.
func TestGuardDecidesOnTheValueTheUpstreamReceives(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.guardedVault(t, "a")
	session := f.connect(t, "a", tok, legacy).GetSessionId()
	call := func(args string) {
		body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo_echo","arguments":` + args + `}}`
		resp := post(t, f.url+"/v/a/mcp", tok, body, map[string]string{"Mcp-Session-Id": session, "MCP-Protocol-Version": legacy})
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("status %d", resp.StatusCode)
		}
	}
	call(`{"message":"x","path":"/srv/ok/a","path":"/etc/shadow"}`)
	call(`{"message":"x","path":"/etc/shadow","path":"/srv/ok/b"}`)
	reqs := f.rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream received %d calls, want 1", len(reqs))
	}
	if got := string(reqs[0].Args); !strings.Contains(got, "/srv/ok/b") || strings.Contains(got, "shadow") {
		t.Fatalf("upstream received %s", got)
	}
}

// slowProvider lists its tools only when released.
type slowProvider struct{ release chan struct{} }

func (s slowProvider) Tools(ctx context.Context) ([]mcp.Tool, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
	}
	return nil, nil
}
func (slowProvider) Call(context.Context, string, any, providers.ProgressFunc) (*mcp.CallToolResult, error) {
	return nil, errors.New("unused")
}
func (slowProvider) Close() error { return nil }

// Taking a service out of a vault takes its tools away at once, not when the
// remaining services have answered a new listing.
func TestRemovedServiceToolsGoAtOnce(t *testing.T) {
	f := newFixture(t, nil)
	slow := slowProvider{release: make(chan struct{})}
	defer close(slow.release)
	f.srv.cfg.Catalog = catalog{"echo": f.srv.cfg.Catalog.(catalog)["echo"], "slow": slow}
	tok, digest := vaulttoken.New()
	v := Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"}}
	f.srv.PutVault(v)
	c := f.connect(t, "a", tok, modern)
	if _, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "x"}); err != nil {
		t.Fatal(err)
	}
	e := f.srv.endpoint("a")
	v.Services = []string{"slow"}
	f.srv.PutVault(v) // the slow service has not listed its tools yet
	st := e.state.Load()
	if _, listed := st.tools["echo_echo"]; listed || strings.Contains(string(st.toolList()), "echo_") {
		t.Fatal("the removed service's tools are still offered")
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": "y"}
	if _, err := e.call(t.Context(), req); !errors.Is(err, server.ErrToolNotFound) {
		t.Fatalf("a tool of the removed service: %v", err)
	}
	if calls := f.rec.Calls(); len(calls) != 1 {
		t.Fatalf("upstream received %v", calls)
	}
}

// sharedFolder is the echo service as if each call also created something in
// a folder shared with a whole domain (evil.com unless sharedWith says
// otherwise): what only a lookup can tell.
type sharedFolder struct {
	*upstream.Provider
	lookups    atomic.Int32           // lookups a share guard asked for
	sharedWith atomic.Pointer[string] // the folder's domain
	during     atomic.Pointer[func()] // runs inside each lookup
}

func (s *sharedFolder) LookUp(ctx context.Context, _ string, _ any, guarded func(policy.Kind) bool) ([]policy.Resource, error) {
	if !guarded(policy.Share) {
		return nil, nil
	}
	s.lookups.Add(1)
	if f := s.during.Load(); f != nil {
		(*f)()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	domain := "evil.com"
	if d := s.sharedWith.Load(); d != nil {
		domain = *d
	}
	return []policy.Resource{{Kind: policy.Share, Value: "*@" + domain}}, nil
}

// lookingUp is a fixture whose echo service is a sharedFolder, and a
// vault maker.
func lookingUp(t *testing.T, approver Approver) (*fixture, *sharedFolder, func(id string, p policy.Policy) string) {
	var folder *sharedFolder
	f := newFixture(t, approver, func(c *Config) {
		folder = &sharedFolder{Provider: c.Catalog.(catalog)["echo"].(*upstream.Provider)}
		c.Catalog = catalog{"echo": folder}
	})
	vault := func(id string, p policy.Policy) string {
		tok, digest := vaulttoken.New()
		f.srv.PutVault(Vault{ID: id, Name: id, TokenDigest: digest, Services: []string{"echo"}, Policy: p})
		return tok
	}
	return f, folder, vault
}

var acmeOnly = policy.Guard{Kind: policy.Share, Allow: []string{"acme.com"}}

func TestGuardsCheckWhatTheServiceLooksUp(t *testing.T) {
	f, folder, vault := lookingUp(t, nil)
	shared := f.connect(t, "a", vault("a", policy.Policy{Guards: []policy.Guard{acmeOnly}}), modern)
	res, err := callTool(t.Context(), shared, "echo_echo", map[string]any{"message": "hi"})
	if err != nil || !res.IsError || !strings.Contains(providertest.ResultText(res), "sharing with *@evil.com is outside") {
		t.Fatalf("a call into a folder shared outside the guard: %+v %v", res, err)
	}
	if calls := f.rec.Calls(); len(calls) != 0 {
		t.Fatalf("upstream received %v", calls)
	}
	// A vault whose guards check no sharing asks the service nothing, and a
	// call its own arguments already put outside a guard is not looked up.
	paths := f.connect(t, "b", vault("b", policy.Policy{Guards: []policy.Guard{{Kind: policy.Path, Allow: []string{"/"}}}}), modern)
	if res, err := callTool(t.Context(), paths, "echo_echo", map[string]any{"message": "hi"}); err != nil || res.IsError {
		t.Fatalf("a call no share guard covers: %+v %v", res, err)
	}
	both := f.connect(t, "c", vault("c", policy.Policy{Guards: []policy.Guard{{Kind: policy.Path, Allow: []string{"/srv"}}, acmeOnly}}), modern)
	res, err = callTool(t.Context(), both, "echo_echo", map[string]any{"message": "hi", "path": "/etc/passwd"})
	if err != nil || !res.IsError || !strings.Contains(providertest.ResultText(res), "path /etc/passwd is outside") {
		t.Fatalf("a call outside the path guard: %+v %v", res, err)
	}
	if n := folder.lookups.Load(); n != 1 {
		t.Fatalf("%d lookups, want 1 (only for the call the share guard had to look up)", n)
	}
}

// approveAfter approves a call once it has run then, as the user can take
// their time.
type approveAfter func()

func (a approveAfter) Approve(context.Context, approval.Request) approval.Verdict {
	a()
	return approval.Verdict{Approved: true, Channel: "test"}
}

func TestGuardsLookAgainAfterApproval(t *testing.T) {
	acme, evil := "acme.com", "evil.com"
	var folder *sharedFolder
	f, folder, vault := lookingUp(t, approveAfter(func() { folder.sharedWith.Store(&evil) })) // shared outside meanwhile
	folder.sharedWith.Store(&acme)
	c := f.connect(t, "a", vault("a", policy.Policy{Rules: []policy.Rule{{Pattern: "echo_echo", Decision: policy.Approve}},
		Guards: []policy.Guard{acmeOnly}}), modern)
	res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "hi"})
	if err != nil || !res.IsError || !strings.Contains(providertest.ResultText(res), "*@evil.com is outside") {
		t.Fatalf("approved call into a folder shared outside meanwhile: %+v %v", res, err)
	}
	if calls := f.rec.Calls(); len(calls) != 0 {
		t.Fatalf("upstream received %v", calls)
	}
	recs := f.audit.records()
	if last := recs[len(recs)-1]; last.Outcome != audit.Blocked || last.Channel != "test" {
		t.Fatalf("audit %+v, want the approved call blocked by the guard", last)
	}
}

func TestAnAgentLeavingDuringALookUpIsRecordedAsCancelled(t *testing.T) {
	f, folder, vault := lookingUp(t, nil)
	f.connect(t, "a", vault("a", policy.Policy{Guards: []policy.Guard{acmeOnly}}), modern)
	ctx, cancel := context.WithCancel(t.Context())
	leave := func() { cancel() }
	folder.during.Store(&leave)
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": "x"}
	if _, err := f.srv.endpoint("a").call(ctx, req); !errors.Is(err, context.Canceled) {
		t.Fatalf("call whose agent left during the lookup: %v", err)
	}
	if recs := f.audit.records(); len(recs) != 1 || recs[0].Outcome != audit.Cancelled {
		t.Fatalf("audit %+v, want one cancelled outcome", recs)
	}
}
