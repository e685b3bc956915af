// Package clientsetup knows how each MCP client is told about a vault: the
// snippet a person pastes, and the config file AgentVault can edit for them
// (merged into what is there, with a backup that --undo restores byte for
// byte).
//
// It must never change a line of a user's file it did not add.
package clientsetup

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/agentvault/agentvault/internal/atomicfile"
)

// Client describes one MCP client.
type Client struct {
	// ID is the command-line name (claude-code); Name is for people.
	ID, Name string
	// ConfigPath is where the client keeps its servers, relative to the home
	// folder; "" when the client is configured by a command instead.
	ConfigPath string
	// Where says where the snippet goes, for people.
	Where string
	// key is the JSON object holding the servers; entry builds one server.
	key   string
	entry func(v Vault) map[string]any
	// command is the setup command line, for clients set up by a command.
	command func(v Vault) string
}

// Vault is what a client needs to reach a vault.
type Vault struct {
	// Name is the server name the client shows.
	Name, URL, Token string
}

func headers(v Vault) map[string]any {
	return map[string]any{"Authorization": "Bearer " + v.Token}
}

// Clients are the clients AgentVault sets up, in the order it offers them.
var Clients = []Client{
	{ID: "claude-code", Name: "Claude Code", ConfigPath: ".claude.json", Where: "Run in a terminal", key: "mcpServers",
		entry: func(v Vault) map[string]any {
			return map[string]any{"type": "http", "url": v.URL, "headers": headers(v)}
		},
		command: func(v Vault) string {
			return fmt.Sprintf("claude mcp add --transport http %s %s --header %q", v.Name, v.URL, "Authorization: Bearer "+v.Token)
		}},
	{ID: "cursor", Name: "Cursor", ConfigPath: ".cursor/mcp.json", Where: "Add to ~/.cursor/mcp.json", key: "mcpServers",
		entry: func(v Vault) map[string]any { return map[string]any{"url": v.URL, "headers": headers(v)} }},
	{ID: "vscode", Name: "VS Code", ConfigPath: ".vscode/mcp.json", Where: "Add to .vscode/mcp.json", key: "servers",
		entry: func(v Vault) map[string]any {
			return map[string]any{"type": "http", "url": v.URL, "headers": headers(v)}
		}},
	{ID: "windsurf", Name: "Windsurf", ConfigPath: ".codeium/windsurf/mcp_config.json", Where: "Add to ~/.codeium/windsurf/mcp_config.json", key: "mcpServers",
		entry: func(v Vault) map[string]any { return map[string]any{"serverUrl": v.URL, "headers": headers(v)} }},
	{ID: "claude-desktop", Name: "Claude Desktop", ConfigPath: ".config/Claude/claude_desktop_config.json",
		Where: "Add to claude_desktop_config.json (Claude Desktop starts local commands: AgentVault's stdio bridge)", key: "mcpServers",
		entry: func(v Vault) map[string]any {
			return map[string]any{"command": "agentvault", "args": []any{"bridge", v.Name}, "env": map[string]any{"AGENTVAULT_TOKEN": v.Token}}
		}},
	{ID: "gemini", Name: "Gemini CLI", ConfigPath: ".gemini/settings.json", Where: "Add to ~/.gemini/settings.json", key: "mcpServers",
		entry: func(v Vault) map[string]any { return map[string]any{"httpUrl": v.URL, "headers": headers(v)} }},
	{ID: "codex", Name: "Codex", ConfigPath: ".codex/config.toml", Where: "Add to ~/.codex/config.toml"},
}

// Find returns the client with that id or name.
func Find(id string) (Client, error) {
	for _, c := range Clients {
		if c.ID == id || c.Name == id {
			return c, nil
		}
	}
	var ids []string
	for _, c := range Clients {
		ids = append(ids, c.ID)
	}
	return Client{}, fmt.Errorf("unknown client %q (known: %s)", id, strings.Join(ids, ", "))
}

