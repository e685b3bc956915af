package mcpserver

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"path"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// exposedTool is a service's tool under its vault-visible name, as the
// endpoint serves it.
type exposedTool struct {
	service string
	name    string // the service's own name for it
	def     mcp.Tool
	// paramHeaders: arguments are mirrored into Mcp-Param-* headers, which
	// mcp-go checks on stateless requests.
	paramHeaders bool
}

func (t exposedTool) policyTool(name string) policy.Tool {
	return policy.Tool{Name: name, ReadOnly: t.def.Annotations.ReadOnlyHint, Destructive: t.def.Annotations.DestructiveHint}
}

// state is an immutable snapshot of a vault: swapped whole, read without locks.
type state struct {
	vault     Vault
	tools     map[string]exposedTool   // exposed name → tool, blocked ones included
	decisions map[string]policy.Result // exposed name → decision under vault.Policy

	listOnce sync.Once // the encoded tools/list result, made on first use
	list     []byte    // nil if it cannot be encoded: mcp-go answers then
}

func newState(v Vault, tools map[string]exposedTool) *state {
	st := &state{vault: v, tools: tools, decisions: make(map[string]policy.Result, len(tools))}
	for name, t := range tools {
		st.decisions[name] = policy.Decide(v.Policy, t.policyTool(name))
	}
	return st
}

// endpoint serves one vault.
type endpoint struct {
	srv   *Server
	mcp   *server.MCPServer
	http  *server.StreamableHTTPServer
	ids   *sessionIDs
	state atomic.Pointer[state]
	// relayed cancels the relay's calls under way, by session and request
	// id, for notifications/cancelled.
	relayed sync.Map
	stale   atomic.Bool  // tools must be reloaded before the next request
	waiting atomic.Int64 // calls waiting for approval now

	mu          sync.Mutex // serialises state changes and tool reloads
	fingerprint []byte     // of the registered tool definitions
	limits      limiter
}

func newEndpoint(s *Server, v Vault) *endpoint {
	e := &endpoint{srv: s}
	e.ids = newSessionIDs(func() int { return s.currentLimits().MaxSessions },
		func(id string, evicted bool) {
			if evicted {
				// Ended by AgentVault to make room: mcp-go forgets it too.
				e.mcp.UnregisterSession(context.Background(), id)
			}
			if s.cfg.OnSessionEnd != nil {
				s.cfg.OnSessionEnd(v.ID, id)
			}
		})
	e.state.Store(newState(v, nil))
	e.stale.Store(true)
	hooks := &server.Hooks{}
	hooks.AddOnError(e.onError)
	hooks.AddAfterInitialize(e.onInitialized)
	e.mcp = server.NewMCPServer(serverName, serverVersion,
		server.WithToolCapabilities(true),
		server.WithToolFilter(e.filter),
		server.WithHooks(hooks),
		server.WithRecovery(),
		server.WithInstructions("Tools of the AgentVault vault "+quote(v.Name)+". Some calls wait for the user's approval."),
	)
	e.http = server.NewStreamableHTTPServer(e.mcp,
		server.WithSessionIdManager(e.ids),
		server.WithSessionIdleTTL(s.cfg.SessionIdleTimeout),
		server.WithStreamableHTTPLogger(s.log),
		// Host and Origin are checked by Server.ServeHTTP for every route.
		server.WithDisableLocalhostProtection(true),
	)
	return e
}

func (e *endpoint) tokenDigest() []byte { return e.state.Load().vault.TokenDigest }

func (e *endpoint) offers(service string) bool {
	return slices.Contains(e.state.Load().vault.Services, service)
}

func (e *endpoint) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if e.stale.Load() {
		e.reload(r.Context())
	}
	if e.direct(w, r) {
		return
	}
	if id := r.Header.Get(server.HeaderKeySessionID); id != "" {
		e.ids.seen(id)
	}
	e.http.ServeHTTP(w, r)
}

// update applies a changed vault.
func (e *endpoint) update(v Vault) {
	e.mu.Lock()
	old := e.state.Load()
	tools := old.tools
	if !slices.Equal(old.vault.Services, v.Services) {
		// A removed service's tools go at once, before the reload that
		// lists the remaining services has answered.
		tools = maps.Clone(tools)
		maps.DeleteFunc(tools, func(_ string, t exposedTool) bool { return !slices.Contains(v.Services, t.service) })
	}
	e.state.Store(newState(v, tools))
	e.mu.Unlock()

	if !bytes.Equal(old.vault.TokenDigest, v.TokenDigest) {
		e.http.CloseSessions(context.Background())
	}
	if !slices.Equal(old.vault.Services, v.Services) {
		e.markStale()
		return
	}
	if !samePolicy(old.vault.Policy, v.Policy) {
		e.mcp.SendNotificationToAllClients(string(mcp.MethodNotificationToolsListChanged), nil)
	}
}

