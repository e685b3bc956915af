package app

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Clients are the agents AgentVault has setup instructions for, in the order
// the GUI offers them.
var Clients = []string{"Claude Code", "Cursor", "VS Code", "Codex", "Windsurf", "Claude Desktop"}

// Snippet is what a user pastes into client to add a vault: a command or a
// config fragment, with where it goes.
type Snippet struct {
	// Where says where the text goes.
	Where string
	Text  string
}

// SetupSnippet returns the setup for one client; name is the server name
// the client will show.
func SetupSnippet(client, name, url, token string) Snippet {
	auth := "Bearer " + token
	headers := map[string]string{"Authorization": auth}
	js := func(v any) string {
		b, _ := json.MarshalIndent(v, "", "  ")
		return string(b)
	}
	switch client {
	case "Claude Code":
		return Snippet{"Run in a terminal", fmt.Sprintf("claude mcp add --transport http %s %s --header %q", name, url, "Authorization: "+auth)}
	case "Cursor":
		return Snippet{"Add to ~/.cursor/mcp.json", js(map[string]any{"mcpServers": map[string]any{name: map[string]any{"url": url, "headers": headers}}})}
	case "VS Code":
		return Snippet{"Add to .vscode/mcp.json", js(map[string]any{"servers": map[string]any{name: map[string]any{"type": "http", "url": url, "headers": headers}}})}
	case "Codex":
		return Snippet{"Add to ~/.codex/config.toml", fmt.Sprintf("[mcp_servers.%s]\nurl = %q\nhttp_headers = { \"Authorization\" = %q }", name, url, auth)}
	case "Windsurf":
		return Snippet{"Add to ~/.codeium/windsurf/mcp_config.json", js(map[string]any{"mcpServers": map[string]any{name: map[string]any{"serverUrl": url, "headers": headers}}})}
	case "Claude Desktop":
		// Claude Desktop's config starts local commands only: bridge with mcp-remote.
		return Snippet{"Add to claude_desktop_config.json (needs Node.js)", js(map[string]any{"mcpServers": map[string]any{name: map[string]any{
			"command": "npx", "args": []string{"-y", "mcp-remote", url, "--header", "Authorization:" + auth}}}})}
	}
	return Snippet{"Any MCP client (streamable HTTP)", fmt.Sprintf("URL: %s\nHeader: Authorization: %s", url, auth)}
}

// serverName turns a vault name into a name clients accept.
func serverName(vault string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, vault)
}
