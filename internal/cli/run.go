package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"golang.org/x/term"

	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/ptyrun"
	"github.com/agentvault/agentvault/internal/sandbox"
)

// ExitCode is a command's way to end with a program's exit status: main
// exits with it and says nothing.
type ExitCode int

func (e ExitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func runCommands() []Command {
	return []Command{{Name: "run", NArgs: -2, FlagsEnd: 1, Run: runAgent,
		Args:    "VAULT [--hide PATH]… [--show PATH]… [--display] [--no-sandbox] -- COMMAND [ARGS…]",
		Summary: "start an agent contained: the vault is its way to tools; AgentVault, the keychain and your credentials are out of its reach"}}
}

func runAgent(fs *flag.FlagSet) func(c *Call) error {
	var hide, show stringList
	fs.Var(&hide, "hide", "hide this path too (repeatable)")
	fs.Var(&show, "show", "show this hidden path after all, e.g. ~/.ssh for git over SSH (repeatable; never the data folder)")
	display := fs.Bool("display", false, "let the agent open windows (the X11 or Wayland display)")
	noSandbox := fs.Bool("no-sandbox", false, "run uncontained: the agent can then reach AgentVault's data, the keychain and your credentials")
	return func(c *Call) error {
		dir, err := c.Dir()
		if err != nil {
			return err
		}
		info, token, err := vaultAccess(c, withAPI, c.Args[0], "")
		if err != nil {
			return err
		}
		if token == "" {
			return errors.New("the vault's token is not kept on this machine: give it in $AGENTVAULT_TOKEN")
		}
		home, err := os.UserHomeDir()
		if err != nil {
			return err
		}
		spec := sandbox.Spec{Home: home, Data: dir, Runtime: os.Getenv("XDG_RUNTIME_DIR"), Hide: expandAll(home, hide),
			Show: expandAll(home, show), Display: *display, Root: os.Geteuid() == 0, NewSession: !onTerminal(c)}
		for _, p := range spec.Show {
			if within(p, spec.Data) || (spec.Runtime != "" && within(p, spec.Runtime)) {
				return c.Usage("--show %s: AgentVault's data folder and the session bus stay hidden", p)
			}
		}
		argv, cleanup, err := handVault(c.Args[1:], clientsetup.EntryName(info.Name), info.URL)
		if err != nil {
			return err
		}
		defer cleanup()
		if *noSandbox {
			fmt.Fprintln(c.Err(), "Warning: running uncontained (--no-sandbox): the agent can reach AgentVault's data, the keychain and your credentials.")
		} else {
			if err = sandbox.Available(); err == nil {
				argv, err = spec.Command(argv)
			}
			if err != nil {
				return fmt.Errorf("%w; agentvault run will not start an agent uncontained unless you give --no-sandbox", err)
			}
		}
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = append(spec.Environ(os.Environ(), "AGENTVAULT_URL", "AGENTVAULT_TOKEN"), "AGENTVAULT_URL="+info.URL, "AGENTVAULT_TOKEN="+token)
		if onTerminal(c) {
			err = ptyrun.Run(cmd, os.Stdin, c.Out())
		} else {
			cmd.Stdin, cmd.Stdout, cmd.Stderr = c.In(), c.Out(), c.Err()
			err = cmd.Run()
		}
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			return ExitCode(exit.ExitCode())
		}
		return err
	}
}

// onTerminal reports whether the command talks to a person's terminal.
func onTerminal(c *Call) bool {
	return c.Interactive() && term.IsTerminal(int(os.Stdout.Fd()))
}

// handVault gives an agent that takes MCP servers on its command line the
// vault there, with the token left in $AGENTVAULT_TOKEN (never in a file or
// in argv, which other processes can read): Claude Code a config file it
// reads alone (removed by cleanup), Codex an override. Other agents find
// $AGENTVAULT_URL and $AGENTVAULT_TOKEN.
func handVault(argv []string, name, url string) (_ []string, cleanup func(), err error) {
	cleanup = func() {}
	switch strings.TrimSuffix(filepath.Base(argv[0]), ".exe") {
	case "claude":
		f, err := os.CreateTemp("", "agentvault-mcp-*.json")
		if err != nil {
			return nil, cleanup, err
		}
		fmt.Fprintf(f, `{"mcpServers": {%q: {"type": "http", "url": %q, "headers": {"Authorization": "Bearer ${AGENTVAULT_TOKEN}"}}}}`+"\n", name, url)
		f.Close()
		cleanup = func() { os.Remove(f.Name()) }
		return append([]string{argv[0], "--mcp-config=" + f.Name(), "--strict-mcp-config"}, argv[1:]...), cleanup, nil
	case "codex":
		override := fmt.Sprintf(`mcp_servers.%s={url=%q,bearer_token_env_var="AGENTVAULT_TOKEN"}`, name, url)
		return append([]string{argv[0], "-c", override}, argv[1:]...), cleanup, nil
	}
	return argv, cleanup, nil
}

// expandAll makes paths absolute, ~ being home.
func expandAll(home string, paths []string) []string {
	out := make([]string, len(paths))
	for i, p := range paths {
		if rest, ok := strings.CutPrefix(p, "~"); ok {
			p = home + rest
		}
		out[i], _ = filepath.Abs(p)
	}
	return out
}

// within reports whether path is dir or inside it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
