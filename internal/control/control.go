// Package control lets the CLI (and other local tools) drive a running
// AgentVault through a Unix socket in the data directory, mode 0600, so
// changes apply to live sessions at once. Only the user who owns the data
// directory can connect; vault tokens play no part here, so nothing an agent
// holds can reach it.
//
// The protocol is HTTP over the socket: POST /v1/{method} with a JSON body of
// parameters, answered with the JSON result, or a JSON {"error": "..."} with
// a non-2xx status.
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

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/policy"
)

// SocketName is the control socket inside the data directory.
const SocketName = "agentvault.sock"

// SocketPath is the control socket of the data directory dir.
func SocketPath(dir string) string { return filepath.Join(dir, SocketName) }

// maxRequest bounds a control request body.
const maxRequest = 1 << 20

type (
	refParams    struct{ Ref string }
	policyParams struct {
		Ref, Pattern string
		Decision     policy.Decision
	}
	auditParams struct {
		Ref   string
		Limit int
	}
	exportParams  struct{ Ref, Format string }
	tokenResult   struct{ Token string }
	pauseParams   struct{ Paused bool }
	timeoutParams struct {
		Ref     string
		Timeout time.Duration
	}
	presetParams struct{ Ref, Preset string }
	guardParams  struct {
		Ref   string
		Guard policy.Guard
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
	auth0SetupParams struct {
		Domain, ClientID, ClientSecret string
	}
	auth0SessionParams struct {
		Subject, RefreshToken string
	}
	replaceParams struct {
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

// Serve answers control requests on a new socket at path until ctx ends.
// A stale socket file left by a crashed process is replaced. The socket is
// mode 0600 in the private data folder, and a connection from a process of
// another user is closed before anything is read (SO_PEERCRED).
func Serve(ctx context.Context, path string, api core.API) error {
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
	return serve(ctx, ln, api)
}

// serve answers control requests on ln until ctx ends, from processes of
// this user only.
func serve(ctx context.Context, ln net.Listener, api core.API) error {
	srv := &http.Server{Handler: Handler(api), ReadHeaderTimeout: 5 * time.Second, ConnContext: withPeer}
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(peerListener{ln}); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// Handler maps control requests onto api.
func Handler(api core.API) http.Handler {
	mux := http.NewServeMux()
	handle := func(method string, fn func(r *http.Request, body []byte) (any, error)) {
		mux.HandleFunc("POST /v1/"+method, func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
			if err != nil {
				writeError(w, http.StatusBadRequest, err)
				return
			}
			out, err := fn(r, body)
			if err != nil {
				status := http.StatusBadRequest
				if errors.Is(err, core.ErrNotFound) {
					status = http.StatusNotFound
				}
				writeError(w, status, err)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(out)
		})
	}
	handle("add_service", func(_ *http.Request, b []byte) (any, error) {
		var p core.ServiceSpec
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.AddService(p)
	})
	handle("connect_service", func(_ *http.Request, b []byte) (any, error) {
		var p core.ConnectSpec
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.ConnectService(p)
	})
	handle("services", func(*http.Request, []byte) (any, error) { return api.Services() })
	handle("remove_service", func(_ *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.RemoveService(p.Ref)
	})
	handle("review_service", func(r *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.ReviewService(r.Context(), p.Ref)
	})
	handle("accept_service", func(r *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.AcceptService(r.Context(), p.Ref)
	})
	handle("create_vault", func(_ *http.Request, b []byte) (any, error) {
		var p core.VaultSpec
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.CreateVault(p)
	})
	handle("vaults", func(*http.Request, []byte) (any, error) { return api.Vaults() })
	handle("vault", func(r *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.Vault(r.Context(), p.Ref)
	})
	handle("set_policy", func(_ *http.Request, b []byte) (any, error) {
		var p policyParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetPolicy(p.Ref, p.Pattern, p.Decision)
	})
	handle("set_guard", func(_ *http.Request, b []byte) (any, error) {
		var p guardParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetGuard(p.Ref, p.Guard)
	})
	handle("apply_preset", func(r *http.Request, b []byte) (any, error) {
		var p presetParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.ApplyPreset(r.Context(), p.Ref, p.Preset)
	})
	handle("set_rate_limit", func(_ *http.Request, b []byte) (any, error) {
		var p limitParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetRateLimit(p.Ref, p.Pattern, p.Spec)
	})
	handle("set_approval_timeout", func(_ *http.Request, b []byte) (any, error) {
		var p timeoutParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetApprovalTimeout(p.Ref, p.Timeout)
	})
	handle("set_expiry", func(_ *http.Request, b []byte) (any, error) {
		var p expiryParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetExpiry(p.Ref, p.Expires)
	})
	handle("export_vault", func(_ *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.ExportVault(p.Ref)
	})
	handle("import_vault", func(_ *http.Request, b []byte) (any, error) {
		var p importParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.ImportVault(p.Template, p.Name)
	})
	handle("replace_policy", func(_ *http.Request, b []byte) (any, error) {
		var p replaceParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.ReplacePolicy(p.Ref, p.Policy)
	})
	handle("set_paused", func(_ *http.Request, b []byte) (any, error) {
		var p pauseParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetPaused(p.Paused)
	})
	handle("status", func(*http.Request, []byte) (any, error) { return api.Status() })
	handle("rotate_token", func(_ *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		tok, err := api.RotateToken(p.Ref)
		return tokenResult{tok}, err
	})
	handle("delete_vault", func(_ *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.DeleteVault(p.Ref)
	})
	handle("audit_list", func(_ *http.Request, b []byte) (any, error) {
		var p auditParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.AuditList(p.Ref, p.Limit)
	})
	handle("approvals", func(*http.Request, []byte) (any, error) { return api.Approvals() })
	handle("approval", func(r *http.Request, b []byte) (any, error) {
		var p refParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return api.Approval(r.Context(), p.Ref)
	})
	handle("answer_approval", func(r *http.Request, b []byte) (any, error) {
		var p answerParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		// Who answered is what the server knows of its peer, not what the
		// client says.
		p.Answer.Channel, p.Answer.Approver = "cli", peerFrom(r.Context())
		return api.AnswerApproval(r.Context(), p.ID, p.Answer)
	})
	handle("limits", func(r *http.Request, _ []byte) (any, error) { return api.Limits(r.Context()) })
	handle("set_limits", func(r *http.Request, b []byte) (any, error) {
		var p core.Limits
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetLimits(r.Context(), p)
	})
	handle("set_grant_limit", func(r *http.Request, b []byte) (any, error) {
		var p timeoutParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.SetGrantLimit(r.Context(), p.Ref, p.Timeout)
	})
	handle("auth0_setup", func(_ *http.Request, b []byte) (any, error) {
		var p auth0SetupParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.Auth0Setup(p.Domain, p.ClientID, p.ClientSecret)
	})
	handle("auth0_status", func(*http.Request, []byte) (any, error) { return api.Auth0Status() })
	handle("auth0_save_session", func(_ *http.Request, b []byte) (any, error) {
		var p auth0SessionParams
		if err := decode(b, &p); err != nil {
			return nil, err
		}
		return struct{}{}, api.Auth0SaveSession(p.Subject, p.RefreshToken)
	})
	handle("auth0_logout", func(*http.Request, []byte) (any, error) { return struct{}{}, api.Auth0Logout() })
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
		if err := api.AuditExport(w, p.Format, p.Ref); err == nil {
			w.Header().Set(trailerOK, "1")
		}
	})
	return mux
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

func writeError(w http.ResponseWriter, status int, err error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(errorResponse{Error: err.Error()})
}
