// Package clientsetup knows the MCP clients: where each keeps its servers
// on each platform, how it writes a server, and how it is told about a
// vault — the snippet a person pastes and the entry AgentVault writes for
// them. Reading and editing the files is configedit's; keeping a record of
// the edits, so they can be undone, is the core's.
//
// It must never put anything into a user's file but one entry per vault.
package clientsetup

import (
	"fmt"
	"strings"

	"github.com/agentvault/agentvault/internal/configedit"
)

// Client describes one MCP client.
type Client struct {
	// ID is the command-line name (claude-code); Name is for people.
	ID, Name string
	// Where says where the snippet goes, for people.
	Where string
	// Program is the command of an agent with a shell, which agentvault
	// run starts contained ("" for other clients).
	Program string
	// format is the syntax of its config files; key holds their servers.
	format configedit.Format
	key    string
	// places lists where it keeps servers.
	places func(p Places) []Place
	// http is an entry that reaches a vault over HTTP; nil for clients that
	// only start commands (they get the stdio bridge).
	http func(v Vault) map[string]any
	// stdioType is the "type" its command entries carry, if any.
	stdioType string
	// command is the setup command line, for clients set up by a command.
	command func(v Vault) string
}

// Vault is what a client needs to reach a vault.
type Vault struct {
	// Name is the server name the client shows; URL and Token reach it.
	Name, URL, Token string
	// Bridge runs the stdio bridge, for clients that start commands: the
	// agentvault program, the vault, the data folder and, where there is
	// no keychain, the token file.
	Bridge Bridge
}

// Bridge is the command line of `agentvault bridge` for one vault.
type Bridge struct {
	Program, Vault, Data, TokenFile string
}

// args are the bridge's arguments.
func (b Bridge) args() []any {
	args := []any{"bridge", b.Vault}
	if b.Data != "" {
		args = append(args, "--data", b.Data)
	}
	if b.TokenFile != "" {
		args = append(args, "--token-file", b.TokenFile)
	}
	return args
}

func headers(v Vault) map[string]any {
	return map[string]any{"Authorization": "Bearer " + v.Token}
}

// Clients are the clients AgentVault sets up, in the order it offers them.
var Clients = []Client{
	{ID: "claude-code", Name: "Claude Code", Program: "claude", Where: "Run in a terminal", format: configedit.JSON, key: "mcpServers", places: claudeCode,
		http: func(v Vault) map[string]any {
			return map[string]any{"type": "http", "url": v.URL, "headers": headers(v)}
		},
		stdioType: "stdio",
		command: func(v Vault) string {
			return fmt.Sprintf("claude mcp add --transport http %s %s --header %q", v.Name, v.URL, "Authorization: Bearer "+v.Token)
		}},
	{ID: "cursor", Name: "Cursor", Where: "Add to ~/.cursor/mcp.json", format: configedit.JSON, key: "mcpServers", places: cursor,
		http: func(v Vault) map[string]any { return map[string]any{"url": v.URL, "headers": headers(v)} }},
	{ID: "vscode", Name: "VS Code", Where: "Add to your VS Code profile's mcp.json (MCP: Open User Configuration)", format: configedit.JSON,
		key: "servers", places: vscode, stdioType: "stdio",
		http: func(v Vault) map[string]any {
			return map[string]any{"type": "http", "url": v.URL, "headers": headers(v)}
		}},
	{ID: "windsurf", Name: "Windsurf", Where: "Add to ~/.codeium/windsurf/mcp_config.json", format: configedit.JSON, key: "mcpServers", places: windsurf,
		http: func(v Vault) map[string]any { return map[string]any{"serverUrl": v.URL, "headers": headers(v)} }},
	{ID: "claude-desktop", Name: "Claude Desktop", format: configedit.JSON, key: "mcpServers", places: claudeDesktop,
		Where: "Add to claude_desktop_config.json (Claude Desktop starts local commands: AgentVault's stdio bridge)"},
	{ID: "gemini", Name: "Gemini CLI", Program: "gemini", Where: "Add to ~/.gemini/settings.json", format: configedit.JSON, key: "mcpServers", places: gemini,
		http: func(v Vault) map[string]any { return map[string]any{"httpUrl": v.URL, "headers": headers(v)} }},
	{ID: "codex", Name: "Codex", Program: "codex", Where: "Add to ~/.codex/config.toml", format: configedit.TOML, key: "mcp_servers", places: codex,
		http: func(v Vault) map[string]any {
			return map[string]any{"url": v.URL, "http_headers": map[string]any{"Authorization": "Bearer " + v.Token}}
		}},
}

// Find returns the client with that id or name.
func Find(id string) (Client, error) {
	for _, c := range Clients {
		if c.ID == id || c.Name == id {
			return c, nil
		}
	}
	return Client{}, fmt.Errorf("unknown client %q (known: %s)", id, strings.Join(IDs(), ", "))
}

// IDs lists the clients' command-line names.
func IDs() []string {
	ids := make([]string, len(Clients))
	for i, c := range Clients {
		ids[i] = c.ID
	}
	return ids
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

// Format is the syntax of the client's config files.
func (c Client) Format() configedit.Format { return c.format }

// Entry is the server entry through which c reaches v: over HTTP with the
// token in a header, or — for clients that only start commands, and in a
// file a team shares, which must hold no token — the stdio bridge.
func (c Client) Entry(v Vault, shared bool) map[string]any {
	if c.http != nil && !shared {
		return c.http(v)
	}
	e := map[string]any{"command": v.Bridge.Program, "args": v.Bridge.args()}
	if c.stdioType != "" {
		e["type"] = c.stdioType
	}
	return e
}

// Snippet is what a person pastes to add v to c: the command line, or the
// entry inside what holds it, as a file holding only that would be.
func (c Client) Snippet(v Vault) string {
	if c.command != nil {
		return c.command(v)
	}
	doc, _ := configedit.Parse(nil, c.format)
	path := []string{c.key, v.Name}
	text, err := doc.Format(path, c.Entry(v, false))
	if err == nil {
		_, err = doc.Set(path, text)
	}
	if err != nil {
		return err.Error()
	}
	return strings.TrimSuffix(string(doc.Bytes()), "\n")
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

// EntryName is the server name a client shows for a vault: its name with
// every character clients do not take as a dash.
func EntryName(vault string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, vault)
}

// ShellWord is s as one word of a shell command line.
func ShellWord(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n'\"$`\\*?[]{}()<>|&;#~!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
