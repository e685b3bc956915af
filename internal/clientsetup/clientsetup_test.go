package clientsetup_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"

	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/clientsetup/clientsetuptest"
)

var vault = clientsetup.Vault{Name: "work", URL: "http://127.0.0.1:7878/v/vabc/mcp", Token: "<TOKEN>",
	Bridge: clientsetup.Bridge{Program: "/usr/bin/agentvault", Vault: "work", Data: "/home/me/.config/agentvault"}}

func TestSnippets(t *testing.T) {
	for _, c := range clientsetup.Clients {
		s := c.Snippet(vault)
		switch c.ID {
		case "claude-desktop":
			if !strings.Contains(s, `"/usr/bin/agentvault"`) || !strings.Contains(s, `"--data"`) || strings.Contains(s, "<TOKEN>") {
				t.Errorf("%s: the bridge entry is not whole, or holds a token: %s", c.ID, s)
			}
		default:
			if !strings.Contains(s, vault.URL) || !strings.Contains(s, "Bearer <TOKEN>") {
				t.Errorf("%s: snippet lacks the URL or token as typed: %s", c.ID, s)
			}
		}
		var v any
		switch {
		case strings.HasPrefix(s, "{") && json.Unmarshal([]byte(s), &v) != nil:
			t.Errorf("%s: invalid JSON %s", c.ID, s)
		case c.ID == "codex" && toml.Unmarshal([]byte(s), &v) != nil:
			t.Errorf("%s: invalid TOML %s", c.ID, s)
		}
	}
	if _, err := clientsetup.Find("emacs"); err == nil || !strings.Contains(err.Error(), "claude-code") {
		t.Fatalf("unknown client: %v", err)
	}
}

// Each client's config, in its documented format, is found with its
// servers, their scope, and how they start.
func TestScanReadsEveryClientsFormat(t *testing.T) {
	p := clientsetuptest.Places(t)
	var got []string
	for _, f := range clientsetup.Scan(p) {
		if f.Err != nil {
			t.Errorf("%s: %v", f.Path, f.Err)
		}
		for _, s := range f.Servers {
			how := strings.Join(s.Command, " ") + s.URL
			got = append(got, strings.Join([]string{f.Client.ID, strings.TrimPrefix(f.Path, filepath.Dir(p.Home)), s.Name, s.Place.Scope, s.Project, how}, " | "))
		}
	}
	sort.Strings(got)
	want := []string{
		"claude-code | /home/.claude.json | db | local | /home/me/app | db-mcp --readonly",
		"claude-code | /home/.claude.json | github | user |  | github-mcp stdio",
		"claude-code | /project/.mcp.json | team-docs | project |  | https://docs.example.com/mcp",
		"claude-desktop | /home/.config/Claude/claude_desktop_config.json | filesystem | user |  | npx -y @modelcontextprotocol/server-filesystem /home/me/Desktop",
		"codex | /home/.codex/config.toml | files | user |  | files-mcp --root /home/me",
		"cursor | /home/.cursor/mcp.json | linear | user |  | https://mcp.linear.example/mcp",
		"gemini | /home/.gemini/settings.json | tickets | user |  | https://tickets.example.com/mcp",
		"vscode | /home/.config/Code/User/mcp.json | notes | user |  | notes-mcp --dir ${userHome}/notes",
		"vscode | /project/.vscode/mcp.json | shared-db | workspace |  | db-mcp",
		"windsurf | /home/.codeium/windsurf/mcp_config.json | search | user |  | https://search.example.com/mcp",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("scan:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestThroughAgentVault(t *testing.T) {
	for _, tc := range []struct {
		s    clientsetup.Server
		want bool
	}{
		{clientsetup.Server{URL: "http://127.0.0.1:7878/v/vabc12/mcp"}, true},
		{clientsetup.Server{URL: "http://localhost:9000/v/vabc12/mcp"}, true},
		{clientsetup.Server{URL: "https://evil.example/v/vabc12/mcp"}, false},
		{clientsetup.Server{URL: "http://127.0.0.1:7878/mcp"}, false},
		{clientsetup.Server{Command: []string{"/usr/local/bin/agentvault", "bridge", "work"}}, true},
		{clientsetup.Server{Command: []string{"npx", "agentvault", "bridge"}}, false},
	} {
		if got := tc.s.ThroughAgentVault(); got != tc.want {
			t.Errorf("%+v: %v, want %v", tc.s, got, tc.want)
		}
	}
}

// An earlier AgentVault kept a backup of the whole file; retiring it takes
// out only the vault entry it added, keeping what was added since.
func TestRetireBackupKeepsLaterEdits(t *testing.T) {
	c, _ := clientsetup.Find("cursor")
	path := filepath.Join(t.TempDir(), "mcp.json")
	os.WriteFile(path+".agentvault-backup", []byte(`{"mcpServers": {"old": {"command": "old-mcp"}}}`), 0o600)
	os.WriteFile(path, []byte(`{"mcpServers": {"old": {"command": "old-mcp"}, "work": {"url": "http://127.0.0.1:7878/v/vabc/mcp"}, "later": {"command": "later-mcp"}}}`), 0o600)
	removed, found, err := c.RetireBackup(path)
	if err != nil || !found || len(removed) != 1 || removed[0] != "work" {
		t.Fatalf("retire: %v %v %v", removed, found, err)
	}
	got, _ := os.ReadFile(path)
	if strings.Contains(string(got), "7878") || !strings.Contains(string(got), "later-mcp") || !strings.Contains(string(got), "old-mcp") {
		t.Fatalf("after retiring: %s", got)
	}
	if _, err := os.Stat(path + ".agentvault-backup"); !os.IsNotExist(err) {
		t.Fatal("the backup stayed")
	}
	if _, found, _ := c.RetireBackup(path); found {
		t.Fatal("a second retire found a backup")
	}
}
