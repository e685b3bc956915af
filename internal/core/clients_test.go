package core

import (
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup/clientsetuptest"
	"github.com/agentvault/agentvault/providers/providertest"
)

// Importing Cursor's servers makes each that works a service behind a new
// vault and points Cursor at the vault; one that fails stays where it was.
// The undo, after a hand edit, restores Cursor's own entries and keeps the
// hand edit.
func TestImportAndUndoAClient(t *testing.T) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close)
	p := clientsetuptest.Places(t)
	cfg := filepath.Join(p.Home, ".cursor", "mcp.json")
	orig := `{
  "mcpServers": {
    "linear": {
      "url": "` + up.URL + `/mcp",
      "headers": {"Authorization": "Bearer lin_canary_cursor"}
    },
    "broken": {"command": "no-such-mcp-server"}
  }
}
`
	os.WriteFile(cfg, []byte(orig), 0o600)
	c := openCore(t)

	res, err := c.ImportClient(t.Context(), api.ImportSpec{Client: "cursor", Places: p, Program: "/usr/bin/agentvault"})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Moved, []string{"linear"}) || res.Created == nil || res.Vault != "cursor" ||
		len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0], "no-such-mcp-server: not found") || !slices.Equal(res.Configs, []string{cfg}) {
		t.Fatalf("import: %+v", res)
	}
	edited, _ := os.ReadFile(cfg)
	for _, want := range []string{`"broken"`, `"cursor": {`, res.Created.URL, "Bearer " + res.Created.Token} {
		if !strings.Contains(string(edited), want) {
			t.Errorf("Cursor's config lacks %q:\n%s", want, edited)
		}
	}
	if strings.Contains(string(edited), "lin_canary_cursor") || strings.Contains(string(edited), `"linear"`) {
		t.Fatalf("the moved server is still in Cursor's config:\n%s", edited)
	}
	if d, err := c.Vault(t.Context(), "cursor"); err != nil || len(d.Tools) == 0 || d.Tools[0].Service != "linear" {
		t.Fatalf("the vault does not offer the server's tools: %+v, %v", d.Tools, err)
	}
	if leaked := filesHolding(t, c.dataDir, "lin_canary_cursor"); len(leaked) > 0 {
		t.Fatalf("the server's credential reached the data folder: %v", leaked)
	}
	found, _ := c.ScanClients(t.Context(), p)
	for _, f := range found {
		for _, s := range f.Servers {
			if f.Client == "cursor" && s.Name == "cursor" && !s.ThroughAgentVault {
				t.Fatal("the vault's entry is not seen as going through AgentVault")
			}
		}
	}

	// By hand, later: another server.
	later := strings.Replace(string(edited), `"mcpServers": {`, `"mcpServers": {
    "mine": {"command": "my-mcp"},`, 1)
	os.WriteFile(cfg, []byte(later), 0o600)

	undo, err := c.UndoClient(t.Context(), api.ClientUndo{Client: "cursor", Places: p})
	if err != nil || len(undo.Kept) != 0 {
		t.Fatalf("undo: %+v, %v", undo, err)
	}
	back, _ := os.ReadFile(cfg)
	for _, want := range []string{`"mine"`, `"linear"`, "lin_canary_cursor", `"broken"`} {
		if !strings.Contains(string(back), want) {
			t.Errorf("after undo the config lacks %q:\n%s", want, back)
		}
	}
	if strings.Contains(string(back), res.Created.Token) {
		t.Fatalf("after undo the vault's entry is still there:\n%s", back)
	}
	if _, err := c.UndoClient(t.Context(), api.ClientUndo{Client: "cursor", Places: p}); err == nil {
		t.Fatal("a second undo found something to undo")
	}
}

