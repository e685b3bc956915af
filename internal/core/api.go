package core

import (
	"context"
	"io"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// API is what user interfaces can do. *Core implements it in process;
// control.Client implements it over the control socket of a running server.
type API interface {
	// AddService configures an upstream MCP server.
	AddService(spec ServiceSpec) (ServiceInfo, error)
	// ConnectService adds or reconnects GitHub, Google, Slack or Jira.
	ConnectService(spec ConnectSpec) (ServiceInfo, error)
	// Services lists the configured services.
	Services() ([]ServiceInfo, error)
	// RemoveService removes a service from AgentVault and from every vault.
	RemoveService(name string) error
	// ReviewService lists how a service's tools differ from the accepted ones.
	ReviewService(ctx context.Context, name string) ([]ToolChange, error)
	// AcceptService accepts a service's tools as offered now.
	AcceptService(ctx context.Context, name string) error
	// CreateVault makes a vault; the token in the result is shown only now.
	CreateVault(spec VaultSpec) (NewVault, error)
	// Vaults lists the vaults.
	Vaults() ([]VaultInfo, error)
	// Vault describes one vault (by id or name) with its tools and decisions.
	Vault(ctx context.Context, ref string) (VaultDetail, error)
	// SetPolicy sets a vault's decision for a tool name or pattern.
	SetPolicy(ref, pattern string, d policy.Decision) error
	// SetGuard sets a vault's argument guard; no Allow entries removes it.
	SetGuard(ref string, g policy.Guard) error
	// ApplyPreset replaces a vault's rules and limits with a built-in preset.
	ApplyPreset(ctx context.Context, ref, name string) error
	// SetRateLimit limits a vault's calls ("off" removes the limit).
	SetRateLimit(ref, pattern, spec string) error
	// SetApprovalTimeout sets how long a vault's calls wait for approval.
	SetApprovalTimeout(ref string, d time.Duration) error
	// SetExpiry renews a vault until t; zero: it never expires.
	SetExpiry(ref string, t time.Time) error
	// ExportVault returns a vault's shareable template.
	ExportVault(ref string) (policy.Template, error)
	// ImportVault creates a vault from a template (name "" keeps the template's).
	ImportVault(t policy.Template, name string) (NewVault, error)
	// ReplacePolicy replaces all of a vault's rules.
	ReplacePolicy(ref string, p policy.Policy) error
	// SetPaused pauses or resumes every agent.
	SetPaused(paused bool) error
	// Status summarises the service.
	Status() (Status, error)
	// RotateToken replaces a vault's token and returns the new one.
	RotateToken(ref string) (string, error)
	// DeleteVault removes a vault.
	DeleteVault(ref string) error
	// AuditList returns the newest records, oldest first.
	AuditList(ref string, limit int) ([]audit.Record, error)
	// AuditExport writes the audit log as "jsonl" or "csv".
	AuditExport(w io.Writer, format, ref string) error
	// Approvals lists calls waiting for approval and recent answers.
	Approvals() (Approvals, error)
	// Approval returns a waiting or recently answered call, by id or code,
	// with its complete arguments.
	Approval(ctx context.Context, ref string) (approval.Resolved, error)
	// AnswerApproval answers a waiting call (by id or code) and returns the
	// call it settled; answering one that is settled or unknown fails and
	// says why.
	AnswerApproval(ctx context.Context, ref string, a approval.Answer) (approval.Resolved, error)
	// Limits returns the limits on what one vault's agents may hold.
	Limits(ctx context.Context) (Limits, error)
	// SetLimits changes them; they apply to what comes next.
	SetLimits(ctx context.Context, l Limits) error
	// SetGrantLimit sets how long a vault's "approve for this session"
	// answers last at most (0: 8 hours, the most allowed).
	SetGrantLimit(ctx context.Context, ref string, d time.Duration) error
	// Auth0Setup records the user's tenant; the secret goes to the keychain.
	Auth0Setup(domain, clientID, clientSecret string) error
	// Auth0Status describes the Auth0 setup.
	Auth0Status() (Auth0Status, error)
	// Auth0SaveSession keeps a login's result and turns phone approvals on.
	Auth0SaveSession(subject, refreshToken string) error
	// Auth0Logout forgets the Auth0 session.
	Auth0Logout() error
}

// Limits keep one agent from starving the others: each applies to every
// vault on its own.
type Limits struct {
	// MaxPending is how many calls may wait for approval at once; a call
	// beyond it is refused at once.
	MaxPending int `json:"max_pending"`
	// MaxSessions is how many sessions may be open; a new one beyond it
	// ends the one idle longest.
	MaxSessions int `json:"max_sessions"`
	// BodyTimeout is how long a request's body may take to arrive.
	BodyTimeout time.Duration `json:"body_timeout"`
}

// Status is what the tray shows.
type Status struct {
	Vaults   int  `json:"vaults"`
	Sessions int  `json:"sessions"`
	Pending  int  `json:"pending"`
	Paused   bool `json:"paused"`
}

// Approvals is the approval queue.
type Approvals struct {
	Pending []approval.Pending  `json:"pending"`
	Recent  []approval.Resolved `json:"recent"`
}

// ServiceSpec describes an upstream MCP server to add: Command or URL.
type ServiceSpec struct {
	Name    string   `json:"name"`
	Command string   `json:"command,omitempty"`
	URL     string   `json:"url,omitempty"`
	Headers []string `json:"headers,omitempty"` // "Name: value"
	Env     []string `json:"env,omitempty"`     // "NAME=value", for commands
	// SecretEnv are "NAME=value" entries redacted wherever they would leave
	// AgentVault, whatever their names.
	SecretEnv []string `json:"secret_env,omitempty"`
	// PassEnv names variables of AgentVault's environment the command gets.
	PassEnv []string `json:"pass_env,omitempty"`
}

// ServiceInfo describes a configured service; header values are never shown.
type ServiceInfo struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Command string   `json:"command,omitempty"`
	URL     string   `json:"url,omitempty"`
	Headers []string `json:"headers,omitempty"`
	Env     []string `json:"env,omitempty"` // names only
	PassEnv []string `json:"pass_env,omitempty"`
	// Account, Scopes and Auth describe a first-party service's sign-in.
	Account string   `json:"account,omitempty"`
	Scopes  []string `json:"scopes,omitempty"`
	Auth    string   `json:"auth,omitempty"`
	// Unavailable are tools the sign-in's scopes do not allow: offered to
	// no vault.
	Unavailable []apitool.Missing `json:"unavailable,omitempty"`
	// Status says, in words, whether the server is reachable.
	Status string `json:"status,omitempty"`
}

