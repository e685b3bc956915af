package mcpserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// errAudit is what an agent hears when the audit log cannot be written.
var errAudit = errors.New("AgentVault could not write its audit log, so the call was refused")

// callRequest is one tools/call as the pipeline sees it, whether mcp-go
// decoded it or the relay did.
type callRequest struct {
	name    string
	args    any       // the decoded arguments: what is decided, digested and sent
	meta    *mcp.Meta // the agent's _meta (its progress token); nil on the relay
	client  string    // the agent's name and version, for the audit log
	session string
}

// call is mcp-go's handler for every tool: it runs the call through execute.
func (e *endpoint) call(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var res *mcp.CallToolResult
	cr := callRequest{name: req.Params.Name, args: req.Params.Arguments, meta: req.Params.Meta,
		client: clientName(ctx), session: sessionID(ctx)}
	refusal, err := e.execute(ctx, e.state.Load(), cr, func(ctx context.Context, t exposedTool) (bool, error) {
		var err error
		if res, err = e.run(ctx, t, cr.args, cr.meta); err == nil {
			res, err = e.redactResult(t, res)
		}
		return err == nil && res.IsError, err
	})
	if refusal != "" {
		return mcp.NewToolResultError(refusal), nil
	}
	return res, err
}

// execute runs one tools/call through policy, approval and audit, as the
// vault state st decides it; run calls the service and reports whether the
// tool reported an error. toAgent is a refusal for the agent, to be
// answered as a tool error; an error is answered as a protocol error.
func (e *endpoint) execute(ctx context.Context, st *state, req callRequest, run func(context.Context, exposedTool) (isError bool, err error)) (toAgent string, err error) {
	start := time.Now()
	name := req.name
	t, ok := st.tools[name]
	d := st.decisions[name]
	if !ok || d.Decision == policy.Block || !slices.Contains(st.vault.Services, t.service) {
		// The policy changed after mcp-go's filter ran: still refuse.
		return "", fmt.Errorf("tool '%s' not found: %w", name, server.ErrToolNotFound)
	}
	aud := e.srv.cfg.Auditor
	rec := newRecord(st, t, name, d, req.client)
	rec.ArgsDigest = aud.Digest(req.args)
	rec.Args = summary(req.args)

	rec.Channel = "policy"
	refuse := func(outcome, reason, msg string) (string, error) {
		rec.Phase, rec.Outcome, rec.Error = audit.Outcome, outcome, reason
		rec.DurationMS = time.Since(start).Milliseconds()
		if _, err := aud.RecordWritten(rec); err != nil {
			e.srv.log.Error("audit write failed", "err", err)
		}
		// A guard's reason may quote what a service said.
		return e.srv.cfg.Redactor.String(msg), nil
	}
	refused := func(r refusal) (string, error) {
		if r.guard != nil {
			rec.Decision, rec.Rule = string(r.guard.Decision), r.guard.Rule
		}
		msg, _ := refuse(r.outcome, r.reason, r.msg)
		if r.outcome == audit.Cancelled {
			return msg, ctx.Err()
		}
		return msg, nil
	}
	who := approval.Request{Session: req.session, Client: rec.Client}
	j := e.judge(ctx, st, t, name, req.args, judging{who: who, session: true})
	if j.refusal != nil {
		return refused(*j.refusal)
	}
	d = j.d
	rec.Decision, rec.Rule = string(d.Decision), d.Rule
	if d.Decision == policy.Approve {
		args, err := shownArguments(req.args)
		if err != nil {
			return refuse(audit.Denied, "the arguments cannot be shown", "AgentVault refused this call: its arguments cannot be shown to the user")
		}
		ar := approval.Request{
			VaultID: st.vault.ID, Vault: st.vault.Name, Client: rec.Client, Session: req.session,
			Tool: name, ArgsDigest: rec.ArgsDigest, Summary: rec.Args, Arguments: args,
			Timeout: st.vault.ApprovalTimeout, GrantLimit: st.vault.GrantLimit, Hints: t.hints(),
		}
		if p, ok := e.srv.cfg.Catalog.Provider(t.service); ok {
			if r, ok := p.(providers.Reviewed); ok {
				ar.Hints.Reviewed, _ = r.ReviewedAt(t.name)
			}
		}
		if j.source.tool != "" && strings.HasPrefix(d.Rule, policy.FlowRulePrefix) {
			ar.Flow, ar.FlowSince = j.source.why(name), j.source.at
		}
		approver := e.srv.cfg.Approver
		g, checks := approver.(GrantChecker)
		waits := !checks || !g.Granted(ar)
		if waits {
			if max := e.srv.currentLimits().MaxPending; e.waiting.Add(1) > int64(max) {
				e.waiting.Add(-1)
				msg := fmt.Sprintf("%d calls of this vault already wait for approval", max)
				return refuse(audit.RateLimited, msg, "AgentVault: "+msg+"; try again once the user has answered them")
			}
		}
		stop := e.reportWaiting(ctx, req.meta)
		v := approver.Approve(ctx, ar)
		stop()
		if waits {
			e.waiting.Add(-1)
		}
		rec.Channel, rec.Approver, rec.WholeCall = v.Channel, v.Approver, v.WholeCall
		if !v.Approved {
			outcome := v.Outcome
			if outcome == "" {
				outcome = audit.Denied
			}
			return refuse(outcome, v.Reason, "Denied: "+v.Reason)
		}
		// What the service told the guards may have changed while the user
		// looked (a folder's sharing, a pull request's base).
		if g, blocked, _ := e.guard(ctx, st, t, name, req.args, true); blocked {
			return refused(guardRefusal(ctx, g))
		}
	}

	rec.Phase = audit.Intent
	if _, err := aud.Record(rec); err != nil {
		e.srv.log.Error("audit write failed; refusing call", "vault", st.vault.ID, "tool", name, "err", err)
		return "", errAudit
	}
	if st.roles[name].Source && (req.session == "" || e.ids.get(req.session) != nil) {
		// From the intent on the session has read private data, whether
		// the call then works or not. (A session that has already ended
		// keeps no taint: its id is never used again.)
		e.taints.mark(who.Holder(), name, e.srv.cfg.Now())
	}
	if err := ctx.Err(); err != nil {
		// The agent left while its intent was being made durable (a slow or
		// stalled disk): the call does not run, and the audit log says so.
		refuse(audit.Cancelled, "the agent left before the call ran", "")
		return "", err
	}

	isError, err := run(ctx, t)

	rec.Phase, rec.Time = audit.Outcome, time.Time{}
	rec.DurationMS = time.Since(start).Milliseconds()
	switch {
	case ctx.Err() != nil:
		rec.Outcome = audit.Cancelled
	case err != nil:
		rec.Outcome, rec.Error = audit.Failed, err.Error()
	case isError:
		rec.Outcome, rec.Error = audit.Executed, "the tool reported an error"
	default:
		rec.Outcome = audit.Executed
	}
	if _, aerr := aud.RecordWritten(rec); aerr != nil {
		e.srv.log.Error("audit write failed after the call ran", "vault", st.vault.ID, "tool", name, "err", aerr)
		return "", errors.New("the call ran, but AgentVault could not record its outcome in the audit log")
	}
	if err != nil {
		e.srv.log.Error("service call failed", "vault", st.vault.ID, "tool", name, "err", err)
		return "", fmt.Errorf("service %s did not answer; see the AgentVault log", t.service)
	}
	return "", nil
}

