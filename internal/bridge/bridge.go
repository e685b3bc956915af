// Package bridge connects an MCP client that speaks only stdio (Claude
// Desktop, older tools) to a vault's HTTP endpoint: it serves the vault's
// tools on stdin/stdout and relays every call, its progress and its
// cancellation. The vault still decides, asks for approval and audits; the
// bridge holds nothing but the vault's token.
//
// It must never decide, approve or audit a call: the vault it bridges does.
package bridge

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

// Config says which vault to bridge.
type Config struct {
	// URL is the vault's MCP endpoint; Token its bearer token.
	URL, Token string
	// Version is reported to the client.
	Version string
	// Logger receives connection problems (never on stdout); nil: slog.Default().
	Logger *slog.Logger
}

// Run serves the vault on in/out until in closes or ctx ends.
func Run(ctx context.Context, cfg Config, in io.Reader, out io.Writer) error {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	hooks := &server.Hooks{}
	s := server.NewMCPServer("agentvault-bridge", cfg.Version, server.WithToolCapabilities(true), server.WithHooks(hooks))
	b := &bridge{cfg: cfg, srv: s, log: cfg.Logger}
	// Reach the vault at once, so that a wrong token or URL fails here.
	if err := b.connect(ctx, mcp.Implementation{}); err != nil {
		return err
	}
	defer func() { b.current().Close() }()
	// The vault audits calls under the name of the client behind the
	// bridge, which it hears of only now.
	hooks.AddAfterInitialize(func(ctx context.Context, _ any, req *mcp.InitializeRequest, _ *mcp.InitializeResult) {
		if err := b.connect(ctx, req.Params.ClientInfo); err != nil {
			b.log.Warn("cannot reach the vault as the client", "err", err)
		}
	})
	// The bridge lists no blocked tool, so its server refuses a call to one
	// before any handler runs: relay it, so that the vault refuses and
	// audits it as it does over HTTP.
	hooks.AddOnError(func(ctx context.Context, _ any, method mcp.MCPMethod, message any, err error) {
		if req, ok := message.(*mcp.CallToolRequest); ok && method == mcp.MethodToolsCall && errors.Is(err, server.ErrToolNotFound) {
			_, _ = b.current().Call(ctx, req.Params.Name, req.Params.Arguments, nil)
		}
	})
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn))
	return stdio.Listen(ctx, in, out)
}

type bridge struct {
	cfg Config
	srv *server.MCPServer
	log *slog.Logger

	mu    sync.Mutex // one connect or sync at a time
	vault atomic.Pointer[upstream.Provider]
}

func (b *bridge) current() *upstream.Provider { return b.vault.Load() }

// connect reaches the vault as client (zero: as AgentVault) and mirrors its
// tools, replacing the connection it had.
func (b *bridge) connect(ctx context.Context, client mcp.Implementation) error {
	p, err := upstream.New(upstream.Config{
		Name: "vault", URL: b.cfg.URL, Headers: map[string]string{"Authorization": "Bearer " + b.cfg.Token},
		Client: client, Logger: b.log, OnToolsChanged: func() { go b.sync(context.Background()) },
	})
	if err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.mirror(ctx, p); err != nil {
		p.Close()
		return err
	}
	if old := b.vault.Swap(p); old != nil {
		old.Close()
	}
	return nil
}

// sync mirrors the vault's tool list again; the client hears list_changed.
func (b *bridge) sync(ctx context.Context) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_ = b.mirror(ctx, b.current())
}

// mirror offers the client the tools p lists.
func (b *bridge) mirror(ctx context.Context, p *upstream.Provider) error {
	tools, err := p.Tools(ctx)
	if err != nil {
		b.log.Warn("cannot list the vault's tools", "err", err)
		return err
	}
	defs := make([]server.ServerTool, 0, len(tools))
	for _, t := range tools {
		defs = append(defs, server.ServerTool{Tool: t, Handler: b.call})
	}
	b.srv.SetTools(defs...)
	return nil
}

// call relays one call, with the client's progress token.
func (b *bridge) call(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var token mcp.ProgressToken
	if req.Params.Meta != nil {
		token = req.Params.Meta.ProgressToken
	}
	progress := providers.RelayProgress(token, func(params map[string]any) {
		_ = b.srv.SendNotificationToClient(ctx, string(mcp.MethodNotificationProgress), params)
	})
	return b.current().Call(ctx, req.Params.Name, req.Params.Arguments, progress)
}
