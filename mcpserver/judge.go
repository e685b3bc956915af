package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
)

// judgement is what a call's checks conclude before anyone is asked:
// execute acts on it, Explain shows it. Both come from judge, so what
// `vault explain` says is what a call meets.
type judgement struct {
	d       policy.Result // Allow runs, Approve asks, Block refuses
	refusal *refusal      // set when a check other than the rule refuses the call
	source  taint         // the source call that makes this sink ask; zero: none
	x       policy.Explanation
}

// refusal is a call refused by a check: what the audit log and the agent
// hear. guard is set when a guard refused it.
type refusal struct {
	outcome, reason, msg string
	guard                *policy.Result
}

// judging says how a call is judged.
type judging struct {
	// explain evaluates every check, counts nothing against a limit and asks
	// no service unless lookup; a call stops at its first refusal.
	explain, lookup bool
	// noArgs: explain was given no arguments, so guards are not checked.
	noArgs bool
	// who is the agent's session, for data flow; explaining without one
	// (no session) shows both data-flow outcomes.
	who     approval.Request
	session bool
}

// judge runs the checks of a call of tool name (t) with args under st, in
// the order a call meets them: the rule, the vault's expiry, the pause,
// rate limits, argument guards, data flow.
func (e *endpoint) judge(ctx context.Context, st *state, t exposedTool, name string, args any, how judging) judgement {
	now := e.srv.cfg.Now()
	pol := st.vault.Policy
	pt := t.policyTool()
	j := judgement{d: st.decisions[name]}
	if how.explain { // a call needs no reasons: it spends nothing on them
		kind := "rule"
		if strings.HasPrefix(j.d.Rule, "default:") {
			kind = "default"
		}
		j.x.Add(kind, j.d.Decision, ruleDetail(j.d))
	}
	refused := func(kind string, r refusal) bool {
		if j.refusal == nil {
			j.refusal = &r
		}
		if how.explain {
			j.x.Add(kind, policy.Block, r.reason)
		}
		return !how.explain
	}

	if how.explain {
		if exp := st.vault.Expires; !exp.IsZero() && !now.Before(exp) {
			refused("expiry", refusal{outcome: audit.Denied, reason: "the vault expired at " + exp.Local().Format(time.DateTime)})
		} else if !exp.IsZero() {
			j.x.Add("expiry", policy.Allow, "the vault expires at "+exp.Local().Format(time.DateTime))
		}
	}
	if e.srv.paused.Load() {
		if refused("pause", refusal{outcome: audit.Denied, reason: "all agents are paused", msg: "AgentVault has paused all agents; ask the user to resume them"}) {
			return j.done()
		}
	} else if how.explain {
		j.x.Add("pause", policy.Allow, "agents are not paused")
	}

	if ok, lim, retry := e.limits.allow(st.vault.RateLimits, name, now, !how.explain); !ok {
		msg := fmt.Sprintf("rate limit %s reached for %s; retry in %s", lim, limitScope(lim, name), retry.Round(time.Second))
		if refused("limit", refusal{outcome: audit.RateLimited, reason: msg, msg: "AgentVault: " + msg}) {
			return j.done()
		}
	} else if how.explain && len(st.vault.RateLimits) > 0 {
		j.x.Add("limit", policy.Allow, "within the vault's rate limits (this explanation counts no call)")
	}

	switch {
	case how.noArgs && len(pol.Guards) > 0:
		j.x.Add("guard", policy.Allow, "not checked: no arguments given (--args)")
	default:
		g, blocked, unasked := e.guard(ctx, st, t, name, args, !how.explain || how.lookup)
		switch {
		case blocked:
			r := guardRefusal(ctx, g)
			if r.outcome == audit.Cancelled {
				j.refusal = &r
				return j.done()
			}
			if refused("guard", r) {
				return j.done()
			}
		case unasked:
			j.x.Add("guard", policy.Allow, "the arguments pass; a guard that asks the service was not checked (--lookup asks it)")
		case len(pol.Guards) > 0 && how.explain:
			j.x.Add("guard", policy.Allow, "the arguments pass every guard")
		}
	}

	if pol.Flow.On {
		roles := st.roles[name]
		switch {
		case how.session:
			j.source = e.taints.source(how.who.Holder(), now)
			if after := pol.AfterSource(j.d, pt, j.source.tool); after != j.d {
				j.d = after
				j.x.Add("flow", policy.Approve, j.source.why(name))
			} else if how.explain {
				j.x.Add("flow", policy.Allow, flowDetail(roles, j.source.tool != ""))
			}
		case how.explain:
			j.x.Add("flow", policy.Allow, flowDetail(roles, false))
			if after := pol.AfterSource(j.d, pt, "SOURCE"); after.Decision != j.d.Decision {
				j.x.Add("flow", policy.Approve, "in a session that has called a source tool this call waits for approval (rule flow:<source>)")
			}
		}
	}
	if how.explain && how.session && j.d.Decision == policy.Approve && j.refusal == nil {
		// The decision stays Approve: a session grant is an answer given.
		if g, ok := e.srv.cfg.Approver.(GrantChecker); ok {
			req := approval.Request{VaultID: st.vault.ID, Session: how.who.Session, Client: how.who.Client, Tool: name}
			if strings.HasPrefix(j.d.Rule, policy.FlowRulePrefix) {
				req.FlowSince = j.source.at
			}
			if g.Granted(req) {
				j.x.Add("grant", policy.Allow, "approved for this session already: it runs without asking")
			}
		}
	}
	return j.done()
}

