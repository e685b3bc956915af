// Package mcpserver serves every vault as its own MCP endpoint,
// /v/{vaultID}/mcp, on one loopback listener.
//
// A request passes, in order: the Host/Origin check (loopback only, against
// DNS rebinding and browsers), a body-size limit, the vault's bearer token
// (constant-time, against a stored digest), and then the vault's own mcp-go
// server, which speaks both the session-based 2025-11-25 protocol and the
// stateless 2026-07-28 one — except for the two requests agents send most, a
// plain tools/list and a plain tools/call of an allowed tool, which the vault
// answers itself (relay.go) through the same policy and audit code. Blocked tools are filtered out of tools/list and
// refused at tools/call exactly like unknown tools. Every call that may run is
// decided by policy.Decide, approved through the Approver when needed, and
// recorded by the Auditor before and after the provider runs (fail closed).
//
// It must never answer a call that policy, the approver or the audit log has not let through, nor listen beyond loopback.
package mcpserver

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// Vault is what the server needs to know to serve one vault.
type Vault struct {
	ID   string
	Name string
	// TokenDigest is the SHA-256 of the vault's bearer token; empty: no token opens it.
	TokenDigest []byte
	// Services are the names of the services whose tools the vault offers.
	Services []string
	Policy   policy.Policy
	// ApprovalTimeout is how long a call waits for approval; 0: the approver's default.
	ApprovalTimeout time.Duration
	// Expires is when the vault stops opening; zero: never.
	Expires time.Time
	// RateLimits cap the vault's calls.
	RateLimits []policy.RateLimit
	// GrantLimit bounds how long an "approve for this session" lasts; 0:
	// the approver's default.
	GrantLimit time.Duration
}

// Catalog resolves service names to providers.
type Catalog interface {
	// Provider returns the provider of service name, if it is configured.
	Provider(name string) (providers.Provider, bool)
}

// Auditor records calls; *audit.Log implements it.
type Auditor interface {
	// Record durably appends r; an error means it is not recorded. Intent
	// records, which must be on disk before a call runs, use it.
	Record(r audit.Record) (uint64, error)
	// RecordWritten appends r to the journal file, to be synced shortly
	// after; an error means it is not recorded. Outcomes use it.
	RecordWritten(r audit.Record) (uint64, error)
	// Digest returns a keyed digest of a call's arguments.
	Digest(args any) string
}

var _ Auditor = (*audit.Log)(nil)

// Config holds the server's dependencies.
type Config struct {
	// Catalog resolves services; required.
	Catalog Catalog
	// Auditor records calls; required.
	Auditor Auditor
	// Approver answers calls whose decision is Approve; nil: DenyAll.
	Approver Approver
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// SessionIdleTimeout ends sessions idle this long; 0: 30 minutes.
	SessionIdleTimeout time.Duration
	// MaxBodyBytes limits a request body; 0: 4 MiB.
	MaxBodyBytes int64
	// ApprovalProgressInterval is how often an agent that asked for progress
	// hears that its call still waits for approval; 0: 5 s.
	ApprovalProgressInterval time.Duration
	// Now is the clock for vault expiry; nil: time.Now.
	Now func() time.Time
	// Limits keep one agent from starving the others; SetLimits changes
	// them while serving.
	Limits Limits
	// OnSessionEnd, if set, hears that an MCP session of a vault ended (the
	// agent closed it, it was idle too long, or AgentVault ended it), so
	// that what was granted to it ends too. It must not block.
	OnSessionEnd func(vaultID, session string)
	// Redactor removes the configured secrets from results, progress and
	// tool definitions before they reach an agent; nil: nothing is removed.
	Redactor Redactor
}

// Redactor removes configured secret values from text leaving AgentVault;
// *redact.Set implements it.
type Redactor interface {
	// Bytes returns b with every secret replaced, and whether any was.
	Bytes(b []byte) ([]byte, bool)
	// String returns s with every secret replaced.
	String(s string) string
	// Empty reports whether there is nothing to redact.
	Empty() bool
}

