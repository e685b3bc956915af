package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
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
	private      bool // the service holds private data (providers.PrivateData)
}

// hints are the tool's description line and behaviour hints, for an
// approval prompt.
func (t exposedTool) hints() approval.Hints {
	a := t.def.Annotations
	return approval.Hints{Description: approval.DescriptionLine(t.def.Description), ReadOnly: a.ReadOnlyHint,
		Destructive: a.DestructiveHint, OpenWorld: a.OpenWorldHint, Idempotent: a.IdempotentHint, Declared: !t.private}
}

// policyTool is the tool as policy decides on it.
func (t exposedTool) policyTool() policy.Tool {
	return providers.Exposed{Service: t.service, Name: t.name, Def: t.def, Private: t.private}.Policy()
}

// state is an immutable snapshot of a vault: swapped whole, read without locks.
type state struct {
	vault     Vault
	tools     map[string]exposedTool      // exposed name → tool, blocked ones included
	decisions map[string]policy.Result    // exposed name → decision under vault.Policy
	roles     map[string]policy.FlowRoles // exposed name → what it is to data flow

	listOnce sync.Once // the encoded tools/list result, made on first use
	list     []byte    // nil if it cannot be encoded: mcp-go answers then
}

func newState(v Vault, tools map[string]exposedTool) *state {
	st := &state{vault: v, tools: tools, decisions: make(map[string]policy.Result, len(tools)),
		roles: make(map[string]policy.FlowRoles, len(tools))}
	for name, t := range tools {
		pt := t.policyTool()
		st.decisions[name], st.roles[name] = policy.Decide(v.Policy, pt), v.Policy.Flow.Roles(pt)
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

	life   context.Context // ends with the endpoint: background reloads stop
	cancel context.CancelFunc

	mu          sync.Mutex // serialises state changes and tool reloads
	fingerprint []byte     // of the registered tool definitions
	limits      limiter
	taints      taints // sessions that have called a data-flow source
}

func newEndpoint(s *Server, v Vault) *endpoint {
	e := &endpoint{srv: s}
	e.life, e.cancel = context.WithCancel(context.Background())
	e.ids = newSessionIDs(func() int { return s.currentLimits().MaxSessions },
		func(id string, evicted bool) {
			if evicted {
				// Ended by AgentVault to make room: mcp-go forgets it too.
				e.mcp.UnregisterSession(context.Background(), id)
			}
			e.taints.end(id)
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
		ctx, cancel := context.WithTimeout(e.life, time.Minute)
		defer cancel()
		e.reload(ctx)
	}()
}

func (e *endpoint) close() {
	e.cancel()
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
		tools[def.Name] = exposedTool{service: t.Service, name: t.Name, def: def, paramHeaders: len(mcp.ExtractParamHeaderBindings(&def)) > 0, private: t.Private}
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
			out = append(out, st.honest(t))
		}
	}
	return out
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
