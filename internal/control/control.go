// Package control lets the CLI (and other local tools) drive a running
// AgentVault through a Unix socket in the data directory, mode 0600, so
// changes apply to live sessions at once. Only processes of the user who owns
// the data directory can connect (SO_PEERCRED); vault tokens play no part
// here, so nothing an agent holds through its vault can reach it.
//
// The protocol is HTTP over the socket: POST /v1/{method} with a JSON body of
// parameters, answered with the JSON result, or a JSON {"error": "..."} with
// a non-2xx status. It must never hold state: every call is the API's.
package control

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/policy"
)

// SocketName is the control socket inside the data directory.
const SocketName = "agentvault.sock"

// SocketPath is the control socket of the data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// maxRequest bounds a control request body.
const maxRequest = 1 << 20

// The parameters of the calls, as they travel.
type (
	none           struct{}
	refParams      struct{ Ref string }
	nameParams     struct{ Name string }
	servicesParams struct {
		Ref      string
		Services []string
	}
	ruleParams struct {
		Ref  string
		Rule api.RuleSpec
	}
	exportParams struct {
		Format string
		Query  api.AuditQuery
	}
	tokenResult    struct{ Token string }
	pauseParams    struct{ Paused bool }
	durationParams struct {
		Ref      string
		Duration time.Duration
	}
	presetParams struct{ Ref, Preset string }
	guardParams  struct {
		Ref   string
		Guard policy.Guard
	}
	flowParams struct {
		Ref  string
		Flow api.FlowSpec
	}
	explainParams struct {
		Ref, Tool string
		Explain   api.ExplainSpec
	}
	limitParams  struct{ Ref, Pattern, Spec string }
	expiryParams struct {
		Ref     string
		Expires time.Time
	}
	importParams struct {
		Template policy.Template
		Name     string
	}
	auth0SetupParams   struct{ Domain, ClientID, ClientSecret string }
	auth0SessionParams struct{ Subject, RefreshToken string }
	replaceParams      struct {
		Ref    string
		Policy policy.Policy
	}
	answerParams struct {
		ID     string
		Answer approval.Answer
	}
	errorResponse struct {
		Error string `json:"error"`
	}
)

// ErrNoWindow is what raising the window of a headless server gives.
var ErrNoWindow = errors.New("AgentVault runs headless here (agentvault serve), without a window")

// Serve answers control requests on a new socket at path until ctx ends.
// A stale socket file left by a crashed process is replaced. The socket is
// mode 0600 in the private data folder, and a connection from a process of
// another user is closed before anything is read (SO_PEERCRED). raise opens
// the running app's window, for a second start; a headless server's returns
// ErrNoWindow.
func Serve(ctx context.Context, path string, a api.API, raise func() error) error {
	if err := private.Dir(filepath.Dir(path)); err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	// Created with the process's umask, then narrowed: inside the private
	// data folder no other user can reach it meanwhile.
	ln, err := net.Listen("unix", path)
	if err != nil {
		return fmt.Errorf("control socket: %w", err)
	}
	if err := os.Chmod(path, 0o600); err != nil {
		ln.Close()
		return err
	}
	defer os.Remove(path)
	return serve(ctx, ln, a, raise)
}