// client setup --write into a file that does not exist creates it; the undo
// removes it again, as it holds nothing else. Into VS Code's JSONC, the
// comments survive the write and the undo.
func TestWriteClientAndUndo(t *testing.T) {
	p := clientsetuptest.Places(t)
	c := openCore(t)
	nv, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work"})
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(p.Home, ".gemini", "settings.json"))
	res, err := c.WriteClient(t.Context(), api.ClientSetup{Client: "gemini", Vault: "work", Places: p, Program: "/usr/bin/agentvault"})
	if err != nil {
		t.Fatal(err)
	}
	gemini := res.Configs[0]
	if raw, _ := os.ReadFile(gemini); !strings.Contains(string(raw), `"httpUrl": "`+nv.URL) {
		t.Fatalf("gemini config: %s", raw)
	}
	undo, err := c.UndoClient(t.Context(), api.ClientUndo{Client: "gemini", Places: p})
	if err != nil || !slices.Equal(undo.Removed, []string{gemini}) {
		t.Fatalf("undo: %+v, %v", undo, err)
	}

	vscode := filepath.Join(p.Home, ".config", "Code", "User", "mcp.json")
	orig, _ := os.ReadFile(vscode)
	if _, err := c.WriteClient(t.Context(), api.ClientSetup{Client: "vscode", Vault: "work", Places: p, Program: "/usr/bin/agentvault"}); err != nil {
		t.Fatal(err)
	}
	written, _ := os.ReadFile(vscode)
	if !strings.Contains(string(written), "// my notes") || !strings.Contains(string(written), `"type": "http"`) {
		t.Fatalf("VS Code's config after the write:\n%s", written)
	}
	if _, err := c.UndoClient(t.Context(), api.ClientUndo{Client: "vscode", Places: p, Last: true}); err != nil {
		t.Fatal(err)
	}
	if back, _ := os.ReadFile(vscode); string(back) != string(orig) {
		t.Fatalf("undo did not give back VS Code's file:\n%s\nwant:\n%s", back, orig)
	}
}

// filesHolding lists the files under dir that contain s.
func filesHolding(t *testing.T, dir, s string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if raw, _ := os.ReadFile(path); strings.Contains(string(raw), s) {
				out = append(out, path)
			}
		}
		return nil
	})
	return out
}

// Every client, in its own words: a remote server moves behind the vault
// and comes back with the undo.
func TestImportEveryClient(t *testing.T) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close)
	u := up.URL + "/mcp"
	configs := map[string]struct{ file, text string }{
		"claude-code":    {".claude.json", `{"numStartups": 3, "mcpServers": {"remote": {"type": "http", "url": "` + u + `"}}}`},
		"claude-desktop": {".config/Claude/claude_desktop_config.json", `{"mcpServers": {"remote": {"url": "` + u + `"}}}`},
		"cursor":         {".cursor/mcp.json", `{"mcpServers": {"remote": {"url": "` + u + `"}}}`},
		"vscode":         {".config/Code/User/mcp.json", "// mine\n{\"servers\": {\"remote\": {\"type\": \"http\", \"url\": \"" + u + "\",},},}\n"},
		"windsurf":       {".codeium/windsurf/mcp_config.json", `{"mcpServers": {"remote": {"serverUrl": "` + u + `"}}}`},
		"gemini":         {".gemini/settings.json", `{"theme": "x", "mcpServers": {"remote": {"httpUrl": "` + u + `"}}}`},
		"codex":          {".codex/config.toml", "model = \"o4\"\n\n[mcp_servers.remote]\nurl = \"" + u + "\"\n"},
	}
	for id, cfg := range configs {
		t.Run(id, func(t *testing.T) {
			home := t.TempDir()
			p := api.Places{Home: home, OS: "linux"}
			path := filepath.Join(home, cfg.file)
			os.MkdirAll(filepath.Dir(path), 0o700)
			os.WriteFile(path, []byte(cfg.text), 0o600)
			c := openCore(t)
			res, err := c.ImportClient(t.Context(), api.ImportSpec{Client: id, Places: p, Program: "/usr/bin/agentvault"})
			if err != nil || !slices.Equal(res.Moved, []string{"remote"}) {
				t.Fatalf("import: %+v, %v", res, err)
			}
			found, _ := c.ScanClients(t.Context(), p)
			if len(found) != 1 || len(found[0].Servers) != 1 || !found[0].Servers[0].ThroughAgentVault || found[0].Servers[0].Name != id {
				t.Fatalf("after import the client has %+v", found)
			}
			if _, err := c.UndoClient(t.Context(), api.ClientUndo{Client: id, Places: p}); err != nil {
				t.Fatal(err)
			}
			found, _ = c.ScanClients(t.Context(), p)
			if len(found) != 1 || len(found[0].Servers) != 1 || found[0].Servers[0].Name != "remote" || found[0].Servers[0].URL != u {
				t.Fatalf("after undo the client has %+v", found)
			}
		})
	}
}
