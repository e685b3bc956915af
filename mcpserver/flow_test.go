package mcpserver

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/mark3labs/mcp-go/client/transport"
)

// askingApprover approves every call and remembers what it was asked.
type askingApprover struct {
	mu    sync.Mutex
	asked []approval.Request
}

func (a *askingApprover) Approve(_ context.Context, r approval.Request) approval.Verdict {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.asked = append(a.asked, r)
	return approval.Verdict{Approved: true, Channel: "test"}
}

func (a *askingApprover) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.asked)
}

// flowVault serves vault id with data-flow protection on, echo_echo marked
// as a source and every echo tool allowed (write_note declares
// openWorldHint, so it is a sink).
func (f *fixture) flowVault(t *testing.T, id string) string {
	t.Helper()
	tok, digest := vaulttoken.New()
	yes := true
	flow, err := policy.Flow{On: true}.Marked(policy.Source, "echo_echo", &yes)
	if err != nil {
		t.Fatal(err)
	}
	f.srv.PutVault(Vault{ID: id, Name: id, TokenDigest: digest, Services: []string{"echo"},
		Policy: policy.Policy{Rules: []policy.Rule{{Pattern: "echo_*", Decision: policy.Allow}}, Flow: flow}})
	return tok
}

// On one session an allowed sink runs; after a source call the same sink
// asks, saying why, and is audited under flow:<source>; a new session
// starts clean. Stateless clients are bound by their name, as session
// grants are.
func TestDataFlowMakesSinksAskAfterASource(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) {
			asker := &askingApprover{}
			f := newFixture(t, asker)
			tok := f.flowVault(t, "a")
			c := f.connect(t, "a", tok, proto)
			note := map[string]any{"text": "hello"}

			if res, err := callTool(t.Context(), c, "echo_write_note", note); err != nil || res.IsError || asker.count() != 0 {
				t.Fatalf("a sink before any source: %+v %v, asked %d times", res, err, asker.count())
			}
			if res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "private"}); err != nil || res.IsError || asker.count() != 0 {
				t.Fatalf("the source: %+v %v", res, err)
			}
			if res, err := callTool(t.Context(), c, "echo_write_note", note); err != nil || res.IsError {
				t.Fatalf("the sink after the source: %+v %v", res, err)
			}
			if asker.count() != 1 {
				t.Fatalf("the sink after a source did not ask (asked %d times)", asker.count())
			}
			asked := asker.asked[0]
			if !strings.Contains(asked.Flow, "read private data with echo_echo") || !strings.Contains(asked.Flow, "echo_write_note can send it out") || asked.FlowSince.IsZero() {
				t.Fatalf("the prompt does not say why: %+v", asked)
			}
			recs := f.audit.records()
			last := recs[len(recs)-1]
			if last.Tool != "echo_write_note" || last.Rule != "flow:echo_echo" || last.Decision != "approve" || last.Outcome != audit.Executed {
				t.Fatalf("audit %+v, want the sink under rule flow:echo_echo", last)
			}

			// Another agent's session has read nothing.
			other := f.connectAs(t, "other-agent", "a", tok, proto)
			if res, err := callTool(t.Context(), other, "echo_write_note", note); err != nil || res.IsError || asker.count() != 1 {
				t.Fatalf("a new session is not clean: %+v %v, asked %d times", res, err, asker.count())
			}
		})
	}
}

// A session grant made before the source call does not cover a sink after
// it; one made from the data-flow prompt does, and "always" is refused.
func TestDataFlowIgnoresEarlierSessionGrants(t *testing.T) {
	broker := approval.New(approval.Config{})
	var answered []approval.Scope
	broker.AddChannel(answerer(func(p approval.Pending) approval.Answer {
		if p.Flow != "" {
			answered = append(answered, approval.Always)
			return approval.Answer{Approve: true, Scope: approval.Always}
		}
		answered = append(answered, approval.Session)
		return approval.Answer{Approve: true, Scope: approval.Session}
	}))
	f := newFixture(t, broker)
	tok, digest := vaulttoken.New()
	yes := true
	flow, _ := policy.Flow{On: true}.Marked(policy.Source, "echo_echo", &yes)
	f.srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"},
		Policy: policy.Policy{Rules: []policy.Rule{{Pattern: "echo_echo", Decision: policy.Allow}}, Flow: flow}})
	c := f.connect(t, "a", tok, legacy)
	// write_note asks by default: granted for the session.
	if res, err := callTool(t.Context(), c, "echo_write_note", nil); err != nil || res.IsError {
		t.Fatalf("first write: %+v %v", res, err)
	}
	if res, err := callTool(t.Context(), c, "echo_write_note", nil); err != nil || res.IsError || len(answered) != 1 {
		t.Fatalf("the session grant did not hold before any source: %+v %v %v", res, err, answered)
	}
	granted := func() bool {
		x, err := f.srv.Explain(t.Context(), "a", "echo_write_note", Explaining{Session: c.GetSessionId(), NoArgs: true})
		if err != nil || x.Decision != policy.Approve {
			t.Fatalf("explain: %+v %v", x, err)
		}
		return slices.ContainsFunc(x.Reasons, func(r policy.Reason) bool { return r.Kind == "grant" })
	}
	if !granted() {
		t.Fatal("explain does not say the session grant covers the call")
	}
	callTool(t.Context(), c, "echo_echo", map[string]any{"message": "private"})
	if granted() {
		t.Fatal("explain says the earlier grant covers a sink after the source")
	}
	res, err := callTool(t.Context(), c, "echo_write_note", nil)
	if len(answered) != 2 || answered[1] != approval.Always {
		t.Fatalf("the earlier grant covered a sink after a source: %v", answered)
	}
	if err != nil || !res.IsError {
		t.Fatalf("always-allow on a data-flow prompt: %+v %v, want it refused", res, err)
	}
}

