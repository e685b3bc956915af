package configedit

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// vscode is a user's mcp.json as VS Code writes it: comments and trailing
// commas.
const vscode = `// My MCP servers
{
	"inputs": [],
	"servers": {
		// the files of my projects
		"files": {
			"type": "stdio",
			"command": "npx",
			"args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects"], // all of them
		},
		"web": {"type": "http", "url": "https://example.com/mcp",},
	},
}
`

func TestJSONWithCommentsIsEditedInPlace(t *testing.T) {
	d, err := Parse([]byte(vscode), JSON)
	if err != nil {
		t.Fatal(err)
	}
	entry, err := d.Format([]string{"servers", "agentvault"}, map[string]any{"type": "http", "url": "http://127.0.0.1:7878/v/v1/mcp",
		"headers": map[string]string{"Authorization": "Bearer <TOKEN>"}})
	if err != nil {
		t.Fatal(err)
	}
	removed, err := d.Remove([]string{"servers", "files"})
	if err != nil || !strings.Contains(removed.Before, `"command": "npx"`) || removed.After != "" {
		t.Fatalf("remove: %+v, %v", removed, err)
	}
	added, err := d.Set([]string{"servers", "agentvault"}, entry)
	if err != nil || added.Before != "" {
		t.Fatalf("add: %+v, %v", added, err)
	}
	got := string(d.Bytes())
	for _, keep := range []string{"// My MCP servers", `"inputs": [],`, `"web": {"type": "http", "url": "https://example.com/mcp",},`} {
		if !strings.Contains(got, keep) {
			t.Errorf("the edit lost %q:\n%s", keep, got)
		}
	}
	if !strings.Contains(got, "\n\t\t\"agentvault\": {\n\t\t\t\"headers\": {\n\t\t\t\t\"Authorization\": \"Bearer <TOKEN>\"") {
		t.Errorf("the new entry is not indented as the file is:\n%s", got)
	}
	if strings.Contains(got, "server-filesystem") {
		t.Errorf("the removed entry is still there:\n%s", got)
	}
	if _, err := Parse([]byte(got), JSON); err != nil {
		t.Fatalf("the edited file does not parse: %v\n%s", err, got)
	}

	// Later the user adds a server by hand; undoing keeps it.
	later, _ := d.Set([]string{"servers", "mine"}, `{"command": "my-server"}`)
	_ = later
	kept, err := d.Revert([]Change{removed, added})
	if err != nil || len(kept) != 0 {
		t.Fatalf("revert: kept %v, %v", kept, err)
	}
	got = string(d.Bytes())
	if !strings.Contains(got, `"args": ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/projects"], // all of them`) ||
		strings.Contains(got, "agentvault") || !strings.Contains(got, `"mine"`) {
		t.Fatalf("after undo:\n%s", got)
	}
}

// A plain JSON file keeps its key order and indentation; only the new entry
// is new.
func TestPlainJSONKeepsItsLayout(t *testing.T) {
	orig := "{\n    \"theme\": \"dark\",\n    \"zeta\": 1,\n    \"alpha\": {\"nested\": true}\n}\n"
	d, _ := Parse([]byte(orig), JSON)
	entry, _ := d.Format([]string{"mcpServers", "vault"}, map[string]any{"url": "http://127.0.0.1:7878/v/v1/mcp"})
	c, err := d.Set([]string{"mcpServers", "vault"}, entry)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n    \"theme\": \"dark\",\n    \"zeta\": 1,\n    \"alpha\": {\"nested\": true},\n    \"mcpServers\": {\n        \"vault\": {\n            \"url\": \"http://127.0.0.1:7878/v/v1/mcp\"\n        }\n    }\n}\n"
	if got := string(d.Bytes()); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := d.Revert([]Change{c}); err != nil {
		t.Fatal(err)
	}
	if got := string(d.Bytes()); !strings.HasPrefix(got, "{\n    \"theme\": \"dark\",\n    \"zeta\": 1,\n    \"alpha\": {\"nested\": true}") {
		t.Fatalf("after undo:\n%s", got)
	}
}

// Keys may hold slashes (Claude Code's projects are keyed by path).
func TestPathsWithSlashes(t *testing.T) {
	d, _ := Parse([]byte(`{"projects": {"/home/me/app": {"mcpServers": {"db": {"command": "db-mcp"}}}}}`), JSON)
	path := []string{"projects", "/home/me/app", "mcpServers", "db"}
	if text, ok := d.Entry(path); !ok || !strings.Contains(text, "db-mcp") {
		t.Fatalf("entry %q %v", text, ok)
	}
	entries, err := d.Entries(path[:3])
	if err != nil || string(entries["db"]) != `{"command": "db-mcp"}` {
		t.Fatalf("entries %s, %v", entries, err)
	}
}

