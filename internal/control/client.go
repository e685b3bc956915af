package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/services"
	"github.com/agentvault/agentvault/policy"
)

// Client drives a running AgentVault through its control socket.
type Client struct {
	http    *http.Client
	secrets secrets.Store // this process's keychain, for sign-ins run here
}

var _ api.API = (*Client)(nil)

// Dial connects to the control socket at path, with keys as this process's
// keychain (for sign-ins that run in this process); it fails at once when no
// server is listening there. Before anything is sent it checks that the
// socket is the user's own and open to no one else, and that the process
// listening runs as the user (a socket another user planted would
// otherwise receive the user's secrets); ErrNotRunning means nothing
// listens there.
func Dial(path string, keys secrets.Store) (*Client, error) {
	if err := private.Socket(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, ErrNotRunning
		}
		return nil, err
	}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return nil, err
		}
		if _, err := trusted(c); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn, err := dial(ctx, "", "")
	if errors.Is(err, errForeignPeer) || errors.Is(err, errNoPeerCredentials) {
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrNotRunning, err)
	}
	conn.Close()
	return &Client{http: &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 5 * time.Minute}, secrets: keys}, nil
}

// ErrNotRunning means no AgentVault listens on the control socket.
var ErrNotRunning = errors.New("AgentVault is not running")

func (c *Client) post(ctx context.Context, method string, params any) (*http.Response, error) {
	body, err := json.Marshal(params)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://agentvault/v1/"+method, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("talking to the running AgentVault: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		defer resp.Body.Close()
		var e errorResponse
		if json.NewDecoder(io.LimitReader(resp.Body, maxRequest)).Decode(&e) != nil || e.Error == "" {
			e.Error = resp.Status
		}
		if resp.StatusCode == http.StatusNotFound {
			return nil, fmt.Errorf("%s (%w)", e.Error, api.ErrNotFound)
		}
		return nil, errors.New(e.Error)
	}
	return resp, nil
}

// call posts params to method and decodes the result.
func call[R any](ctx context.Context, c *Client, method string, params any) (R, error) {
	var out R
	resp, err := c.post(ctx, method, params)
	if err != nil {
		return out, err
	}
	defer resp.Body.Close()
	return out, json.NewDecoder(resp.Body).Decode(&out)
}

// do posts params to method, which returns nothing.
func do(ctx context.Context, c *Client, method string, params any) error {
	_, err := call[none](ctx, c, method, params)
	return err
}

// ServiceKinds implements api.API, from the table this program was built
// with, which the server's is.
func (c *Client) ServiceKinds(context.Context) []api.Kind { return services.Kinds() }

// AddService implements api.API.
func (c *Client) AddService(ctx context.Context, spec api.ServiceSpec) (api.ServiceInfo, error) {
	return call[api.ServiceInfo](ctx, c, "add_service", spec)
}

// ConnectService implements api.API.
func (c *Client) ConnectService(ctx context.Context, spec api.ConnectSpec) (api.ServiceInfo, error) {
	return call[api.ServiceInfo](ctx, c, "connect_service", spec)
}

// SignIn implements api.API: the sign-in runs in this process (its browser,
// its terminal), with this process's keychain for an Auth0 session; the
// running AgentVault then keeps the connection.
func (c *Client) SignIn(ctx context.Context, kind string, s api.SignIn) (api.ServiceInfo, error) {
	tenant := func() (api.Auth0Status, error) { return c.Auth0Status(ctx) }
	spec, err := services.SignInWith(ctx, kind, s, tenant, c.secrets)
	if err != nil {
		return api.ServiceInfo{}, err
	}
	return c.ConnectService(ctx, spec)
}

// Services implements api.API.
func (c *Client) Services(ctx context.Context) ([]api.ServiceInfo, error) {
	return call[[]api.ServiceInfo](ctx, c, "services", none{})
}

// RemoveService implements api.API.
func (c *Client) RemoveService(ctx context.Context, name string) error {
	return do(ctx, c, "remove_service", nameParams{name})
}

// ReviewService implements api.API.
func (c *Client) ReviewService(ctx context.Context, name string) ([]api.ToolChange, error) {
	return call[[]api.ToolChange](ctx, c, "review_service", nameParams{name})
}

