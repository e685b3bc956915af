package clientsetup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var vault = Vault{Name: "work", URL: "http://127.0.0.1:7878/v/vabc/mcp", Token: "avt_T"}

// existing is a config a user already has: other servers and settings.
func existing(c Client) string {
	if c.entry == nil {
		return "model = \"o3\"\n\n[mcp_servers.other]\ncommand = \"other-server\"\n"
	}
	return `{"theme": "dark", "` + c.key + `": {"other": {"command": "other-server", "args": ["--x"]}}, "z": [1, 2]}`
}

func TestWriteMergesAndUndoRestoresByteForByte(t *testing.T) {
	for _, c := range Clients {
		t.Run(c.ID, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config")
			orig := existing(c)
			os.WriteFile(path, []byte(orig), 0o644)
			if err := c.Write(path, vault); err != nil {
				t.Fatal(err)
			}
			if err := c.Write(path, vault); err != nil && c.entry != nil { // writing twice is idempotent for JSON
				t.Fatal(err)
			}
			got, _ := os.ReadFile(path)
			golden := filepath.Join("testdata", c.ID+".golden")
			if os.Getenv("UPDATE_GOLDEN") == "1" {
				os.MkdirAll("testdata", 0o755)
				os.WriteFile(golden, got, 0o644)
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("golden missing (UPDATE_GOLDEN=1): %v", err)
			}
			if string(got) != string(want) {
				t.Fatalf("config written:\n%s\nwant:\n%s", got, want)
			}
			if c.entry != nil {
				var doc map[string]any
				json.Unmarshal(got, &doc)
				servers := doc[c.key].(map[string]any)
				if servers["other"] == nil || doc["theme"] != "dark" || doc["z"] == nil {
					t.Fatalf("existing entries lost: %s", got)
				}
			} else if !strings.Contains(string(got), "[mcp_servers.other]") {
				t.Fatalf("existing entries lost: %s", got)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o644 {
				t.Fatalf("mode changed to %v", fi.Mode().Perm())
			}
			if err := Undo(path); err != nil {
				t.Fatal(err)
			}
			if back, _ := os.ReadFile(path); string(back) != orig {
				t.Fatalf("undo gave %q, want the original %q", back, orig)
			}
			if err := Undo(path); err == nil {
				t.Fatal("a second undo found a backup")
			}
		})
	}
}

func TestWriteCreatesAndUndoRemoves(t *testing.T) {
	c, _ := Find("cursor")
	path := filepath.Join(t.TempDir(), "new", "mcp.json")
	if err := c.Write(path, vault); err != nil {
		t.Fatal(err)
	}
	if err := Undo(path); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("undo left a file that did not exist before")
	}
}

func TestWriteRefusesABrokenConfig(t *testing.T) {
	c, _ := Find("cursor")
	path := filepath.Join(t.TempDir(), "mcp.json")
	os.WriteFile(path, []byte("{not json"), 0o600)
	if err := c.Write(path, vault); err == nil || !strings.Contains(err.Error(), "not valid JSON") {
		t.Fatalf("broken config: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "{not json" {
		t.Fatal("a broken config was overwritten")
	}
}

func TestSnippets(t *testing.T) {
	for _, c := range Clients {
		s := c.Snippet(vault)
		if !strings.Contains(s, vault.Token) || (c.ID != "claude-desktop" && !strings.Contains(s, vault.URL)) {
			t.Errorf("%s: snippet lacks the URL or token: %s", c.ID, s)
		}
		if strings.HasPrefix(s, "{") && !json.Valid([]byte(s)) {
			t.Errorf("%s: invalid JSON %s", c.ID, s)
		}
	}
	placeholder := vault
	placeholder.Token = "<TOKEN>"
	for _, c := range Clients {
		if s := c.Snippet(placeholder); !strings.Contains(s, "<TOKEN>") {
			t.Errorf("%s: the placeholder is not shown as typed: %s", c.ID, s)
		}
	}
	if _, err := Find("emacs"); err == nil || !strings.Contains(err.Error(), "claude-code") {
		t.Fatalf("unknown client: %v", err)
	}
}

func TestSetupOfEveryClient(t *testing.T) {
	v := Vault{Name: "work", URL: "http://127.0.0.1:7878/v/v1/mcp", Token: "avt_T"}
	for _, client := range append(Names(), "Other") {
		where, text := Setup(client, v)
		usesBridge := client == "Claude Desktop" // local commands only: the stdio bridge, by vault name
		if (!usesBridge && !strings.Contains(text, v.URL)) || !strings.Contains(text, v.Token) || where == "" {
			t.Errorf("%s: snippet %q (%s) lacks the URL, the token or where it goes", client, text, where)
		}
		if strings.HasPrefix(text, "{") && !json.Valid([]byte(text)) {
			t.Errorf("%s: invalid JSON %s", client, text)
		}
	}
	if _, got := Setup("Claude Code", v); got != `claude mcp add --transport http work `+v.URL+` --header "Authorization: Bearer avt_T"` {
		t.Errorf("Claude Code snippet %q", got)
	}
}
