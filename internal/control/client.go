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

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/policy"
)

// Client drives a running AgentVault through its control socket.
type Client struct {
	http *http.Client
}

var _ core.API = (*Client)(nil)

// Dial connects to the control socket at path; it fails at once when no
// server is listening there. Before anything is sent it checks that the
// socket is the user's own and open to no one else, and that the process
// listening runs as the user (a socket another user planted would
// otherwise receive the user's secrets); ErrNotRunning means nothing
// listens there.
func Dial(path string) (*Client, error) {
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
	return &Client{http: &http.Client{Transport: &http.Transport{DialContext: dial}, Timeout: 5 * time.Minute}}, nil
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
			return nil, fmt.Errorf("%s (%w)", e.Error, core.ErrNotFound)
		}
		return nil, errors.New(e.Error)
	}
	return resp, nil
}

func (c *Client) call(ctx context.Context, method string, params, out any) error {
	resp, err := c.post(ctx, method, params)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(out)
}

// AddService implements core.API.
func (c *Client) AddService(spec core.ServiceSpec) (out core.ServiceInfo, err error) {
	return out, c.call(context.Background(), "add_service", spec, &out)
}

// ConnectService implements core.API.
func (c *Client) ConnectService(spec core.ConnectSpec) (out core.ServiceInfo, err error) {
	return out, c.call(context.Background(), "connect_service", spec, &out)
}

// Services implements core.API.
func (c *Client) Services() (out []core.ServiceInfo, err error) {
	return out, c.call(context.Background(), "services", struct{}{}, &out)
}

// CreateVault implements core.API.
func (c *Client) CreateVault(spec core.VaultSpec) (out core.NewVault, err error) {
	return out, c.call(context.Background(), "create_vault", spec, &out)
}

// Vaults implements core.API.
func (c *Client) Vaults() (out []core.VaultInfo, err error) {
	return out, c.call(context.Background(), "vaults", struct{}{}, &out)
}

// Vault implements core.API.
func (c *Client) Vault(ctx context.Context, ref string) (out core.VaultDetail, err error) {
	return out, c.call(ctx, "vault", refParams{ref}, &out)
}

// SetPolicy implements core.API.
func (c *Client) SetPolicy(ref, pattern string, d policy.Decision) error {
	return c.call(context.Background(), "set_policy", policyParams{ref, pattern, d}, &struct{}{})
}

// SetGuard implements core.API.
func (c *Client) SetGuard(ref string, g policy.Guard) error {
	return c.call(context.Background(), "set_guard", guardParams{ref, g}, &struct{}{})
}

// RotateToken implements core.API.
func (c *Client) RotateToken(ref string) (string, error) {
	var out tokenResult
	return out.Token, c.call(context.Background(), "rotate_token", refParams{ref}, &out)
}

// DeleteVault implements core.API.
func (c *Client) DeleteVault(ref string) error {
	return c.call(context.Background(), "delete_vault", refParams{ref}, &struct{}{})
}

// AuditList implements core.API.
func (c *Client) AuditList(ref string, limit int) (out []audit.Record, err error) {
	return out, c.call(context.Background(), "audit_list", auditParams{ref, limit}, &out)
}

