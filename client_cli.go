package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/core"
)

// cmdClient sets up an MCP client for a vault: prints the snippet, or edits
// the client's config (with a backup) and undoes that edit.
func cmdClient(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "setup" {
		return usageError{"usage: agentvault client setup CLIENT VAULT [--print | --write | --undo] [--config FILE]"}
	}
	c := newCommand("client setup", false)
	write := c.fs.Bool("write", false, "add the vault to the client's config file (a backup is kept)")
	undo := c.fs.Bool("undo", false, "restore the client's config file from the backup")
	c.fs.Bool("print", true, "print the snippet (the default)")
	config := c.fs.String("config", "", "the client's config file (default: its usual place in your home folder)")
	tokenFile := c.fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN)")
	pos, err := c.parse(args[1:], 2, "CLIENT VAULT [--print | --write | --undo] [--config FILE] [--token-file FILE]")
	if err != nil {
		return err
	}
	client, err := clientsetup.Find(pos[0])
	if err != nil {
		return usageError{err.Error()}
	}
	path := *config
	if path == "" && client.ConfigPath != "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		path = filepath.Join(home, client.ConfigPath)
	}
	if *undo {
		if err := clientsetup.Undo(path); err != nil {
			return err
		}
		fmt.Fprintf(out, "Restored %s as it was before AgentVault edited it.\n", path)
		return nil
	}
	info, token, err := c.vaultAccess(pos[1], *tokenFile)
	if err != nil {
		return err
	}
	v := clientsetup.Vault{Name: clientName(pos[1]), URL: info.URL, Token: token}
	if !*write {
		if v.Token == "" {
			v.Token = "<TOKEN>"
		}
		fmt.Fprintf(out, "%s:\n\n%s\n", client.Where, client.Snippet(v))
		return nil
	}
	if token == "" {
		return usageError{"--write needs the vault's token: none in the keychain, so give it in $AGENTVAULT_TOKEN or --token-file"}
	}
	if err := client.Write(path, v); err != nil {
		return err
	}
	fmt.Fprintf(out, "Added vault %s to %s (backup: %s.agentvault-backup; undo with --undo).\n", pos[1], path, path)
	return nil
}

// vaultAccess finds a vault by id or name and its token (from tokenFile,
// $AGENTVAULT_TOKEN or the secret store; "" if none), releasing the core
// before returning.
func (c *command) vaultAccess(ref, tokenFile string) (api.VaultInfo, string, error) {
	av, done, err := c.openAPI()
	if err != nil {
		return api.VaultInfo{}, "", err
	}
	info, err := findVault(av, ref)
	done()
	if err != nil {
		return api.VaultInfo{}, "", err
	}
	dir, err := c.dir()
	if err != nil {
		return api.VaultInfo{}, "", err
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
	tok, _ := secretStore(dir).Get(core.VaultTokenKey(vaultID))
	return tok, nil
}

// findVault finds a vault by id or name.
func findVault(av api.API, ref string) (api.VaultInfo, error) {
	vaults, err := av.Vaults(context.Background())
	if err != nil {
		return api.VaultInfo{}, err
	}
	for _, v := range vaults {
		if v.ID == ref || v.Name == ref {
			return v, nil
		}
	}
	return api.VaultInfo{}, fmt.Errorf("vault %q: %w", ref, api.ErrNotFound)
}
