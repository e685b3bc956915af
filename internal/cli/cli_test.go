package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// runCLI runs a command line with streams of its own.
func runCLI(args ...string) (string, error) {
	var out bytes.Buffer
	err := Run(args, Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &out, Version: "test"})
	return out.String(), err
}

// Help comes from the one table: for everything, for each command (help
// CMD and CMD --help alike) and for each group, always with exit 0.
func TestHelpEverywhere(t *testing.T) {
	all, err := runCLI("help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range table() {
		if !strings.Contains(all, c.Summary) {
			t.Errorf("help lacks %s", c.Name)
		}
		if c.Name == "start" {
			continue
		}
		words := strings.Fields(c.Name)
		byHelp, err1 := runCLI(append([]string{"help"}, words...)...)
		byFlag, err2 := runCLI(append(words, "--help")...)
		if err1 != nil || err2 != nil || byHelp != byFlag || !strings.Contains(byHelp, "Usage: agentvault "+c.Name) || !strings.Contains(byHelp, "--data") {
			t.Errorf("%s: help %q (%v), --help %q (%v)", c.Name, byHelp, err1, byFlag, err2)
		}
	}
	for _, g := range []string{"vault", "service", "approvals", "audit", "auth0", "client"} {
		out, err := runCLI(g, "--help")
		if err != nil || !strings.Contains(out, "agentvault "+g+" ") {
			t.Errorf("%s --help: %q %v", g, out, err)
		}
	}
	for _, args := range [][]string{{"-h"}, {"--help"}} {
		if out, err := runCLI(args...); err != nil || out != all {
			t.Errorf("%v: %v", args, err)
		}
	}
}

// Mistakes are answered with the closest command or flag.
func TestTyposGetSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"vualt", "list"}, `did you mean "vault"?`},
		{[]string{"vault", "craete", "x"}, `did you mean "create"?`},
		{[]string{"vault", "create", "x", "--servce", "fs"}, `unknown flag --servce (did you mean "--service"?)`},
		{[]string{"approvals", "aprove", "AV-1"}, `did you mean "approve"?`},
		{[]string{"vault"}, "vault needs one of: create, list"},
		{[]string{"vault", "policy", "a"}, "usage: agentvault vault policy VAULT TOOL-OR-PATTERN allow|approve|block|off"},
		{[]string{"xyzzy"}, `unknown command "xyzzy"`},
	} {
		_, err := runCLI(tc.args...)
		var u UsageError
		if !errors.As(err, &u) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want a usage error with %q", tc.args, err, tc.want)
		}
	}
}

// Completion scripts cover every command and flag, and bash reads its own.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, err := runCLI("completion", shell)
		if err != nil {
			t.Fatal(err)
		}
		names, flags := commandWords()
		for i, n := range names {
			if !strings.Contains(out, n[len(n)-1]) {
				t.Errorf("%s completion lacks %s", shell, strings.Join(n, " "))
			}
			for _, f := range flags[i] {
				if !strings.Contains(out, strings.TrimPrefix(f, "--")) {
					t.Errorf("%s completion lacks %s of %s", shell, f, strings.Join(n, " "))
				}
			}
		}
		if shell == "bash" {
			check := exec.Command("bash", "-n")
			check.Stdin = strings.NewReader(out)
			if msg, err := check.CombinedOutput(); err != nil {
				t.Errorf("bash cannot read its completion: %v %s", err, msg)
			}
		}
	}
	if _, err := runCLI("completion", "tcsh"); err == nil {
		t.Error("completion for an unknown shell")
	}
}

func TestTableNamesAreUnique(t *testing.T) {
	var seen []string
	for _, c := range table() {
		if slices.Contains(seen, c.Name) {
			t.Errorf("%s twice", c.Name)
		}
		seen = append(seen, c.Name)
	}
}

// FuzzCommandLine feeds arbitrary argument lists to the dispatch and flag
// parsing of every command: a usage error or a parsed call, never a panic.
func FuzzCommandLine(f *testing.F) {
	f.Add("vault create work --service fs --service git --approval-timeout 2m --json")
	f.Add("vault policy work fs_* block")
	f.Add("audit list --limit -1 --vault")
	f.Add("--data")
	f.Add("approvals approve --session --always x")
	f.Add("service add-mcp x -- --command y")
	f.Fuzz(func(t *testing.T, line string) {
		args := strings.Fields(line)
		if len(args) == 0 {
			return
		}
		cmd, rest, err := lookup(args)
		if err != nil {
			var u UsageError
			if !errors.As(err, &u) && !errors.Is(err, errHelpShown) {
				t.Fatalf("lookup error %T is not a usage error", err)
			}
			return
		}
		env := &Env{Stdout: &bytes.Buffer{}}
		call, body, err := parse(context.Background(), env, cmd, rest)
		var u UsageError
		switch {
		case err != nil && !errors.As(err, &u):
			t.Fatalf("parse error %T is not a usage error", err)
		case err == nil && body != nil:
			if n := cmd.NArgs; len(call.Args) != n && (n >= 0 || len(call.Args) < -n) {
				t.Fatalf("%s accepted %d positional arguments", cmd.Name, len(call.Args))
			}
		}
	})
}

