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
	"io"
	"log/slog"
	"sync"

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
	s := server.NewMCPServer("agentvault-bridge", cfg.Version, server.WithToolCapabilities(true))
	b := &bridge{srv: s, log: cfg.Logger}
	p, err := upstream.New(upstream.Config{
		Name: "vault", URL: cfg.URL, Headers: map[string]string{"Authorization": "Bearer " + cfg.Token},
		Logger: cfg.Logger, OnToolsChanged: func() { go b.sync(context.Background()) },
	})
	if err != nil {
		return err
	}
	defer p.Close()
	b.vault = p
	if err := b.sync(ctx); err != nil {
		return err
	}
	stdio := server.NewStdioServer(s)
	stdio.SetErrorLogger(slog.NewLogLogger(cfg.Logger.Handler(), slog.LevelWarn))
	return stdio.Listen(ctx, in, out)
}

type bridge struct {
	srv   *server.MCPServer
	vault *upstream.Provider
	log   *slog.Logger
	mu    sync.Mutex // one sync at a time
}

// sync mirrors the vault's tool list; the client hears list_changed.
func (b *bridge) sync(ctx context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	tools, err := b.vault.Tools(ctx)
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
	return b.vault.Call(ctx, req.Params.Name, req.Params.Arguments, progress)
}