// AcceptService implements api.API.
func (c *Client) AcceptService(ctx context.Context, name string) error {
	return do(ctx, c, "accept_service", nameParams{name})
}

// CreateVault implements api.API.
func (c *Client) CreateVault(ctx context.Context, spec api.VaultSpec) (api.NewVault, error) {
	return call[api.NewVault](ctx, c, "create_vault", spec)
}

// Vaults implements api.API.
func (c *Client) Vaults(ctx context.Context) ([]api.VaultInfo, error) {
	return call[[]api.VaultInfo](ctx, c, "vaults", none{})
}

// Vault implements api.API.
func (c *Client) Vault(ctx context.Context, ref string) (api.VaultDetail, error) {
	return call[api.VaultDetail](ctx, c, "vault", refParams{ref})
}

// SetVaultServices implements api.API.
func (c *Client) SetVaultServices(ctx context.Context, ref string, services []string) error {
	return do(ctx, c, "set_vault_services", servicesParams{ref, services})
}

// SetRule implements api.API.
func (c *Client) SetRule(ctx context.Context, ref string, r api.RuleSpec) (string, error) {
	return call[string](ctx, c, "set_rule", ruleParams{ref, r})
}

// SetFlow implements api.API.
func (c *Client) SetFlow(ctx context.Context, ref string, f api.FlowSpec) error {
	return do(ctx, c, "set_flow", flowParams{ref, f})
}

// ExplainTool implements api.API.
func (c *Client) ExplainTool(ctx context.Context, ref, tool string, e api.ExplainSpec) (policy.Explanation, error) {
	return call[policy.Explanation](ctx, c, "explain_tool", explainParams{ref, tool, e})
}

// SetGuard implements api.API.
func (c *Client) SetGuard(ctx context.Context, ref string, g policy.Guard) error {
	return do(ctx, c, "set_guard", guardParams{ref, g})
}

// ApplyPreset implements api.API.
func (c *Client) ApplyPreset(ctx context.Context, ref, name string) error {
	return do(ctx, c, "apply_preset", presetParams{ref, name})
}

// SetRateLimit implements api.API.
func (c *Client) SetRateLimit(ctx context.Context, ref, pattern, spec string) error {
	return do(ctx, c, "set_rate_limit", limitParams{ref, pattern, spec})
}

// SetApprovalTimeout implements api.API.
func (c *Client) SetApprovalTimeout(ctx context.Context, ref string, d time.Duration) error {
	return do(ctx, c, "set_approval_timeout", durationParams{ref, d})
}

// SetGrantLimit implements api.API.
func (c *Client) SetGrantLimit(ctx context.Context, ref string, d time.Duration) error {
	return do(ctx, c, "set_grant_limit", durationParams{ref, d})
}

// SetExpiry implements api.API.
func (c *Client) SetExpiry(ctx context.Context, ref string, t time.Time) error {
	return do(ctx, c, "set_expiry", expiryParams{ref, t})
}

// ExportVault implements api.API.
func (c *Client) ExportVault(ctx context.Context, ref string) (policy.Template, error) {
	return call[policy.Template](ctx, c, "export_vault", refParams{ref})
}

// ImportVault implements api.API.
func (c *Client) ImportVault(ctx context.Context, t policy.Template, name string) (api.NewVault, error) {
	return call[api.NewVault](ctx, c, "import_vault", importParams{t, name})
}

// ReplacePolicy implements api.API.
func (c *Client) ReplacePolicy(ctx context.Context, ref string, p policy.Policy) error {
	return do(ctx, c, "replace_policy", replaceParams{ref, p})
}

// RotateToken implements api.API.
func (c *Client) RotateToken(ctx context.Context, ref string) (string, error) {
	out, err := call[tokenResult](ctx, c, "rotate_token", refParams{ref})
	return out.Token, err
}

// DeleteVault implements api.API.
func (c *Client) DeleteVault(ctx context.Context, ref string) error {
	return do(ctx, c, "delete_vault", refParams{ref})
}

// SetPaused implements api.API.
func (c *Client) SetPaused(ctx context.Context, paused bool) error {
	return do(ctx, c, "set_paused", pauseParams{paused})
}