// noSecrets is the Redactor with nothing to redact.
type noSecrets struct{}

func (noSecrets) Bytes(b []byte) ([]byte, bool) { return b, false }
func (noSecrets) String(s string) string        { return s }
func (noSecrets) Empty() bool                   { return true }

// Limits bound what one vault's agents can hold of AgentVault, so that one
// agent cannot starve the rest. Zero fields take the defaults.
type Limits struct {
	// MaxPending is how many calls of one vault may wait for approval at
	// once; a call beyond it is refused at once. 0: 16.
	MaxPending int `json:"max_pending,omitempty"`
	// MaxSessions is how many sessions one vault may have open; a new one
	// beyond it ends the one idle longest. 0: 256.
	MaxSessions int `json:"max_sessions,omitempty"`
	// BodyTimeout is how long a request's body may take to arrive (an
	// approval wait, after it, is not cut). 0: 30 s.
	BodyTimeout time.Duration `json:"body_timeout,omitempty"`
}

// The defaults of Limits.
const (
	DefaultMaxPending  = 16
	DefaultMaxSessions = 256
	DefaultBodyTimeout = 30 * time.Second
)

// withDefaults fills the zero fields of l.
func (l Limits) withDefaults() Limits {
	if l.MaxPending <= 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxSessions <= 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.BodyTimeout <= 0 {
		l.BodyTimeout = DefaultBodyTimeout
	}
	return l
}

// Server routes requests to vault endpoints. Its methods are safe for
// concurrent use.
type Server struct {
	cfg    Config
	log    *slog.Logger
	limits atomic.Pointer[Limits]

	mu     sync.RWMutex
	vaults map[string]*endpoint
	paused atomic.Bool
}

// SetLimits changes the limits for what follows (open sessions and waiting
// calls stay).
func (s *Server) SetLimits(l Limits) {
	l = l.withDefaults()
	s.limits.Store(&l)
}

func (s *Server) currentLimits() Limits { return *s.limits.Load() }

// SetPaused pauses (or resumes) every agent: while paused, every tool call
// is refused and audited as denied; listing still works.
func (s *Server) SetPaused(p bool) { s.paused.Store(p) }

// Paused reports whether agents are paused.
func (s *Server) Paused() bool { return s.paused.Load() }

// Sessions counts the live MCP sessions of each vault that has some, by
// vault id (stateless clients have none).
func (s *Server) Sessions() map[string]int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]int)
	for id, e := range s.vaults {
		if n := e.ids.count(); n > 0 {
			out[id] = n
		}
	}
	return out
}

