// Package serving wires the MCP server to the core: it builds the server
// with the core as its catalog of services, its auditor, approver and
// redactor, attaches it to the core so that every change reaches connected
// agents before the operation that made it returns, and loads every vault.
//
// It is the one package besides the root that imports mcpserver; serve and
// bench share it. It must never hold state of its own: what it serves is
// what the core keeps.
package serving

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/mcpserver"
	"github.com/agentvault/agentvault/policy"
)

// Server is the MCP server of one core.
type Server struct {
	co     *core.Core
	mcp    *mcpserver.Server
	log    *slog.Logger
	detach func()
}

var _ core.Server = (*Server)(nil)

// New builds the server of co and starts serving every vault co keeps. It
// logs through co's logger, which takes configured secrets out.
func New(ctx context.Context, co *core.Core) (*Server, error) {
	logger := co.Logger()
	limits, err := co.Limits(ctx)
	if err != nil {
		return nil, err
	}
	s := &Server{co: co, log: logger}
	broker := co.Broker()
	s.mcp = mcpserver.New(mcpserver.Config{Catalog: co, Auditor: co.Audit(), Approver: broker, Logger: logger,
		Redactor: co.Redactor(), OnSessionEnd: broker.EndSession, Limits: serverLimits(limits)})
	s.mcp.SetPaused(co.Paused())
	s.detach = co.Attach(s)
	vaults, err := co.AllServed()
	if err != nil {
		s.Close()
		return nil, err
	}
	for _, v := range vaults {
		s.mcp.PutVault(served(v))
	}
	return s, nil
}

// Handler serves the vault endpoints.
func (s *Server) Handler() http.Handler { return s.mcp }

// Close stops following the core and ends every session.
func (s *Server) Close() {
	s.detach()
	s.mcp.Close()
}

// Sessions implements core.Server.
func (s *Server) Sessions() map[string]int { return s.mcp.Sessions() }

// Explain implements core.Server.
func (s *Server) Explain(ctx context.Context, id, tool string, e api.ExplainSpec) (policy.Explanation, error) {
	how := mcpserver.Explaining{NoArgs: len(e.Args) == 0, Session: e.Session, Lookup: e.Lookup}
	if !how.NoArgs {
		if err := json.Unmarshal(e.Args, &how.Args); err != nil {
			return policy.Explanation{}, fmt.Errorf("--args: %w", err)
		}
	}
	return s.mcp.Explain(ctx, id, tool, how)
}

// Changed implements core.Server: it applies ch to the endpoints, reading
// the core's newest state, so that changes made at once converge.
func (s *Server) Changed(ch api.Change) {
	switch ch.Topic {
	case api.VaultChanged:
		v, err := s.co.Served(ch.Vault)
		switch {
		case errors.Is(err, core.ErrNotFound):
			s.mcp.RemoveVault(ch.Vault)
		case err != nil:
			s.log.Error("a changed vault cannot be read; it keeps its old form", "vault", ch.Vault, "err", err)
		default:
			s.mcp.PutVault(served(v))
		}
	case api.ServiceChanged:
		s.mcp.ServiceChanged(ch.Service)
	case api.SettingsChanged:
		s.mcp.SetPaused(s.co.Paused())
		if l, err := s.co.Limits(context.Background()); err == nil {
			s.mcp.SetLimits(serverLimits(l))
		}
	}
}

func served(v store.Vault) mcpserver.Vault {
	return mcpserver.Vault{ID: v.ID, Name: v.Name, TokenDigest: v.TokenDigest, Services: v.Services,
		Policy: v.Policy, ApprovalTimeout: v.ApprovalTimeout, Expires: v.Expires, RateLimits: v.RateLimits, GrantLimit: v.GrantLimit}
}

func serverLimits(l api.Limits) mcpserver.Limits {
	return mcpserver.Limits{MaxPending: l.MaxPending, MaxSessions: l.MaxSessions, BodyTimeout: l.BodyTimeout}
}
