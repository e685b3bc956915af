package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/agentvault/agentvault/internal/bridge"
)

// cmdBridge serves a vault over stdio for clients that cannot speak HTTP.
// Standard output carries the MCP protocol only; messages go to stderr.
func cmdBridge(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	c := newCommand("bridge", false)
	tokenFile := c.fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN)")
	pos, err := c.parse(args, 1, "VAULT [--token-file FILE]   (token from $AGENTVAULT_TOKEN otherwise)")
	if err != nil {
		return err
	}
	// The bridge talks to the server over HTTP; the core is released here.
	info, token, err := c.vaultAccess(pos[0], *tokenFile)
	if err != nil {
		return err
	}
	if token == "" {
		return usageError{"bridge needs the vault's token: none in the keychain, so give it in $AGENTVAULT_TOKEN or --token-file"}
	}
	url := info.URL
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return bridge.Run(ctx, bridge.Config{URL: url, Token: token, Version: version, Logger: logger}, stdin, stdout)
}
