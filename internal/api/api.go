// Package api is what AgentVault's user interfaces — the window, the tray,
// the CLI — can ask of it: the API interface and the values it takes and
// returns. The core implements it in process; the control socket's client
// implements it for a running AgentVault.
//
// It holds no behaviour beyond describing those values, and it must never
// import what holds secrets or runs services (store, secrets, providers,
// the MCP server): a user interface that imports only this package cannot
// reach them.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
)

// API is what user interfaces can do. Every method takes the caller's
// context first; answers a user may act on come back as errors in words.
type API interface {
	// ServiceKinds lists the first-party services AgentVault can connect.
	ServiceKinds(ctx context.Context) []Kind
	// AddService configures an upstream MCP server.
	AddService(ctx context.Context, spec ServiceSpec) (ServiceInfo, error)
	// ConnectService adds or reconnects GitHub, Google, Slack or Jira with a
	// finished sign-in.
	ConnectService(ctx context.Context, spec ConnectSpec) (ServiceInfo, error)
	// SignIn signs in to a first-party service where the caller is (it
	// may open the caller's browser or show a device code through s's
	// callbacks) and connects it.
	SignIn(ctx context.Context, kind string, s SignIn) (ServiceInfo, error)
	// Services lists the configured services.
	Services(ctx context.Context) ([]ServiceInfo, error)
	// RemoveService removes a service from AgentVault and from every vault.
	RemoveService(ctx context.Context, name string) error
	// ReviewService lists how a service's tools differ from the accepted ones.
	ReviewService(ctx context.Context, name string) ([]ToolChange, error)
	// AcceptService accepts a service's tools as offered now.
	AcceptService(ctx context.Context, name string) error

	// CreateVault makes a vault, with its preset if the spec names one, all
	// or nothing; the token in the result is shown only now.
	CreateVault(ctx context.Context, spec VaultSpec) (NewVault, error)
	// Vaults lists the vaults.
	Vaults(ctx context.Context) ([]VaultInfo, error)
	// Vault describes one vault (by id or name) with its tools and decisions.
	Vault(ctx context.Context, ref string) (VaultDetail, error)
	// SetVaultServices sets the services whose tools a vault offers.
	SetVaultServices(ctx context.Context, ref string, services []string) error
	// SetRule sets (or, with no decision, removes) a vault's rule for a
	// tool name or pattern. A pattern none of the vault's tools matches is
	// refused, naming the closest tools, unless Anyway; while a service
	// cannot say what it offers, it is kept with a warning, for people.
	SetRule(ctx context.Context, ref string, r RuleSpec) (warning string, err error)
	// SetGuard sets a vault's argument guard; no Allow entries removes it.
	SetGuard(ctx context.Context, ref string, g policy.Guard) error
	// ApplyPreset replaces a vault's rules and limits with a built-in preset.
	ApplyPreset(ctx context.Context, ref, name string) error
	// SetRateLimit limits a vault's calls ("off" removes the limit).
	SetRateLimit(ctx context.Context, ref, pattern, spec string) error
	// SetApprovalTimeout sets how long a vault's calls wait for approval.
	SetApprovalTimeout(ctx context.Context, ref string, d time.Duration) error
	// SetGrantLimit sets how long a vault's "approve for this session"
	// answers last at most (0: 8 hours, the most allowed).
	SetGrantLimit(ctx context.Context, ref string, d time.Duration) error
	// SetExpiry renews a vault until t; zero: it never expires.
	SetExpiry(ctx context.Context, ref string, t time.Time) error
	// SetFlow changes a vault's data-flow protection.
	SetFlow(ctx context.Context, ref string, f FlowSpec) error
	// ExplainTool says how a call of tool would be decided in a vault now,
	// and why, step by step: what `vault explain` prints.
	ExplainTool(ctx context.Context, ref, tool string, e ExplainSpec) (policy.Explanation, error)
	// ExportVault returns a vault's shareable template.
	ExportVault(ctx context.Context, ref string) (policy.Template, error)
	// ImportVault creates a vault from a template (name "" keeps the template's).
	ImportVault(ctx context.Context, t policy.Template, name string) (NewVault, error)
	// ReplacePolicy replaces all of a vault's rules and guards.
	ReplacePolicy(ctx context.Context, ref string, p policy.Policy) error
	// RotateToken replaces a vault's token and returns the new one.
	RotateToken(ctx context.Context, ref string) (string, error)
	// DeleteVault removes a vault.
	DeleteVault(ctx context.Context, ref string) error

	// SetPaused pauses or resumes every agent.
	SetPaused(ctx context.Context, paused bool) error
	// Status summarises the service.
	Status(ctx context.Context) (Status, error)
	// Limits returns the limits on what one vault's agents may hold.
	Limits(ctx context.Context) (Limits, error)
	// SetLimits changes them; they apply to what comes next.
	SetLimits(ctx context.Context, l Limits) error

	// AuditList returns the newest rows q selects, oldest first: one per
	// call unless q.Phases.
	AuditList(ctx context.Context, q AuditQuery) ([]audit.Record, error)
	// AuditExport writes the rows q selects as "jsonl" or "csv" (q.Limit
	// is ignored).
	AuditExport(ctx context.Context, w io.Writer, format string, q AuditQuery) error

	// Approvals lists calls waiting for approval and recent answers.
	Approvals(ctx context.Context) (Approvals, error)
	// Approval returns a waiting or recently answered call, by id or code,
	// with its complete arguments.
	Approval(ctx context.Context, ref string) (approval.Resolved, error)
	// AnswerApproval answers a waiting call (by id or code) and returns the
	// call it settled; answering one that is settled or unknown fails and
	// says why.
	AnswerApproval(ctx context.Context, ref string, a approval.Answer) (approval.Resolved, error)

	// Auth0Setup records the user's tenant; the secret goes to the keychain.
	Auth0Setup(ctx context.Context, domain, clientID, clientSecret string) error
	// Auth0Status describes the Auth0 setup.
	Auth0Status(ctx context.Context) (Auth0Status, error)
	// Auth0SaveSession keeps a login's result and turns phone approvals on.
	Auth0SaveSession(ctx context.Context, subject, refreshToken string) error
	// Auth0Logout forgets the Auth0 session.
	Auth0Logout(ctx context.Context) error

	// Clients lists the MCP clients AgentVault has setup instructions for.
	Clients(ctx context.Context) []string
	// ClientSetup is what a user pastes into client (by name) to add v.
	ClientSetup(ctx context.Context, client string, v SetupVault) Snippet
	// ScanClients lists the MCP clients' config files the user has, with
	// their servers.
	ScanClients(ctx context.Context, p Places) ([]ClientConfig, error)
	// ImportClient moves a client's servers behind a vault: each becomes a
	// service, and the client's config reaches them through the vault.
	ImportClient(ctx context.Context, spec ImportSpec) (ImportResult, error)
	// WriteClient adds a vault to a client's config file.
	WriteClient(ctx context.Context, spec ClientSetup) (EditResult, error)
	// UndoClient reverses AgentVault's edits of a client's config files,
	// keeping everything changed since.
	UndoClient(ctx context.Context, spec ClientUndo) (EditResult, error)
}

