package upstream

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
)

func TestEnvironment(t *testing.T) {
	parent := []string{"PATH=/bin", "HOME=/home/me", "LC_TIME=C", "AGENTVAULT_PASSPHRASE=pw", "agentvault_data=/x",
		"GITHUB_TOKEN=ghp_x", "AWS_SECRET_ACCESS_KEY=k", "EDITOR=vi", "REGION=eu", "=C:=C:\\"}
	for _, tc := range []struct {
		name      string
		pass, own []string
		want      []string
	}{
		{"ok/allowlist-only", nil, nil, []string{"PATH=/bin", "HOME=/home/me", "LC_TIME=C"}},
		{"ok/passed-by-name", []string{"REGION", "AGENTVAULT_PASSPHRASE"}, nil, []string{"PATH=/bin", "HOME=/home/me", "LC_TIME=C", "REGION=eu"}},
		{"ok/own-values-win", nil, []string{"HOME=/srv", "API_KEY=abc", "AGENTVAULT_DATA=/y"}, []string{"PATH=/bin", "LC_TIME=C", "HOME=/srv", "API_KEY=abc"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := environment(parent, tc.pass, tc.own); !slices.Equal(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// A real stdio server sees the allowlist, its own values and what the user
// passes — never AgentVault's variables or the rest of its environment.
func TestStdioServerGetsOnlyItsEnvironment(t *testing.T) {
	t.Setenv("AGENTVAULT_PASSPHRASE", "canary-passphrase-31")
	t.Setenv("UNRELATED_SECRET", "canary-unrelated-32")
	t.Setenv("PASSED_ON", "canary-passed-33")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{Name: "echo", Command: []string{self}, Logger: quiet, PassEnv: []string{"PASSED_ON"},
		Env: []string{"UPSTREAM_TEST_ROLE=echo", "UPSTREAM_TEST_CANCELLED=" + filepath.Join(t.TempDir(), "c")}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	res, err := p.Call(t.Context(), "environ", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	env := res.Content[0].(mcp.TextContent).Text
	for _, banned := range []string{"AGENTVAULT_", "canary-passphrase-31", "UNRELATED_SECRET"} {
		if strings.Contains(env, banned) {
			t.Errorf("the server's environment holds %s:\n%s", banned, env)
		}
	}
	for _, want := range []string{"PATH=", "HOME=", "UPSTREAM_TEST_ROLE=echo", "PASSED_ON=canary-passed-33"} {
		if !strings.Contains(env, want) {
			t.Errorf("the server's environment lacks %s:\n%s", want, env)
		}
	}
}