// shownArguments encodes a call's arguments for the approver, without
// turning <, > and & into escapes.
func shownArguments(args any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(args); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// reportWaiting sends the agent progress notifications while its call waits
// for approval, when it asked for progress, so clients that reset their
// timeout on progress keep waiting. The returned function stops it.
func (e *endpoint) reportWaiting(ctx context.Context, meta *mcp.Meta) (stop func()) {
	if meta == nil || meta.ProgressToken == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(e.srv.cfg.ApprovalProgressInterval)
		defer tick.Stop()
		for n := 1; ; n++ {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
				_ = e.mcp.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), map[string]any{
					"progressToken": meta.ProgressToken, "progress": float64(n),
					"message": "waiting for the user's approval in AgentVault",
				})
			}
		}
	}()
	return func() { close(done); <-finished }
}

// run calls the provider, relaying its progress to the agent when the agent
// asked for progress.
func (e *endpoint) run(ctx context.Context, t exposedTool, args any, meta *mcp.Meta) (*mcp.CallToolResult, error) {
	p, ok := e.srv.cfg.Catalog.Provider(t.service)
	if !ok {
		return nil, fmt.Errorf("service %s is not configured", t.service)
	}
	var token mcp.ProgressToken
	if meta != nil {
		token = meta.ProgressToken
	}
	progress := e.relayProgress(token, func(params map[string]any) {
		_ = e.mcp.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), params)
	})
	return p.Call(ctx, t.name, args, progress)
}

// newRecord starts an audit record for a call of tool name by client.
func newRecord(st *state, t exposedTool, name string, d policy.Result, client string) audit.Record {
	var id [8]byte
	_, _ = rand.Read(id[:])
	return audit.Record{
		CallID: hex.EncodeToString(id[:]), VaultID: st.vault.ID, Vault: st.vault.Name, Client: client,
		Service: t.service, Tool: name, Decision: string(d.Decision), Rule: d.Rule,
	}
}

func summary(args any) string {
	switch a := args.(type) {
	case nil:
		return ""
	case map[string]any:
		return audit.Summary(a)
	default:
		return "[arguments are not an object]"
	}
}

// limitScope names what a limit counts, for the agent.
func limitScope(l policy.RateLimit, tool string) string {
	if l.Pattern == "*" {
		return "this vault"
	}
	return tool
}