// New returns a server with no vaults.
func New(cfg Config) *Server {
	if cfg.Approver == nil {
		cfg.Approver = DenyAll{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionIdleTimeout == 0 {
		cfg.SessionIdleTimeout = 30 * time.Minute
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 4 << 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Redactor == nil {
		cfg.Redactor = noSecrets{}
	}
	if cfg.ApprovalProgressInterval == 0 {
		cfg.ApprovalProgressInterval = 5 * time.Second
	}
	s := &Server{cfg: cfg, log: cfg.Logger, vaults: map[string]*endpoint{}}
	s.SetLimits(cfg.Limits)
	return s
}

// PutVault starts serving v, or updates a served vault: a new policy reaches
// connected agents as tools/list_changed; a new token (or none) ends the
// vault's live sessions at once.
func (s *Server) PutVault(v Vault) {
	s.mu.Lock()
	e, ok := s.vaults[v.ID]
	if !ok {
		e = newEndpoint(s, v)
		s.vaults[v.ID] = e
	}
	s.mu.Unlock()
	if ok {
		e.update(v)
	}
}

// RemoveVault stops serving a vault and ends its sessions.
func (s *Server) RemoveVault(id string) {
	s.mu.Lock()
	e := s.vaults[id]
	delete(s.vaults, id)
	s.mu.Unlock()
	if e != nil {
		e.close()
	}
}

// ServiceChanged tells every vault that offers service to reload its tools.
func (s *Server) ServiceChanged(service string) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, e := range s.vaults {
		if e.offers(service) {
			e.markStale()
		}
	}
}

// Close ends every vault's sessions.
func (s *Server) Close() {
	s.mu.Lock()
	vaults := s.vaults
	s.vaults = map[string]*endpoint{}
	s.mu.Unlock()
	for _, e := range vaults {
		e.close()
	}
}

// ErrUnknownVault means no vault has that id.
var ErrUnknownVault = errors.New("unknown vault")

func (s *Server) endpoint(id string) *endpoint {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.vaults[id]
}

// ServeHTTP routes /healthz and /v/{vaultID}/mcp.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !loopbackHost(r.Host) {
		httpError(w, http.StatusForbidden, "forbidden: AgentVault only answers requests addressed to localhost")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !loopbackOrigin(origin) {
		httpError(w, http.StatusForbidden, "forbidden: cross-origin requests are not allowed")
		return
	}
	if r.URL.Path == "/healthz" {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			httpError(w, http.StatusMethodNotAllowed, "method not allowed")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/v/")
	id, tail, _ := strings.Cut(rest, "/")
	if !ok || tail != "mcp" || id == "" {
		httpError(w, http.StatusNotFound, "not found: vault endpoints are /v/{vault}/mcp")
		return
	}
	// An unknown vault answers exactly as a wrong token does, so that vault
	// ids cannot be probed without a token.
	e := s.endpoint(id)
	digest := noVault[:] // compared all the same: no timing tells an unknown vault
	if e != nil {
		digest = e.tokenDigest()
	}
	token, ok := vaulttoken.FromHeader(r.Header.Get("Authorization"))
	if !vaulttoken.Matches(token, digest) || !ok || e == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="agentvault"`)
		jsonRPCError(w, http.StatusUnauthorized, codeUnauthorized, "unauthorized: a valid bearer token for this vault is required")
		return
	}
	if exp := e.state.Load().vault.Expires; !exp.IsZero() && !s.cfg.Now().Before(exp) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="agentvault", error="invalid_token"`)
		jsonRPCError(w, http.StatusUnauthorized, codeUnauthorized, "unauthorized: this vault expired at "+exp.UTC().Format(time.RFC3339)+"; renew it in AgentVault")
		return
	}
	if r.ContentLength > s.cfg.MaxBodyBytes {
		jsonRPCError(w, http.StatusRequestEntityTooLarge, codeParseError, "request body too large")
		return
	}
	if r.Body != nil && r.Body != http.NoBody {
		r.Body = readWithin(w, http.MaxBytesReader(w, r.Body, s.cfg.MaxBodyBytes), s.currentLimits().BodyTimeout)
	}
	e.serveHTTP(w, r)
}

// noVault is the digest an unknown vault's token is compared with: no
// token has it.
var noVault [32]byte

// readWithin gives a request's body timeout to arrive: a client that sends
// it slowly holds no connection for long. The deadline ends with the body,
// so a call that then waits for approval is not cut.
func readWithin(w http.ResponseWriter, body io.ReadCloser, timeout time.Duration) io.ReadCloser {
	rc := http.NewResponseController(w)
	if rc.SetReadDeadline(time.Now().Add(timeout)) != nil {
		return body // a writer without deadlines (tests); nothing to end
	}
	return &deadlineBody{ReadCloser: body, rc: rc}
}

// deadlineBody clears the read deadline once the whole body is read; a
// body cut short keeps it, so the connection ends instead of waiting for
// the rest.
type deadlineBody struct {
	io.ReadCloser
	rc   *http.ResponseController
	done bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF && !b.done {
		b.done = true
		b.rc.SetReadDeadline(time.Time{})
	}
	return n, err
}