// Snippet is what a person pastes to add v to c.
func (c Client) Snippet(v Vault) string {
	switch {
	case c.command != nil:
		return c.command(v)
	case c.entry != nil:
		b, _ := indentedJSON(map[string]any{c.key: map[string]any{v.Name: c.entry(v)}})
		return strings.TrimSuffix(string(b), "\n")
	}
	return codexSection(v)
}

func codexSection(v Vault) string {
	return fmt.Sprintf("[mcp_servers.%s]\nurl = %q\nhttp_headers = { \"Authorization\" = %q }\n", v.Name, v.URL, "Bearer "+v.Token)
}

// backupSuffix marks the copy of a config taken before AgentVault edited it;
// absentMarker is its content when there was no config at all.
const (
	backupSuffix = ".agentvault-backup"
	absentMarker = "agentvault: this file did not exist\n"
)

// Write adds v to the client's config file at path, keeping every other
// entry, after saving the original next to it (once: a second Write keeps
// the first backup, so undo always returns to the file before AgentVault).
func (c Client) Write(path string, v Vault) error {
	orig, err := os.ReadFile(path)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	backup := path + backupSuffix
	if _, err := os.Stat(backup); errors.Is(err, os.ErrNotExist) {
		content := orig
		if !existed {
			content = []byte(absentMarker)
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(backup, content, 0o600); err != nil {
			return fmt.Errorf("saving a backup of %s: %w", path, err)
		}
	}
	var out []byte
	if c.entry == nil { // TOML (Codex): append a section, keep the file as it is
		if strings.Contains(string(orig), "[mcp_servers."+v.Name+"]") {
			return fmt.Errorf("%s already has a server named %s; remove it or use another vault name", path, v.Name)
		}
		out = append(append([]byte{}, orig...), []byte(sep(orig)+codexSection(v))...)
	} else {
		doc := map[string]any{}
		if existed && len(strings.TrimSpace(string(orig))) > 0 {
			if err := json.Unmarshal(orig, &doc); err != nil {
				return fmt.Errorf("%s is not valid JSON (%v); AgentVault will not overwrite it", path, err)
			}
		}
		servers, _ := doc[c.key].(map[string]any)
		if servers == nil {
			servers = map[string]any{}
		}
		servers[v.Name] = c.entry(v)
		doc[c.key] = servers
		if out, err = indentedJSON(doc); err != nil {
			return err
		}
	}
	return writeKeepingMode(path, out)
}

// indentedJSON is v as a person writes it: indented, ending in a newline,
// and with <, > and & as themselves.
func indentedJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	err := enc.Encode(v)
	return b.Bytes(), err
}

func sep(orig []byte) string {
	switch {
	case len(orig) == 0:
		return ""
	case orig[len(orig)-1] != '\n':
		return "\n\n"
	}
	return "\n"
}

// Undo restores the config file to what it was before AgentVault first
// edited it, byte for byte (or removes it if there was none).
func Undo(path string) error {
	backup := path + backupSuffix
	orig, err := os.ReadFile(backup)
	if err != nil {
		return fmt.Errorf("no AgentVault backup of %s to restore", path)
	}
	if string(orig) == absentMarker {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	} else if err := writeKeepingMode(path, orig); err != nil {
		return err
	}
	return os.Remove(backup)
}

// writeKeepingMode replaces path with data, keeping the file's permissions
// (0600 for a new file).
func writeKeepingMode(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return atomicfile.WriteBytes(path, mode, data)
}

// Names lists the clients by their names for people, in the order they are
// offered.
func Names() []string {
	names := make([]string, len(Clients))
	for i, c := range Clients {
		names[i] = c.Name
	}
	return names
}

// Setup is what a user pastes into client (by name) to add v, and where;
// for a client AgentVault does not know, what any MCP client needs.
func Setup(client string, v Vault) (where, text string) {
	c, err := Find(client)
	if err != nil {
		return "Any MCP client (streamable HTTP)", "URL: " + v.URL + "\nHeader: Authorization: Bearer " + v.Token
	}
	return c.Where, c.Snippet(v)
}