// Approvals live in the running server's memory and the bridge relays to
// it: without it they say so and fail, rather than report an empty queue.
func TestServerCommandsSayItIsNotRunning(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("AGENTVAULT_TOKEN", "avt_x")
	for _, args := range [][]string{
		{"approvals", "list"},
		{"approvals", "approve", "AV-ABCD", "--yes"},
		{"bridge", "work"},
	} {
		_, err := runCLI(append(args, "--data", dir)...)
		if !errors.Is(err, errNotRunning) {
			t.Errorf("%v without a server: %v, want %q", args, err, errNotRunning)
		}
	}
}

// Agents that take MCP servers on their command line get the vault there,
// the token left in the environment.
func TestHandVault(t *testing.T) {
	argv, cleanup, err := handVault([]string{"/usr/local/bin/claude", "-p", "hi"}, "work", "http://127.0.0.1:7878/v/v1/mcp")
	if err != nil || len(argv) != 5 || argv[2] != "--strict-mcp-config" || argv[3] != "-p" {
		t.Fatalf("claude: %q, %v", argv, err)
	}
	file := strings.TrimPrefix(argv[1], "--mcp-config=")
	raw, err := os.ReadFile(file)
	if fi, _ := os.Stat(file); err != nil || fi.Mode().Perm() != 0o600 ||
		!strings.Contains(string(raw), `"Authorization": "Bearer ${AGENTVAULT_TOKEN}"`) || !strings.Contains(string(raw), `"work"`) {
		t.Fatalf("Claude Code's config: %s, %v", raw, err)
	}
	cleanup()
	if _, err := os.Stat(file); !os.IsNotExist(err) {
		t.Fatal("the config file stayed after the run")
	}
	argv, _, _ = handVault([]string{"codex"}, "work", "http://u")
	if !slices.Equal(argv, []string{"codex", "-c", `mcp_servers.work={url="http://u",bearer_token_env_var="AGENTVAULT_TOKEN"}`}) {
		t.Fatalf("codex: %q", argv)
	}
	if argv, _, _ = handVault([]string{"gemini", "-y"}, "work", "http://u"); !slices.Equal(argv, []string{"gemini", "-y"}) {
		t.Fatalf("gemini: %q", argv)
	}
}

// run's own flags end with the vault: the agent's flags are its own.
func TestRunTakesTheAgentsCommandLineWhole(t *testing.T) {
	for _, args := range [][]string{{"run", "work", "--", "claude", "--help"}, {"run", "work", "claude", "--help"}, {"run", "--display", "work", "claude", "--help"}} {
		call, _, err := parse(t.Context(), &Env{}, find("run"), args[1:])
		if err != nil || !slices.Equal(call.Args, []string{"work", "claude", "--help"}) {
			t.Errorf("%q: %q, %v", args, call.Args, err)
		}
	}
}

// version says what was built, from the values the build sets, on one line
// or as JSON.
func TestVersion(t *testing.T) {
	var out bytes.Buffer
	env := Env{Stdout: &out, Stderr: &out, Version: "0.1.0", Commit: "699ac9d", Date: "2026-12-03"}
	if err := Run([]string{"version"}, env); err != nil {
		t.Fatal(err)
	}
	want := "agentvault 0.1.0 (commit 699ac9d, built 2026-12-03, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if out.String() != want {
		t.Fatalf("version: %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := Run([]string{"version", "--json"}, env); err != nil {
		t.Fatal(err)
	}
	var b map[string]string
	if err := json.Unmarshal(out.Bytes(), &b); err != nil || b["version"] != "0.1.0" || b["commit"] != "699ac9d" || b["date"] != "2026-12-03" ||
		b["go"] != runtime.Version() || b["platform"] != runtime.GOOS+"/"+runtime.GOARCH || len(b) != 5 {
		t.Fatalf("version --json: %s %v", out.String(), err)
	}
	out.Reset()
	Run([]string{"version"}, Env{Stdout: &out, Stderr: &out, Version: "dev"})
	if !strings.HasPrefix(out.String(), "agentvault dev (commit unknown, built unknown, ") {
		t.Fatalf("a build without values: %q", out.String())
	}
}

// vault flow and vault explain refuse malformed lines before touching data.
func TestFlowAndExplainArguments(t *testing.T) {
	for _, args := range [][]string{
		{"vault", "flow", "v", "maybe"},
		{"vault", "flow", "v", "drain", "fs_*"},
		{"vault", "flow", "v", "sink", "fs_*", "perhaps"},
		{"vault", "flow", "v", "on", "extra", "words", "here"},
		{"vault", "explain", "v", "fs_read", "--args", "[1,2]"},
		{"vault", "explain", "v", "fs_read", "--args", "{"},
	} {
		var usage UsageError
		if _, err := runCLI(append(args, "--data", t.TempDir())...); !errors.As(err, &usage) {
			t.Errorf("%v: %v, want a usage error", args, err)
		}
	}
}