// AuditQuery selects rows of the audit log.
type AuditQuery struct {
	// Vault is a vault's id or name, of one that exists or whose records
	// remain after it was deleted; "": every vault.
	Vault string `json:"vault,omitempty"`
	// Limit keeps the newest Limit rows; 0: all.
	Limit int `json:"limit,omitempty"`
	// Phases gives the records as written (an intent and an outcome for a
	// call that ran) instead of one row per call.
	Phases bool `json:"phases,omitempty"`
}

// FlowSpec is a change to a vault's data-flow protection: On turns it on
// or off; or Pattern marks the tools it matches as a Role (Is) or not, and
// Is nil removes that mark.
type FlowSpec struct {
	On      *bool       `json:"on,omitempty"`
	Role    policy.Role `json:"role,omitempty"`
	Pattern string      `json:"pattern,omitempty"`
	Is      *bool       `json:"is,omitempty"`
}

// ExplainSpec is the call to explain: its arguments (none given: guards
// are not checked), the live session whose data flow counts ("": both
// outcomes are shown), and whether guards may ask the service.
type ExplainSpec struct {
	Args    json.RawMessage `json:"args,omitempty"`
	Session string          `json:"session,omitempty"`
	Lookup  bool            `json:"lookup,omitempty"`
}

// RuleSpec is a change to one of a vault's rules.
type RuleSpec struct {
	// Pattern is a tool name, or a pattern with *.
	Pattern string `json:"pattern"`
	// Decision is what the rule decides; "" removes the rule.
	Decision policy.Decision `json:"decision,omitempty"`
	// Anyway keeps a pattern that matches none of the vault's tools (a
	// tool to come, a template's rule).
	Anyway bool `json:"anyway,omitempty"`
}

// SetupVault is a vault as a client's setup names it.
type SetupVault struct {
	// Vault is the vault's name; URL and Token reach it.
	Vault, URL, Token string
	// Program (the agentvault program) and Data (the data folder) start
	// the stdio bridge, for clients that only start commands.
	Program, Data string
}

// Snippet is what a user pastes into a client to add a vault, and where.
type Snippet struct {
	Where string `json:"where"`
	Text  string `json:"text"`
	// Run starts the client, an agent with a shell, contained with the
	// vault as its way to tools ("": not such an agent).
	Run string `json:"run,omitempty"`
}

// ErrNotFound means no vault, service or approval matches the reference.
var ErrNotFound = errors.New("not found")

// Kind is a first-party service AgentVault has its own tools for.
type Kind struct {
	// Kind is how users name it (github); Title how it is shown (GitHub).
	Kind  string `json:"kind"`
	Title string `json:"title"`
}