// Status implements api.API.
func (c *Client) Status(ctx context.Context) (api.Status, error) {
	return call[api.Status](ctx, c, "status", none{})
}

// Limits implements api.API.
func (c *Client) Limits(ctx context.Context) (api.Limits, error) {
	return call[api.Limits](ctx, c, "limits", none{})
}

// SetLimits implements api.API.
func (c *Client) SetLimits(ctx context.Context, l api.Limits) error {
	return do(ctx, c, "set_limits", l)
}

// AuditList implements api.API.
func (c *Client) AuditList(ctx context.Context, q api.AuditQuery) ([]audit.Record, error) {
	return call[[]audit.Record](ctx, c, "audit_list", q)
}

// AuditExport implements api.API.
func (c *Client) AuditExport(ctx context.Context, w io.Writer, format string, q api.AuditQuery) error {
	resp, err := c.post(ctx, "audit_export", exportParams{format, q})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return err
	}
	if resp.Trailer.Get(trailerOK) != "1" {
		return errors.New("the export was cut short; see the AgentVault log")
	}
	return nil
}

// Raise opens the running app's window; a headless server answers that it
// has none (ErrNoWindow).
func (c *Client) Raise(ctx context.Context) error {
	err := do(ctx, c, "raise", none{})
	if err != nil && err.Error() == ErrNoWindow.Error() {
		return ErrNoWindow
	}
	return err
}

// ScanClients implements api.API.
func (c *Client) ScanClients(ctx context.Context, p api.Places) ([]api.ClientConfig, error) {
	return call[[]api.ClientConfig](ctx, c, "scan_clients", p)
}

// ImportClient implements api.API.
func (c *Client) ImportClient(ctx context.Context, spec api.ImportSpec) (api.ImportResult, error) {
	return call[api.ImportResult](ctx, c, "import_client", spec)
}

// WriteClient implements api.API.
func (c *Client) WriteClient(ctx context.Context, spec api.ClientSetup) (api.EditResult, error) {
	return call[api.EditResult](ctx, c, "write_client", spec)
}

// UndoClient implements api.API.
func (c *Client) UndoClient(ctx context.Context, spec api.ClientUndo) (api.EditResult, error) {
	return call[api.EditResult](ctx, c, "undo_client", spec)
}

// Approvals implements api.API.
func (c *Client) Approvals(ctx context.Context) (api.Approvals, error) {
	return call[api.Approvals](ctx, c, "approvals", none{})
}

// Approval implements api.API.
func (c *Client) Approval(ctx context.Context, ref string) (approval.Resolved, error) {
	return call[approval.Resolved](ctx, c, "approval", refParams{ref})
}

// AnswerApproval implements api.API.
func (c *Client) AnswerApproval(ctx context.Context, ref string, a approval.Answer) (approval.Resolved, error) {
	return call[approval.Resolved](ctx, c, "answer_approval", answerParams{ref, a})
}

// Auth0Setup implements api.API.
func (c *Client) Auth0Setup(ctx context.Context, domain, clientID, clientSecret string) error {
	return do(ctx, c, "auth0_setup", auth0SetupParams{domain, clientID, clientSecret})
}

// Auth0Status implements api.API.
func (c *Client) Auth0Status(ctx context.Context) (api.Auth0Status, error) {
	return call[api.Auth0Status](ctx, c, "auth0_status", none{})
}

// Auth0SaveSession implements api.API.
func (c *Client) Auth0SaveSession(ctx context.Context, subject, refreshToken string) error {
	return do(ctx, c, "auth0_save_session", auth0SessionParams{subject, refreshToken})
}

// Auth0Logout implements api.API.
func (c *Client) Auth0Logout(ctx context.Context) error {
	return do(ctx, c, "auth0_logout", none{})
}

// Clients implements api.API, from the table this program was built with.
func (c *Client) Clients(context.Context) []string { return clientsetup.Names() }

// ClientSetup implements api.API, as Clients.
func (c *Client) ClientSetup(_ context.Context, client string, v api.SetupVault) api.Snippet {
	return api.SnippetFor(client, v)
}