// AuditExport implements core.API.
func (c *Client) AuditExport(w io.Writer, format, ref string) error {
	resp, err := c.post(context.Background(), "audit_export", exportParams{ref, format})
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

// Approvals implements core.API.
func (c *Client) Approvals() (out core.Approvals, err error) {
	return out, c.call(context.Background(), "approvals", struct{}{}, &out)
}

// Approval implements core.API.
func (c *Client) Approval(ctx context.Context, ref string) (out approval.Resolved, err error) {
	return out, c.call(ctx, "approval", refParams{ref}, &out)
}

// AnswerApproval implements core.API.
func (c *Client) AnswerApproval(ctx context.Context, ref string, a approval.Answer) (out approval.Resolved, err error) {
	return out, c.call(ctx, "answer_approval", answerParams{ref, a}, &out)
}

// SetGrantLimit implements core.API.
func (c *Client) SetGrantLimit(ctx context.Context, ref string, d time.Duration) error {
	return c.call(ctx, "set_grant_limit", timeoutParams{ref, d}, &struct{}{})
}

// ReplacePolicy implements core.API.
func (c *Client) ReplacePolicy(ref string, p policy.Policy) error {
	return c.call(context.Background(), "replace_policy", replaceParams{ref, p}, &struct{}{})
}

// SetPaused implements core.API.
func (c *Client) SetPaused(paused bool) error {
	return c.call(context.Background(), "set_paused", pauseParams{paused}, &struct{}{})
}

// Status implements core.API.
func (c *Client) Status() (out core.Status, err error) {
	return out, c.call(context.Background(), "status", struct{}{}, &out)
}

// Auth0Setup implements core.API.
func (c *Client) Auth0Setup(domain, clientID, clientSecret string) error {
	return c.call(context.Background(), "auth0_setup", auth0SetupParams{domain, clientID, clientSecret}, &struct{}{})
}

// Auth0Status implements core.API.
func (c *Client) Auth0Status() (out core.Auth0Status, err error) {
	return out, c.call(context.Background(), "auth0_status", struct{}{}, &out)
}

// Auth0SaveSession implements core.API.
func (c *Client) Auth0SaveSession(subject, refreshToken string) error {
	return c.call(context.Background(), "auth0_save_session", auth0SessionParams{subject, refreshToken}, &struct{}{})
}

// Auth0Logout implements core.API.
func (c *Client) Auth0Logout() error {
	return c.call(context.Background(), "auth0_logout", struct{}{}, &struct{}{})
}

// ExportVault implements core.API.
func (c *Client) ExportVault(ref string) (out policy.Template, err error) {
	return out, c.call(context.Background(), "export_vault", refParams{ref}, &out)
}

// ImportVault implements core.API.
func (c *Client) ImportVault(t policy.Template, name string) (out core.NewVault, err error) {
	return out, c.call(context.Background(), "import_vault", importParams{t, name}, &out)
}

// SetExpiry implements core.API.
func (c *Client) SetExpiry(ref string, t time.Time) error {
	return c.call(context.Background(), "set_expiry", expiryParams{ref, t}, &struct{}{})
}

// ReviewService implements core.API.
func (c *Client) ReviewService(ctx context.Context, name string) (out []core.ToolChange, err error) {
	return out, c.call(ctx, "review_service", refParams{name}, &out)
}

// AcceptService implements core.API.
func (c *Client) AcceptService(ctx context.Context, name string) error {
	return c.call(ctx, "accept_service", refParams{name}, &struct{}{})
}

// SetRateLimit implements core.API.
func (c *Client) SetRateLimit(ref, pattern, spec string) error {
	return c.call(context.Background(), "set_rate_limit", limitParams{ref, pattern, spec}, &struct{}{})
}

// ApplyPreset implements core.API.
func (c *Client) ApplyPreset(ctx context.Context, ref, name string) error {
	return c.call(ctx, "apply_preset", presetParams{ref, name}, &struct{}{})
}

// RemoveService implements core.API.
func (c *Client) RemoveService(name string) error {
	return c.call(context.Background(), "remove_service", refParams{name}, &struct{}{})
}

// SetApprovalTimeout implements core.API.
func (c *Client) SetApprovalTimeout(ref string, d time.Duration) error {
	return c.call(context.Background(), "set_approval_timeout", timeoutParams{ref, d}, &struct{}{})
}

// Limits implements core.API.
func (c *Client) Limits(ctx context.Context) (out core.Limits, err error) {
	return out, c.call(ctx, "limits", struct{}{}, &out)
}

// SetLimits implements core.API.
func (c *Client) SetLimits(ctx context.Context, l core.Limits) error {
	return c.call(ctx, "set_limits", l, &struct{}{})
}