// VaultSpec describes a vault to create.
type VaultSpec struct {
	Name     string   `json:"name"`
	Services []string `json:"services"`
	// ApprovalTimeout is how long calls wait for approval; 0: 120 s.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// Expires is when the vault stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
}

// NewVault is a created vault with its token, shown once.
type NewVault struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	URL   string `json:"url"`
	Token string `json:"token"`
}

// VaultInfo summarises a vault.
type VaultInfo struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Services []string  `json:"services"`
	Created  time.Time `json:"created"`
	// Expires is when the vault stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// ApprovalTimeout is how long calls wait for approval; 0: 2 minutes.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// GrantLimit is how long "approve for this session" lasts at most; 0:
	// 8 hours.
	GrantLimit time.Duration `json:"grant_limit,omitempty"`
}

// VaultDetail is a vault with its rules and every tool it could offer.
type VaultDetail struct {
	VaultInfo
	Rules      []policy.Rule         `json:"rules"`
	Guards     []policy.Guard        `json:"guards,omitempty"`
	RateLimits []policy.RateLimit    `json:"rate_limits,omitempty"`
	Tools      []policy.ToolDecision `json:"tools"`
	// Warning says why the tool list may be incomplete.
	Warning string `json:"warning,omitempty"`
}

// ExpiryText says whether and when the vault expires, for people.
func (v VaultInfo) ExpiryText(now time.Time) string {
	switch {
	case v.Expires.IsZero():
		return "Expires: never"
	case !now.Before(v.Expires):
		return "Expired: " + v.Expires.Local().Format(time.RFC1123) + " (renew it to let its agent in again)"
	}
	return "Expires: " + v.Expires.Local().Format(time.RFC1123)
}

// Expired reports whether the vault has expired at now.
func (v VaultInfo) Expired(now time.Time) bool { return !v.Expires.IsZero() && !now.Before(v.Expires) }