// An entry changed by hand after AgentVault wrote it is left alone by the
// undo, and named.
func TestRevertKeepsWhatWasChangedSince(t *testing.T) {
	d, _ := Parse([]byte(`{"mcpServers": {"files": {"command": "fs"}}}`), JSON)
	removed, _ := d.Remove([]string{"mcpServers", "files"})
	added, _ := d.Set([]string{"mcpServers", "vault"}, `{"url": "http://a"}`)
	d.Set([]string{"mcpServers", "vault"}, `{"url": "http://b"}`)       // edited by hand
	d.Set([]string{"mcpServers", "files"}, `{"command": "fs", "x": 1}`) // added again by hand
	kept, err := d.Revert([]Change{removed, added.Sealed()})
	if err != nil || !slices.Equal(kept, []string{"mcpServers.vault", "mcpServers.files"}) {
		t.Fatalf("kept %v, %v", kept, err)
	}
	if text, _ := d.Entry([]string{"mcpServers", "vault"}); text != `{"url": "http://b"}` {
		t.Fatalf("the hand-edited entry became %s", text)
	}
}

const codex = `model = "o4"

# tools
[mcp_servers.files]
command = "npx"
args = ["-y", "@modelcontextprotocol/server-filesystem"]

[mcp_servers.files.env]
ROOT = "/home/me"

[profiles.fast]
model = "o4-mini"
`

func TestTOMLTables(t *testing.T) {
	d, err := Parse([]byte(codex), TOML)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := d.Entries([]string{"mcp_servers"})
	if err != nil || !strings.Contains(string(entries["files"]), `"ROOT":"/home/me"`) {
		t.Fatalf("entries %s, %v", entries, err)
	}
	removed, err := d.Remove([]string{"mcp_servers", "files"})
	if err != nil || !strings.Contains(removed.Before, "[mcp_servers.files.env]") {
		t.Fatalf("remove %+v, %v", removed, err)
	}
	entry, _ := d.Format([]string{"mcp_servers", "agent vault"}, map[string]any{"url": "http://127.0.0.1:7878/v/v1/mcp",
		"http_headers": map[string]string{"Authorization": "Bearer t"}})
	added, err := d.Set([]string{"mcp_servers", "agent vault"}, entry)
	if err != nil {
		t.Fatal(err)
	}
	want := "model = \"o4\"\n\n# tools\n[profiles.fast]\nmodel = \"o4-mini\"\n\n[mcp_servers.\"agent vault\"]\nhttp_headers = { Authorization = \"Bearer t\" }\nurl = \"http://127.0.0.1:7878/v/v1/mcp\"\n"
	if got := string(d.Bytes()); got != want {
		t.Fatalf("got:\n%s\nwant:\n%s", got, want)
	}
	if _, err := Parse(d.Bytes(), TOML); err != nil {
		t.Fatal(err)
	}
	if added.Sealed().After != "" || added.Sealed().AfterSum == "" {
		t.Fatalf("sealed: %+v", added.Sealed())
	}
	if kept, err := d.Revert([]Change{removed, added.Sealed()}); err != nil || len(kept) != 0 {
		t.Fatalf("revert: %v %v", kept, err)
	}
	if !d.Same(string(d.Bytes()), codex) {
		t.Fatalf("after undo:\n%s", d.Bytes())
	}
}

// A file AgentVault created holds nothing else once its entries are undone.
func TestCreatedFileIsEmptyAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mcp.json")
	d, err := Load(path, JSON)
	if err != nil || !d.Created() {
		t.Fatalf("load of a missing file: %v", err)
	}
	c, _ := d.Set([]string{"mcpServers", "vault"}, `{"url": "http://a"}`)
	if err := d.Save(path); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v", fi.Mode())
	}
	d, _ = Load(path, JSON)
	d.Revert([]Change{c})
	if !d.Empty() {
		t.Fatalf("not empty: %s", d.Bytes())
	}
	if _, err := Load(filepath.Join(t.TempDir(), "x.json"), JSON); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(path, []byte("{ not json"), 0o600)
	if _, err := Load(path, JSON); err == nil || !strings.Contains(err.Error(), "leaves it as it is") {
		t.Fatalf("a broken file: %v", err)
	}
}