// guardRefusal is the refusal of a call guard result g blocked; when the
// agent left while the service was asked, it is a cancellation.
func guardRefusal(ctx context.Context, g policy.Result) refusal {
	if ctx.Err() != nil {
		return refusal{outcome: audit.Cancelled, reason: "the agent left before the call was decided"}
	}
	return refusal{outcome: audit.Blocked, reason: g.Reason, msg: "AgentVault refused this call: " + g.Reason, guard: &g}
}

// done sets the explanation's decision: the endpoint's.
func (j judgement) done() judgement {
	j.x.Decision, j.x.Rule = j.d.Decision, j.d.Rule
	if r := j.refusal; r != nil {
		j.x.Decision, j.x.Rule = policy.Block, r.outcome
		if r.guard != nil {
			j.x.Rule = r.guard.Rule
		}
	}
	return j
}

func ruleDetail(d policy.Result) string {
	switch d.Rule {
	case "default:read-only":
		return "no rule matches; the tool declares itself read-only"
	case "default:destructive":
		return "no rule matches; the tool declares itself destructive"
	case "default:write":
		return "no rule matches; the tool does not declare itself read-only"
	case "invalid-name":
		return "the tool's name is not a valid tool name"
	}
	return "rule " + d.Rule + " → " + string(d.Decision)
}

func flowDetail(r policy.FlowRoles, tainted bool) string {
	var is []string
	if r.Source {
		is = append(is, "a source ("+r.SourceWhy+")")
	}
	if r.Sink {
		is = append(is, "a sink ("+r.SinkWhy+")")
	}
	what := "neither a source nor a sink"
	if len(is) > 0 {
		what = strings.Join(is, " and ")
	}
	if tainted {
		return "data-flow protection is on; the tool is " + what
	}
	return "data-flow protection is on; the session has not called a source; the tool is " + what
}

// flowAsks reports whether data-flow protection makes who's call of t
// (exposed as name) ask, though its rule allows it.
func (e *endpoint) flowAsks(st *state, t exposedTool, name string, who approval.Request) bool {
	pol := st.vault.Policy
	if !pol.Flow.On {
		return false
	}
	src := e.taints.source(who.Holder(), e.srv.cfg.Now())
	return pol.AfterSource(st.decisions[name], t.policyTool(), src.tool).Decision == policy.Approve
}

// taint is the first source call of a session: from its intent record on,
// the session's sinks ask.
type taint struct {
	tool     string
	at       time.Time
	lastUsed time.Time // a stateless client's "session" ends SessionIdle after its last call
}

// why is what an approval prompt says about a sink called after t.
func (t taint) why(sink string) string {
	return fmt.Sprintf("this session read private data with %s at %s; %s can send it out",
		t.tool, t.at.Local().Format("15:04"), sink)
}

// taints are the sessions of a vault that have called a source, by holder.
// A session's taint ends with the session; a stateless client's after
// approval.SessionIdle without a call, as its session grants do.
type taints struct {
	mu     sync.Mutex
	m      map[string]taint
	pruned time.Time // when idle stateless holders were last dropped
}

// source returns the taint of holder, if any, and keeps a stateless
// holder's alive.
func (ts *taints) source(holder string, now time.Time) taint {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	t, ok := ts.m[holder]
	if !ok {
		return taint{}
	}
	if approval.IdleEnded(holder, t.lastUsed, now) {
		delete(ts.m, holder)
		return taint{}
	}
	t.lastUsed = now
	ts.m[holder] = t
	return t
}

// mark records that holder called the source tool at now (the first
// source call counts).
func (ts *taints) mark(holder, tool string, now time.Time) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if ts.m == nil {
		ts.m = map[string]taint{}
	}
	if now.Sub(ts.pruned) >= time.Minute { // stateless holders that went idle
		ts.pruned = now
		for h, t := range ts.m {
			if approval.IdleEnded(h, t.lastUsed, now) {
				delete(ts.m, h)
			}
		}
	}
	if t, ok := ts.m[holder]; ok {
		t.lastUsed = now
		ts.m[holder] = t
		return
	}
	ts.m[holder] = taint{tool: tool, at: now, lastUsed: now}
}

// end forgets an MCP session's taint.
func (ts *taints) end(session string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	delete(ts.m, approval.Request{Session: session}.Holder())
}

// Explaining says what to explain: a call's arguments (NoArgs: none were
// given), the live session whose data flow counts ("": show both
// outcomes), and whether guards may ask the service (Lookup).
type Explaining struct {
	Args    any
	NoArgs  bool
	Session string
	Lookup  bool
}

// ErrUnknownTool and ErrUnknownSession are Explain's errors for a tool the
// vault does not have (or has not listed yet) and a session it does not
// know.
var (
	ErrUnknownTool    = errors.New("the vault has no such tool")
	ErrUnknownSession = errors.New("the vault has no such session")
)

// Explain says how a call of tool would be decided in vault id now, and
// why, with the very checks a call meets; it counts no call and, unless
// asked, asks no service.
func (s *Server) Explain(ctx context.Context, id, tool string, how Explaining) (policy.Explanation, error) {
	e := s.endpoint(id)
	if e == nil {
		return policy.Explanation{}, fmt.Errorf("vault %s is not served", id)
	}
	if e.stale.Load() {
		e.reload(ctx)
	}
	st := e.state.Load()
	t, ok := st.tools[tool]
	if !ok {
		return policy.Explanation{}, fmt.Errorf("%w: %s", ErrUnknownTool, tool)
	}
	j := judging{explain: true, lookup: how.Lookup, noArgs: how.NoArgs}
	if how.Session != "" {
		if e.ids.get(how.Session) == nil {
			return policy.Explanation{}, fmt.Errorf("%w: %s", ErrUnknownSession, how.Session)
		}
		j.who, j.session = approval.Request{Session: how.Session}, true
	}
	return e.judge(ctx, st, t, tool, how.Args, j).x, nil
}