// answerer is an approval channel that answers at once.
type answerer func(approval.Pending) approval.Answer

func (answerer) Name() string { return "test" }
func (a answerer) Open(p approval.Pending, answer func(approval.Answer) error) func() {
	go func() {
		if answer(a(p)) != nil { // refused (always on a flow prompt): deny instead
			answer(approval.Answer{Reason: "refused"})
		}
	}()
	return func() {}
}

// For random policies, guards, arguments, limits, pauses, data flow and
// sessions, Explain's decision is what the endpoint does with the same call.
func TestExplainDecidesAsTheEndpoint(t *testing.T) {
	asker := &askingApprover{}
	f := newFixture(t, asker)
	tools := []string{"echo_echo", "echo_write_note", "echo_delete_note", "echo_rich"}
	decisions := []policy.Decision{policy.Allow, policy.Approve, policy.Block}
	rng := rand.New(rand.NewPCG(1, 2))
	seen := map[string]bool{} // the decisions and the rules behind refusals met
	for i := range 60 {
		id := fmt.Sprintf("v%d", i)
		var pol policy.Policy
		for _, p := range []string{"echo_*", "echo_echo", "echo_write_note", "*_note"} {
			if rng.IntN(2) == 0 {
				pol, _ = pol.With(p, decisions[rng.IntN(3)])
			}
		}
		if rng.IntN(2) == 0 {
			g := policy.Guard{Kind: policy.Path, Allow: []string{[]string{"/srv/a", "/srv/*", "/home"}[rng.IntN(3)]}}
			if rng.IntN(2) == 0 {
				g.Tools = "*_note"
			}
			var err error
			if pol, err = pol.WithGuard(g); err != nil {
				t.Fatal(err)
			}
		}
		pol.Flow.On = rng.IntN(2) == 0
		yes := true
		pol.Flow, _ = pol.Flow.Marked(policy.Source, tools[rng.IntN(len(tools))], &yes)
		var limits []policy.RateLimit
		if rng.IntN(3) == 0 {
			l, _ := policy.ParseRateLimit("*", "1/min")
			limits = append(limits, l)
		}
		tok, digest := vaulttoken.New()
		f.srv.PutVault(Vault{ID: id, Name: id, TokenDigest: digest, Services: []string{"echo"}, Policy: pol, RateLimits: limits})
		f.srv.SetPaused(rng.IntN(8) == 0)
		c := f.connect(t, id, tok, legacy)
		for range 5 {
			tool := tools[rng.IntN(len(tools))]
			args := map[string]any{"message": "m", "text": "t"}
			if p := []string{"", "/srv/a/x", "/etc/passwd", "/srv/b"}[rng.IntN(4)]; p != "" {
				args["path"] = p
			}
			x, err := f.srv.Explain(t.Context(), id, tool, Explaining{Args: args, Session: c.GetSessionId()})
			if err != nil {
				t.Fatal(err)
			}
			before := asker.count()
			res, err := callTool(t.Context(), c, tool, args)
			got := policy.Allow
			switch {
			case err != nil || res.IsError:
				got = policy.Block
			case asker.count() > before:
				got = policy.Approve
			}
			if got != x.Decision {
				t.Fatalf("vault %s %+v limits %v paused %v: %s explained %+v, the endpoint did %s (%+v %v)",
					id, pol, limits, f.srv.Paused(), tool, x, got, res, err)
			}
			if !slices.ContainsFunc(x.Reasons, func(r policy.Reason) bool { return r.Kind == "rule" || r.Kind == "default" }) {
				t.Fatalf("no rule among the reasons: %+v", x)
			}
			seen[string(x.Decision)], seen[strings.SplitN(x.Rule, ":", 2)[0]] = true, true
		}
	}
	for _, want := range []string{"allow", "approve", "block", "guard", "flow", audit.RateLimited, audit.Denied} {
		if !seen[want] {
			t.Errorf("the random calls never met %q: %v", want, seen)
		}
	}
}

// A stateless agent is its name within the vault: a session id it sends
// along (which mcp-go ignores on stateless requests) does not move its
// taint elsewhere.
func TestStatelessTaintIgnoresASessionHeader(t *testing.T) {
	asker := &askingApprover{}
	f := newFixture(t, asker)
	tok := f.flowVault(t, "a")
	// (connect sets the Authorization header; this one adds to it)
	forged := f.connect(t, "a", tok, modern, transport.WithHTTPHeaderFunc(func(context.Context) map[string]string {
		return map[string]string{"Mcp-Session-Id": "forged-session"}
	}))
	if res, err := callTool(t.Context(), forged, "echo_echo", map[string]any{"message": "private"}); err != nil || res.IsError {
		t.Fatalf("the source: %+v %v", res, err)
	}
	plain := f.connect(t, "a", tok, modern)
	if res, err := callTool(t.Context(), plain, "echo_write_note", map[string]any{"text": "x"}); err != nil || res.IsError {
		t.Fatalf("the sink: %+v %v", res, err)
	}
	if asker.count() != 1 {
		t.Fatal("the sink ran without asking: the source's taint went to the forged session")
	}
}