// serve answers control requests on ln until ctx ends, from processes of
// this user only.
func serve(ctx context.Context, ln net.Listener, a api.API, raise func() error) error {
	srv := &http.Server{Handler: Handler(a, raise), ReadHeaderTimeout: 5 * time.Second, ConnContext: withPeer}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(peerListener{ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// method answers POST /v1/{name}: it decodes P strictly and returns what fn
// returns, or the error as {"error": …} (404 for api.ErrNotFound).
func method[P, R any](mux *http.ServeMux, name string, fn func(ctx context.Context, p P) (R, error)) {
	mux.HandleFunc("POST /v1/"+name, func(w http.ResponseWriter, r *http.Request) {
		var p P
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
		if err == nil {
			err = decode(body, &p)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		out, err := fn(r.Context(), p)
		if err != nil {
			writeError(w, statusOf(err), err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(out)
	})
}

// done turns an operation without a result into one with an empty result.
func done(err error) (none, error) { return none{}, err }

// Handler maps control requests onto a, and "raise" onto raise.
func Handler(a api.API, raise func() error) http.Handler {
	mux := http.NewServeMux()
	method(mux, "raise", func(context.Context, none) (none, error) { return done(raise()) })
	method(mux, "service_kinds", func(ctx context.Context, _ none) ([]api.Kind, error) { return a.ServiceKinds(ctx), nil })
	method(mux, "add_service", a.AddService)
	method(mux, "connect_service", a.ConnectService)
	method(mux, "services", func(ctx context.Context, _ none) ([]api.ServiceInfo, error) { return a.Services(ctx) })
	method(mux, "remove_service", func(ctx context.Context, p nameParams) (none, error) { return done(a.RemoveService(ctx, p.Name)) })
	method(mux, "review_service", func(ctx context.Context, p nameParams) ([]api.ToolChange, error) { return a.ReviewService(ctx, p.Name) })
	method(mux, "accept_service", func(ctx context.Context, p nameParams) (none, error) { return done(a.AcceptService(ctx, p.Name)) })
	method(mux, "create_vault", a.CreateVault)
	method(mux, "vaults", func(ctx context.Context, _ none) ([]api.VaultInfo, error) { return a.Vaults(ctx) })
	method(mux, "vault", func(ctx context.Context, p refParams) (api.VaultDetail, error) { return a.Vault(ctx, p.Ref) })
	method(mux, "set_vault_services", func(ctx context.Context, p servicesParams) (none, error) {
		return done(a.SetVaultServices(ctx, p.Ref, p.Services))
	})
	method(mux, "set_rule", func(ctx context.Context, p ruleParams) (string, error) { return a.SetRule(ctx, p.Ref, p.Rule) })
	method(mux, "set_guard", func(ctx context.Context, p guardParams) (none, error) { return done(a.SetGuard(ctx, p.Ref, p.Guard)) })
	method(mux, "apply_preset", func(ctx context.Context, p presetParams) (none, error) {
		return done(a.ApplyPreset(ctx, p.Ref, p.Preset))
	})
	method(mux, "set_rate_limit", func(ctx context.Context, p limitParams) (none, error) {
		return done(a.SetRateLimit(ctx, p.Ref, p.Pattern, p.Spec))
	})
	method(mux, "set_approval_timeout", func(ctx context.Context, p durationParams) (none, error) {
		return done(a.SetApprovalTimeout(ctx, p.Ref, p.Duration))
	})
	method(mux, "set_grant_limit", func(ctx context.Context, p durationParams) (none, error) {
		return done(a.SetGrantLimit(ctx, p.Ref, p.Duration))
	})
	method(mux, "set_expiry", func(ctx context.Context, p expiryParams) (none, error) {
		return done(a.SetExpiry(ctx, p.Ref, p.Expires))
	})
	method(mux, "set_flow", func(ctx context.Context, p flowParams) (none, error) { return done(a.SetFlow(ctx, p.Ref, p.Flow)) })
	method(mux, "explain_tool", func(ctx context.Context, p explainParams) (policy.Explanation, error) {
		return a.ExplainTool(ctx, p.Ref, p.Tool, p.Explain)
	})
	method(mux, "export_vault", func(ctx context.Context, p refParams) (policy.Template, error) { return a.ExportVault(ctx, p.Ref) })
	method(mux, "import_vault", func(ctx context.Context, p importParams) (api.NewVault, error) {
		return a.ImportVault(ctx, p.Template, p.Name)
	})
	method(mux, "replace_policy", func(ctx context.Context, p replaceParams) (none, error) {
		return done(a.ReplacePolicy(ctx, p.Ref, p.Policy))
	})
	method(mux, "rotate_token", func(ctx context.Context, p refParams) (tokenResult, error) {
		tok, err := a.RotateToken(ctx, p.Ref)
		return tokenResult{tok}, err
	})
	method(mux, "delete_vault", func(ctx context.Context, p refParams) (none, error) { return done(a.DeleteVault(ctx, p.Ref)) })
	method(mux, "set_paused", func(ctx context.Context, p pauseParams) (none, error) { return done(a.SetPaused(ctx, p.Paused)) })
	method(mux, "status", func(ctx context.Context, _ none) (api.Status, error) { return a.Status(ctx) })
	method(mux, "limits", func(ctx context.Context, _ none) (api.Limits, error) { return a.Limits(ctx) })
	method(mux, "set_limits", func(ctx context.Context, l api.Limits) (none, error) { return done(a.SetLimits(ctx, l)) })
	method(mux, "audit_list", a.AuditList)
	method(mux, "scan_clients", a.ScanClients)
	method(mux, "import_client", a.ImportClient)
	method(mux, "write_client", a.WriteClient)
	method(mux, "undo_client", a.UndoClient)
	method(mux, "approvals", func(ctx context.Context, _ none) (api.Approvals, error) { return a.Approvals(ctx) })
	method(mux, "approval", func(ctx context.Context, p refParams) (approval.Resolved, error) { return a.Approval(ctx, p.Ref) })
	method(mux, "answer_approval", func(ctx context.Context, p answerParams) (approval.Resolved, error) {
		// Who answered is what the server knows of its peer, not what the
		// client says.
		p.Answer.Channel, p.Answer.Approver = "cli", peerFrom(ctx)
		return a.AnswerApproval(ctx, p.ID, p.Answer)
	})
	method(mux, "auth0_setup", func(ctx context.Context, p auth0SetupParams) (none, error) {
		return done(a.Auth0Setup(ctx, p.Domain, p.ClientID, p.ClientSecret))
	})
	method(mux, "auth0_status", func(ctx context.Context, _ none) (api.Auth0Status, error) { return a.Auth0Status(ctx) })
	method(mux, "auth0_save_session", func(ctx context.Context, p auth0SessionParams) (none, error) {
		return done(a.Auth0SaveSession(ctx, p.Subject, p.RefreshToken))
	})
	method(mux, "auth0_logout", func(ctx context.Context, _ none) (none, error) { return done(a.Auth0Logout(ctx)) })
	mux.HandleFunc("POST /v1/audit_export", func(w http.ResponseWriter, r *http.Request) {
		var p exportParams
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
		if err == nil {
			err = decode(body, &p)
		}
		if err == nil && p.Format != audit.JSONL && p.Format != audit.CSV {
			err = fmt.Errorf("unknown export format %q (want jsonl or csv)", p.Format)
		}
		if err != nil {
			writeError(w, http.StatusBadRequest, err)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Trailer", trailerOK)
		// Once streaming has begun an error can only cut the stream short;
		// the client sees the missing trailer and reports it.
		out := &startedWriter{w: w}
		switch err := a.AuditExport(r.Context(), out, p.Format, p.Query); {
		case err == nil:
			w.Header().Set(trailerOK, "1")
		case !out.started:
			writeError(w, statusOf(err), err)
		}
	})
	return mux
}

// startedWriter notes whether anything was written, so that an error that
// comes first can still be answered as one.
type startedWriter struct {
	w       io.Writer
	started bool
}

func (s *startedWriter) Write(b []byte) (int, error) {
	s.started = true
	return s.w.Write(b)
}

// trailerOK marks an export that completed.
const trailerOK = "X-Export-Complete"

func decode(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("bad control request: %w", err)
	}
	return nil
}

// statusOf is the HTTP status that carries err to the client: 404 for
// api.ErrNotFound, which the client turns back into it.
func statusOf(err error) int {
	if errors.Is(err, api.ErrNotFound) {
		return http.StatusNotFound
	}
	return http.StatusBadRequest
}

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorResponse{Error: err.Error()})
}