// samePolicy reports whether a and b list the same tools with the same
// decisions; guards only refuse calls, they never change the list.
func samePolicy(a, b policy.Policy) bool { return slices.Equal(a.Rules, b.Rules) }

// markStale reloads the tools in the background; connected agents hear of
// any change through tools/list_changed.
func (e *endpoint) markStale() {
	e.stale.Store(true)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		e.reload(ctx)
	}()
}

func (e *endpoint) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	e.http.Shutdown(ctx)
}

// reload fetches the tools of the vault's services and registers them. A
// service that fails leaves the vault stale, so the next request tries again.
func (e *endpoint) reload(ctx context.Context) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.stale.CompareAndSwap(true, false) {
		return
	}
	v := e.state.Load().vault
	exposed, problems, complete := providers.Expose(ctx, e.srv.cfg.Catalog.Provider, v.Services)
	for _, p := range problems {
		e.srv.log.Warn("a tool is left out", "vault", v.ID, "problem", p)
	}
	if !complete {
		e.stale.Store(true)
	}
	tools := make(map[string]exposedTool, len(exposed))
	for _, t := range exposed {
		def, err := e.redactDefinition(t.Def)
		if err != nil {
			e.srv.log.Warn("skipping tool whose definition holds a configured secret", "service", t.Service, "tool", t.Name, "err", err)
			continue
		}
		if def, err = preEncoded(def); err != nil {
			e.srv.log.Warn("skipping tool whose schema cannot be encoded", "service", t.Service, "tool", t.Name, "err", err)
			continue
		}
		tools[def.Name] = exposedTool{service: t.Service, name: t.Name, def: def, paramHeaders: len(mcp.ExtractParamHeaderBindings(&def)) > 0}
	}
	// The vault may have changed while the services answered: keep its newest form.
	e.state.Store(newState(e.state.Load().vault, tools))

	names := make([]string, 0, len(tools))
	for n := range tools {
		names = append(names, n)
	}
	sort.Strings(names)
	defs := make([]server.ServerTool, 0, len(names))
	plain := make([]mcp.Tool, 0, len(names))
	for _, n := range names {
		defs = append(defs, server.ServerTool{Tool: tools[n].def, Handler: e.call})
		plain = append(plain, tools[n].def)
	}
	fp, _ := json.Marshal(plain)
	if !bytes.Equal(fp, e.fingerprint) {
		e.fingerprint = fp
		e.mcp.SetTools(defs...) // notifies connected agents
	}
}

// redactDefinition takes the configured secrets out of a tool's
// definition (a description that repeats a credential).
func (e *endpoint) redactDefinition(t mcp.Tool) (mcp.Tool, error) {
	if e.srv.cfg.Redactor.Empty() {
		return t, nil
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return t, err
	}
	clean, found := e.srv.cfg.Redactor.Bytes(raw)
	if !found {
		return t, nil
	}
	var out mcp.Tool
	if err := json.Unmarshal(clean, &out); err != nil {
		return t, err
	}
	return out, nil
}

// preEncoded turns a tool's schemas into JSON once, so that listing tools
// copies bytes instead of encoding every schema on every tools/list.
func preEncoded(t mcp.Tool) (mcp.Tool, error) {
	if t.RawInputSchema == nil {
		raw, err := json.Marshal(t.InputSchema)
		if err != nil {
			return t, err
		}
		t.RawInputSchema, t.InputSchema = raw, mcp.ToolInputSchema{}
	}
	if t.RawOutputSchema == nil && t.OutputSchema.Type != "" {
		raw, err := json.Marshal(t.OutputSchema)
		if err != nil {
			return t, err
		}
		t.RawOutputSchema, t.OutputSchema = raw, mcp.ToolOutputSchema{}
	}
	return t, nil
}