// Status is what the tray shows.
type Status struct {
	Vaults   int  `json:"vaults"`
	Sessions int  `json:"sessions"`
	Pending  int  `json:"pending"`
	Paused   bool `json:"paused"`
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
	// Check starts (or reaches) the server and lists its tools before
	// saving: a server that does not answer is refused with the reason, and
	// the tools it lists are the first accepted ones.
	Check bool `json:"check,omitempty"`
	// Contain runs a command in a sandbox (hiding the session bus,
	// AgentVault's data and the user's credential files); nil: wherever
	// this machine has one.
	Contain *bool `json:"contain,omitempty"`
}

// ServiceInfo describes a configured service; secret values are never shown.
type ServiceInfo struct {
	Name    string   `json:"name"`
	Kind    string   `json:"kind"`
	Command string   `json:"command,omitempty"`
	URL     string   `json:"url,omitempty"`
	Headers []string `json:"headers,omitempty"`
	Env     []string `json:"env,omitempty"` // names only
	PassEnv []string `json:"pass_env,omitempty"`
	// Contained says a command runs in a sandbox.
	Contained bool `json:"contained,omitempty"`
	// Account, Scopes and Auth describe a first-party service's sign-in.
	Account string   `json:"account,omitempty"`
	Scopes  []string `json:"scopes,omitempty"`
	Auth    string   `json:"auth,omitempty"`
	// Grants says, line by line, what the sign-in lets an agent do.
	Grants []string `json:"grants,omitempty"`
	// Unavailable are tools the sign-in's scopes do not allow: offered to
	// no vault.
	Unavailable []MissingTool `json:"unavailable,omitempty"`
	// Status says, in words, whether the server is reachable.
	Status string `json:"status,omitempty"`
}

// MissingTool is a tool a connection cannot use, with the scopes that
// would allow it.
type MissingTool struct {
	Tool   string   `json:"tool"`
	Scopes []string `json:"scopes"`
}

// ConnectSpec is a finished sign-in to a first-party service.
type ConnectSpec struct {
	// Kind is github, google, slack or jira; Name is the service name
	// ("" = Kind), which prefixes its tools.
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	// Auth is "token" (a bearer token that may refresh with ClientID),
	// "basic" (Jira: Email and APIToken) or "auth0" (Token Vault).
	Auth string `json:"auth"`
	// Token is the bearer token, with its refresh token when there is one.
	Token *oauth2.Token `json:"token,omitempty"`
	// ClientID and ClientSecret refresh Token (the secret where the
	// service requires one: Atlassian, Google's desktop clients).
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Email        string `json:"email,omitempty"`
	APIToken     string `json:"api_token,omitempty"`
	// Connection is the Auth0 connection (Auth "auth0"); "" = the kind's.
	Connection string `json:"connection,omitempty"`
	// APIURL is the API root ("" = the public service's; Jira: the site or
	// https://api.atlassian.com/ex/jira/{cloudId}); Site is Jira's web site.
	APIURL string `json:"api_url,omitempty"`
	Site   string `json:"site,omitempty"`
	// Scopes are what the sign-in granted; nil: not reported.
	Scopes  []string `json:"scopes,omitempty"`
	Account string   `json:"account,omitempty"`
}

// SignIn says how to sign in to a first-party service.
type SignIn struct {
	// Name is the service name ("" = the kind).
	Name string
	// Token is a pasted token (GitHub, Slack; Jira's API token with Site
	// and Email); when set, no browser is involved.
	Token string
	// ClientID (and ClientSecret where the service needs one) identify the
	// user's own OAuth app for a browser or device-code sign-in.
	ClientID, ClientSecret string
	// Auth0 uses Token Vault (Connection: "" = the kind's own), linking the
	// provider account to Auth0 in the browser when it is not yet.
	Auth0      bool
	Connection string
	// APIURL overrides the API root (GitHub Enterprise); Site and Email are
	// Jira's.
	APIURL, Site, Email string
	// Scopes to ask for; nil: enough for every tool.
	Scopes []string
	// Open shows a sign-in page to the user (starts the browser); nil: no
	// browser sign-in is possible.
	Open func(url string) error
	// ShowCode shows GitHub's device code and where to enter it.
	ShowCode func(code, uri string)
}

// ToolChange is an upstream tool that differs from what the user accepted.
type ToolChange struct {
	Tool string `json:"tool"`
	// Kind is "new", "changed" or "removed".
	Kind string `json:"kind"`
	// Accepted and Offered are the definitions before and now (JSON).
	Accepted json.RawMessage `json:"accepted,omitempty"`
	Offered  json.RawMessage `json:"offered,omitempty"`
}

// Auth0Status describes the Auth0 setup; it never holds a secret.
type Auth0Status struct {
	Configured bool   `json:"configured"`
	Domain     string `json:"domain,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	LoggedIn   bool   `json:"logged_in"`
	Subject    string `json:"subject,omitempty"`
	// PhoneApprovals says the CIBA channel is asking for approvals.
	PhoneApprovals bool `json:"phone_approvals"`
}
