package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
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
	token := os.Getenv("AGENTVAULT_TOKEN")
	if *tokenFile != "" {
		raw, err := os.ReadFile(*tokenFile)
		if err != nil {
			return err
		}
		token = strings.TrimSpace(string(raw))
	}
	if token == "" {
		return usageError{"bridge needs the vault's token in $AGENTVAULT_TOKEN or --token-file"}
	}
	api, done, err := c.openAPI()
	if err != nil {
		return err
	}
	vaults, err := api.Vaults()
	done() // the bridge talks to the server over HTTP from here on
	if err != nil {
		return err
	}
	url := ""
	for _, v := range vaults {
		if v.ID == pos[0] || v.Name == pos[0] {
			url = v.URL
		}
	}
	if url == "" {
		return fmt.Errorf("vault %q: not found", pos[0])
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	return bridge.Run(ctx, bridge.Config{URL: url, Token: token, Version: version, Logger: logger}, stdin, stdout)
}