// filter hides blocked tools from tools/list and, through mcp-go, refuses
// them at tools/call exactly as unknown tools.
func (e *endpoint) filter(_ context.Context, tools []mcp.Tool) []mcp.Tool {
	st := e.state.Load()
	out := tools[:0:0]
	for _, t := range tools {
		if d, ok := st.decisions[t.Name]; ok && d.Decision != policy.Block {
			out = append(out, t)
		}
	}
	return out
}

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
// tool reported an error. A refusal is a message for the agent, to be
// answered as a tool error; an error is answered as a protocol error.
func (e *endpoint) execute(ctx context.Context, st *state, req callRequest, run func(context.Context, exposedTool) (isError bool, err error)) (refusal string, err error) {
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
	if e.srv.paused.Load() {
		return refuse(audit.Denied, "all agents are paused", "AgentVault has paused all agents; ask the user to resume them")
	}
	if ok, lim, retry := e.limits.allow(st.vault.RateLimits, name, e.srv.cfg.Now()); !ok {
		msg := fmt.Sprintf("rate limit %s reached for %s; retry in %s", lim, limitScope(lim, name), retry.Round(time.Second))
		return refuse(audit.RateLimited, msg, "AgentVault: "+msg)
	}
	guarded := func() (string, bool) {
		g, ok := e.guard(ctx, st, t, name, req.args)
		switch {
		case ok && ctx.Err() != nil: // the agent left while the service was asked
			msg, _ := refuse(audit.Cancelled, "the agent left before the call was decided", "")
			return msg, true
		case ok:
			rec.Decision, rec.Rule = string(g.Decision), g.Rule
			msg, _ := refuse(audit.Blocked, g.Reason, "AgentVault refused this call: "+g.Reason)
			return msg, true
		}
		return "", false
	}
	if msg, refused := guarded(); refused {
		return msg, ctx.Err()
	}
	if d.Decision == policy.Approve {
		args, err := shownArguments(req.args)
		if err != nil {
			return refuse(audit.Denied, "the arguments cannot be shown", "AgentVault refused this call: its arguments cannot be shown to the user")
		}
		ar := approval.Request{
			VaultID: st.vault.ID, Vault: st.vault.Name, Client: rec.Client, Session: req.session,
			Tool: name, ArgsDigest: rec.ArgsDigest, Summary: rec.Args, Arguments: args,
			Timeout: st.vault.ApprovalTimeout, GrantLimit: st.vault.GrantLimit,
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
		if msg, refused := guarded(); refused {
			return msg, ctx.Err()
		}
	}

	rec.Phase = audit.Intent
	if _, err := aud.Record(rec); err != nil {
		e.srv.log.Error("audit write failed; refusing call", "vault", st.vault.ID, "tool", name, "err", err)
		return "", errAudit
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

// guard decides the call again with what it touches, when the vault has
// argument guards; ok means a guard refused it.
func (e *endpoint) guard(ctx context.Context, st *state, t exposedTool, name string, args any) (r policy.Result, ok bool) {
	if len(st.vault.Policy.Guards) == 0 {
		return policy.Result{}, false
	}
	p, found := e.srv.cfg.Catalog.Provider(t.service)
	g, guarded := p.(providers.Guarded)
	if !found || !guarded {
		return policy.Result{}, false
	}
	refuse := func(err error) (policy.Result, bool) {
		return policy.Result{Decision: policy.Block, Rule: "guard", Reason: err.Error()}, true
	}
	resources, err := g.Resources(t.name, args)
	if err != nil {
		return refuse(err)
	}
	pol := st.vault.Policy
	pt := t.policyTool(name)
	pt.Resources = resources
	var written map[string]string // resolved path → as the call wrote it
	if rp, ok := p.(providers.PathResolving); ok && rp.Local() && pol.Guarding(policy.Path, name) {
		if pol, written, err = resolvePaths(rp, pol, pt.Resources); err != nil {
			return refuse(err)
		}
	}
	r = policy.Decide(pol, pt)
	if r.Decision == policy.Block && len(written) > 0 {
		r.Reason = throughLinks(pol, pt, written, r.Reason)
	}
	l, looksUp := p.(providers.LookingUp)
	if r.Decision == policy.Block || !looksUp {
		return r, r.Decision == policy.Block
	}
	// Only a call its arguments already allow makes the service be asked
	// more, with the user's credential.
	more, err := l.LookUp(ctx, t.name, args, func(k policy.Kind) bool { return st.vault.Policy.Guarding(k, name) })
	if err != nil {
		return refuse(err)
	}
	if len(more) > 0 {
		pt.Resources = append(pt.Resources, more...)
		r = policy.Decide(pol, pt)
	}
	return r, r.Decision == policy.Block
}

// resolvePaths turns, for a server on this machine, the call's paths into
// where they lead, symbolic links followed, and the policy into the one such
// paths are checked against (path allowlists as resolved when saved): a link
// inside an allowed folder cannot lead a call outside it, and an entry
// reached through a link allows what it led to. Only clean absolute paths
// are resolved; any other is refused as written. written maps each resolved
// path that changed to the path as written.
func resolvePaths(rp providers.PathResolving, pol policy.Policy, resources []policy.Resource) (_ policy.Policy, written map[string]string, err error) {
	for i, res := range resources {
		if res.Kind != policy.Path || !path.IsAbs(res.Value) || path.Clean(res.Value) != res.Value {
			continue
		}
		real, err := rp.ResolvePath(res.Value)
		if err != nil {
			return pol, nil, fmt.Errorf("path %s cannot be resolved: %w", res.Value, err)
		}
		if real != res.Value {
			if written == nil {
				written = map[string]string{}
			}
			written[real] = res.Value
			resources[i].Value = real
		}
	}
	return pol.OnThisMachine(), written, nil
}

// throughLinks explains a refusal of a path that a symbolic link led
// outside the allowlist; reason is the refusal as Decide gives it.
func throughLinks(pol policy.Policy, pt policy.Tool, written map[string]string, reason string) string {
	for _, res := range pt.Resources {
		w, ok := written[res.Value]
		if !ok || res.Kind != policy.Path {
			continue
		}
		one := pt
		one.Resources = []policy.Resource{res}
		if d := policy.Decide(pol, one); d.Decision == policy.Block {
			return fmt.Sprintf("path %s leads to %s through a symbolic link: %s", w, res.Value, d.Reason)
		}
	}
	return reason
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

// relayProgress is providers.RelayProgress with the configured secrets
// taken out of each message.
func (e *endpoint) relayProgress(token mcp.ProgressToken, send func(params map[string]any)) providers.ProgressFunc {
	return providers.RelayProgress(token, func(params map[string]any) {
		if msg, ok := params["message"].(string); ok {
			params["message"] = e.srv.cfg.Redactor.String(msg)
		}
		send(params)
	})
}

// redactResult takes the configured secrets out of a service's result.
func (e *endpoint) redactResult(t exposedTool, res *mcp.CallToolResult) (*mcp.CallToolResult, error) {
	if e.srv.cfg.Redactor.Empty() || res == nil {
		return res, nil
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("service %s sent a result that cannot be encoded: %w", t.service, err)
	}
	clean, err := e.redactRaw(t, raw)
	if err != nil || len(clean) == len(raw) && bytes.Equal(clean, raw) {
		return res, err
	}
	return mcp.ParseCallToolResult((*json.RawMessage)(&clean))
}

// redactRaw takes the configured secrets out of a service's JSON result. A
// result that is no longer JSON after that (a secret spanned its structure)
// is refused rather than sent.
func (e *endpoint) redactRaw(t exposedTool, raw []byte) ([]byte, error) {
	clean, found := e.srv.cfg.Redactor.Bytes(raw)
	if found && !json.Valid(clean) {
		return nil, fmt.Errorf("service %s sent a result holding a configured secret that could not be removed", t.service)
	}
	return clean, nil
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

// onError records attempts to call a blocked tool; mcp-go refuses them
// before any handler runs, and the agent sees only "not found".
func (e *endpoint) onError(ctx context.Context, _ any, method mcp.MCPMethod, message any, err error) {
	if method != mcp.MethodToolsCall || !errors.Is(err, server.ErrToolNotFound) {
		return
	}
	req, ok := message.(*mcp.CallToolRequest)
	if !ok {
		return
	}
	st := e.state.Load()
	t, ok := st.tools[req.Params.Name]
	d := st.decisions[req.Params.Name]
	if !ok || d.Decision != policy.Block {
		return
	}
	rec := newRecord(st, t, req.Params.Name, d, clientName(ctx))
	rec.Phase, rec.Outcome, rec.Channel = audit.Outcome, audit.Blocked, "policy"
	rec.ArgsDigest = e.srv.cfg.Auditor.Digest(req.Params.Arguments)
	if _, err := e.srv.cfg.Auditor.RecordWritten(rec); err != nil {
		e.srv.log.Error("audit write failed", "err", err)
	}
}

// onInitialized keeps the agent's name of a new session for the calls the
// relay answers.
func (e *endpoint) onInitialized(ctx context.Context, _ any, req *mcp.InitializeRequest, _ *mcp.InitializeResult) {
	if s := server.ClientSessionFromContext(ctx); s != nil {
		e.ids.setClient(s.SessionID(), clientLabel(req.Params.ClientInfo))
	}
}

func clientName(ctx context.Context) string {
	if s, ok := server.ClientSessionFromContext(ctx).(server.SessionWithClientInfo); ok {
		return clientLabel(s.GetClientInfo())
	}
	return ""
}

// clientLabel is how an agent is named in the audit log: name and version.
func clientLabel(ci mcp.Implementation) string {
	if ci.Name == "" {
		return ""
	}
	return ci.Name + " " + ci.Version
}

func sessionID(ctx context.Context) string {
	if s := server.ClientSessionFromContext(ctx); s != nil {
		return s.SessionID()
	}
	return ""
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
