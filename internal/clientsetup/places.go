package clientsetup

import (
	"os"
	"path/filepath"
	"slices"
)

// Places are where a user's files are, as the front end that asks sees
// them.
type Places struct {
	// Home is the user's home folder; Dir the folder they work in, whose
	// project files (.mcp.json, .vscode/mcp.json…) count.
	Home, Dir string
	// OS is runtime.GOOS of the user's machine.
	OS string
	// AppData is Windows' %APPDATA% ("": HOME\AppData\Roaming), ConfigHome
	// $XDG_CONFIG_HOME ("": HOME/.config) and CodexHome $CODEX_HOME ("":
	// HOME/.codex).
	AppData, ConfigHome, CodexHome string
}

// Place is one config file a client keeps servers in, and where in it.
type Place struct {
	Path string
	// Servers is the key path of the object holding the servers; a "*"
	// stands for each member there (Claude Code's projects).
	Servers []string
	// Scope is the client's word for the place: user, local, project or
	// workspace.
	Scope string
	// Shared marks a file a team shares (in the project): AgentVault edits
	// it only when asked to, and never puts a token into it.
	Shared bool
}

func (p Places) configHome() string {
	if p.ConfigHome != "" {
		return p.ConfigHome
	}
	return filepath.Join(p.Home, ".config")
}

func (p Places) appData() string {
	if p.AppData != "" {
		return p.AppData
	}
	return filepath.Join(p.Home, "AppData", "Roaming")
}

// appConfig is where a desktop app called name keeps its settings.
func (p Places) appConfig(name string) string {
	switch p.OS {
	case "darwin":
		return filepath.Join(p.Home, "Library", "Application Support", name)
	case "windows":
		return filepath.Join(p.appData(), name)
	}
	return filepath.Join(p.configHome(), name)
}

// project is a file of the folder the user works in.
func (p Places) project(parts ...string) string {
	if p.Dir == "" {
		return ""
	}
	return filepath.Join(append([]string{p.Dir}, parts...)...)
}

func claudeCode(p Places) []Place {
	user := filepath.Join(p.Home, ".claude.json")
	return []Place{
		{Path: user, Servers: []string{"mcpServers"}, Scope: "user"},
		{Path: user, Servers: []string{"projects", "*", "mcpServers"}, Scope: "local"},
		{Path: p.project(".mcp.json"), Servers: []string{"mcpServers"}, Scope: "project", Shared: true},
	}
}

func claudeDesktop(p Places) []Place {
	return []Place{{Path: filepath.Join(p.appConfig("Claude"), "claude_desktop_config.json"), Servers: []string{"mcpServers"}, Scope: "user"}}
}

func cursor(p Places) []Place {
	return []Place{
		{Path: filepath.Join(p.Home, ".cursor", "mcp.json"), Servers: []string{"mcpServers"}, Scope: "user"},
		{Path: p.project(".cursor", "mcp.json"), Servers: []string{"mcpServers"}, Scope: "project", Shared: true},
	}
}

func vscode(p Places) []Place {
	return []Place{
		{Path: filepath.Join(p.appConfig("Code"), "User", "mcp.json"), Servers: []string{"servers"}, Scope: "user"},
		{Path: filepath.Join(p.appConfig("Code - Insiders"), "User", "mcp.json"), Servers: []string{"servers"}, Scope: "user"},
		{Path: p.project(".vscode", "mcp.json"), Servers: []string{"servers"}, Scope: "workspace", Shared: true},
	}
}

func windsurf(p Places) []Place {
	return []Place{{Path: filepath.Join(p.Home, ".codeium", "windsurf", "mcp_config.json"), Servers: []string{"mcpServers"}, Scope: "user"}}
}

func gemini(p Places) []Place {
	return []Place{
		{Path: filepath.Join(p.Home, ".gemini", "settings.json"), Servers: []string{"mcpServers"}, Scope: "user"},
		{Path: p.project(".gemini", "settings.json"), Servers: []string{"mcpServers"}, Scope: "project", Shared: true},
	}
}

func codex(p Places) []Place {
	home := p.CodexHome
	if home == "" {
		home = filepath.Join(p.Home, ".codex")
	}
	return []Place{{Path: filepath.Join(home, "config.toml"), Servers: []string{"mcp_servers"}, Scope: "user"}}
}

// Places lists where c keeps servers for the user at p, in order: the first
// not shared is where a vault entry goes.
func (c Client) Places(p Places) []Place {
	var out []Place
	for _, pl := range c.places(p) {
		if pl.Path != "" {
			out = append(out, pl)
		}
	}
	return out
}

// VaultPlace is where AgentVault adds a vault's entry for c: the user's own
// file (one that exists, where the client has several), or with shared the
// file a team shares.
func (c Client) VaultPlace(p Places, shared bool) (Place, bool) {
	var found []Place
	for _, pl := range c.Places(p) {
		if pl.Shared == shared && !slices.Contains(pl.Servers, "*") {
			found = append(found, pl)
		}
	}
	for _, pl := range found {
		if _, err := os.Stat(pl.Path); err == nil {
			return pl, true
		}
	}
	if len(found) == 0 {
		return Place{}, false
	}
	return found[0], true
}
