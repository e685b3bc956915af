package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/bridge"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets"
)

func clientCommands() []Command {
	return []Command{
		{Name: "client setup", NArgs: 2, Args: "CLIENT VAULT [--print | --write | --undo] [--config FILE] [--token-file FILE]", Run: clientSetup,
			Summary: "set up an MCP client for a vault (" + strings.Join(clientIDs(), ", ") + ")"},
		{Name: "bridge", NArgs: 1, Args: "VAULT [--token-file FILE]", Run: bridgeRun,
			Summary: "serve a vault on stdin/stdout, for clients that only start commands (token from the keychain or $AGENTVAULT_TOKEN)"},
	}
}

func clientIDs() []string {
	var ids []string
	for _, c := range clientsetup.Clients {
		ids = append(ids, c.ID)
	}
	return ids
}

func clientSetup(fs *flag.FlagSet) func(c *Call) error {
	write := fs.Bool("write", false, "add the vault to the client's config file (a backup is kept)")
	undo := fs.Bool("undo", false, "restore the client's config file from the backup")
	fs.Bool("print", true, "print the snippet (the default)")
	config := fs.String("config", "", "the client's config file (default: its usual place in your home folder)")
	tokenFile := fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN)")
	return func(c *Call) error {
		client, err := clientsetup.Find(c.Args[0])
		if err != nil {
			return c.Usage("%v", err)
		}
		path := *config
		if path == "" && client.ConfigPath != "" {
			home, err := os.UserHomeDir()
			if err != nil {
				return err
			}
			path = filepath.Join(home, client.ConfigPath)
		}
		out := c.Out()
		if *undo {
			if err := clientsetup.Undo(path); err != nil {
				return err
			}
			fmt.Fprintf(out, "Restored %s as it was before AgentVault edited it.\n", path)
			return nil
		}
		info, token, err := vaultAccess(c, withAPI, c.Args[1], *tokenFile)
		if err != nil {
			return err
		}
		v := clientsetup.Vault{Name: clientName(c.Args[1]), URL: info.URL, Token: token}
		if !*write {
			if v.Token == "" {
				v.Token = "<TOKEN>"
			}
			fmt.Fprintf(out, "%s:\n\n%s\n", client.Where, client.Snippet(v))
			if token == "" {
				fmt.Fprintln(out, "\nThe vault's token is not kept on this machine: put it in place of <TOKEN> (or give it in $AGENTVAULT_TOKEN or --token-file).")
			}
			return nil
		}
		if token == "" {
			return c.Usage("--write needs the vault's token: none in the keychain, so give it in $AGENTVAULT_TOKEN or --token-file")
		}
		if err := client.Write(path, v); err != nil {
			return err
		}
		fmt.Fprintf(out, "Added vault %s to %s (backup: %s.agentvault-backup; undo with --undo).\n", c.Args[1], path, path)
		return nil
	}
}

// bridgeRun serves a vault over stdio for clients that cannot speak HTTP.
// Standard output carries the MCP protocol only; messages go to stderr.
func bridgeRun(fs *flag.FlagSet) func(c *Call) error {
	tokenFile := fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN)")
	return func(c *Call) error {
		// The bridge talks to the server over HTTP; the core is released here.
		info, token, err := vaultAccess(c, withServer, c.Args[0], *tokenFile)
		if err != nil {
			return err
		}
		if token == "" {
			return c.Usage("the vault's token is needed: none in the keychain, so give it in $AGENTVAULT_TOKEN or --token-file")
		}
		logger := slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return bridge.Run(c.Ctx, bridge.Config{URL: info.URL, Token: token, Version: c.env.Version, Logger: logger}, c.In(), c.Out())
	}
}

// vaultAccess finds a vault by id or name, reaching AgentVault with reach,
// and its token (from tokenFile, $AGENTVAULT_TOKEN or the secret store; ""
// if none), releasing AgentVault before returning.
func vaultAccess(c *Call, reach func(*Call, func(api.API) error) error, ref, tokenFile string) (api.VaultInfo, string, error) {
	var info api.VaultInfo
	err := reach(c, func(av api.API) error {
		vaults, err := av.Vaults(c.Ctx)
		if err != nil {
			return err
		}
		for _, v := range vaults {
			if v.ID == ref || v.Name == ref {
				info = v
				return nil
			}
		}
		return fmt.Errorf("vault %q: %w", ref, api.ErrNotFound)
	})
	if err != nil {
		return info, "", err
	}
	dir, err := c.Dir()
	if err != nil {
		return info, "", err
	}
	token, err := vaultToken(dir, tokenFile, info.ID)
	return info, token, err
}

// vaultToken reads a vault's token from file, else $AGENTVAULT_TOKEN, else
// the secret store (where AgentVault keeps new tokens when it can); "" if none.
func vaultToken(dir, file, vaultID string) (string, error) {
	if file != "" {
		raw, err := os.ReadFile(file)
		return strings.TrimSpace(string(raw)), err
	}
	if tok := os.Getenv("AGENTVAULT_TOKEN"); tok != "" {
		return tok, nil
	}
	keys, err := Secrets(dir)
	if err != nil {
		return "", err
	}
	tok, err := keys.Get(core.VaultTokenKey(vaultID))
	if errors.Is(err, secrets.ErrNotFound) || errors.Is(err, secrets.ErrUnavailable) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the vault's token: %w", err)
	}
	return tok, nil
}
