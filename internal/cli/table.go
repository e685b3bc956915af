package cli

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/agentvault/agentvault/internal/bench"
	"github.com/agentvault/agentvault/internal/control"
	"github.com/agentvault/agentvault/internal/core"
)

// table is every command, in the order help lists them.
func table() []Command {
	cmds := []Command{
		{Name: "start", Args: "[--listen ADDR]", Run: startCommand,
			Summary: "start AgentVault: the desktop app with a display, the headless server without"},
		{Name: "init", Run: initCommand, Summary: "a guided first run in the terminal"},
		{Name: "serve", Args: "[--listen 127.0.0.1:PORT]", Run: serveCommand, Summary: "run the headless server"},
		{Name: "status", JSON: true, Run: statusCommand, Summary: "running or not, where, vaults, agents, approvals and services"},
		{Name: "logs", Args: "[-f] [--lines N]", Run: logsCommand, Summary: "what AgentVault logged while it ran (-f: and keeps logging)"},
	}
	cmds = append(cmds, serviceCommands()...)
	cmds = append(cmds, vaultCommands()...)
	cmds = append(cmds, approvalCommands()...)
	cmds = append(cmds, auditCommands()...)
	cmds = append(cmds, Command{Name: "settings", JSON: true, Args: "[--max-pending N] [--max-sessions N] [--body-timeout D]", Run: settingsCommand,
		Summary: "per vault: calls waiting for approval, open sessions, time to send a request"})
	cmds = append(cmds, auth0Commands()...)
	cmds = append(cmds, clientCommands()...)
	cmds = append(cmds, runCommands()...)
	return append(cmds,
		Command{Name: "bench", Args: "[--rounds N] [--calls N] [--duration D]", Run: benchCommand,
			Summary: "measure calls direct and through a vault on this machine"},
		Command{Name: "completion", NArgs: 1, Args: "bash|zsh|fish", Run: completionCommand,
			Summary: "the shell completion script for every command and flag"},
		Command{Name: "version", JSON: true, Run: versionCommand, Summary: "this build's version, commit, date, Go version and platform"},
	)
}

// listenFlag is the address flag of the commands that serve.
func listenFlag(fs *flag.FlagSet) *string {
	return fs.String("listen", core.DefaultListen, "loopback address to listen on")
}

func startCommand(fs *flag.FlagSet) func(c *Call) error {
	listen := listenFlag(fs)
	return func(c *Call) error {
		dir, err := c.Dir()
		if err != nil {
			return err
		}
		if running, err := raiseRunning(c, dir); running || err != nil {
			return err
		}
		return c.env.Start(c.Ctx, dir, *listen)
	}
}

// raiseRunning opens the window of the AgentVault already running on dir,
// as starting a desktop app twice does, and reports whether one runs. One
// that runs headless has no window: starting is then an error.
func raiseRunning(c *Call, dir string) (bool, error) {
	keys, err := Secrets(dir)
	if err != nil {
		return false, err
	}
	cl, err := control.Dial(control.SocketPath(dir), keys)
	if errors.Is(err, control.ErrNotRunning) {
		return false, nil
	}
	if err != nil {
		return true, err
	}
	switch err := cl.Raise(c.Ctx); {
	case errors.Is(err, control.ErrNoWindow):
		return true, fmt.Errorf("AgentVault already runs headless (agentvault serve) with data folder %s, without a window: stop it first to start the desktop app, or use --data for another folder", dir)
	case err != nil:
		return true, err
	}
	fmt.Fprintln(c.Out(), "AgentVault is already running: its window is open.")
	return true, nil
}

func serveCommand(fs *flag.FlagSet) func(c *Call) error {
	listen := listenFlag(fs)
	return func(c *Call) error {
		dir, err := c.Dir()
		if err != nil {
			return err
		}
		return c.env.Serve(c.Ctx, dir, *listen)
	}
}

func benchCommand(fs *flag.FlagSet) func(c *Call) error {
	rounds := fs.Int("rounds", 5, "interleaved rounds of direct and via-vault calls")
	calls := fs.Int("calls", 400, "calls per mode per round")
	duration := fs.Duration("duration", 3*time.Second, "length of each throughput measurement (direct and via the vault each), split over the rounds")
	return func(c *Call) error {
		if *rounds < 1 || *calls < 10 || *duration < 100*time.Millisecond {
			return c.Usage("needs --rounds ≥ 1, --calls ≥ 10 and --duration ≥ 100ms")
		}
		self, err := os.Executable()
		if err != nil {
			return err
		}
		return bench.Run(c.Ctx, bench.Config{Rounds: *rounds, Calls: *calls, Duration: *duration, Serve: []string{self}}, c.Out())
	}
}

func completionCommand(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error { return completion(c.Out(), c.Args[0]) }
}

// buildInfo is what `agentvault version --json` prints.
type buildInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit"`
	Date     string `json:"date"`
	Go       string `json:"go"`
	Platform string `json:"platform"`
}

func versionCommand(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		b := buildInfo{Version: c.env.Version, Commit: orUnknown(c.env.Commit), Date: orUnknown(c.env.Date),
			Go: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
		if c.JSON {
			return printJSON(c.Out(), b)
		}
		fmt.Fprintf(c.Out(), "agentvault %s (commit %s, built %s, %s, %s)\n", b.Version, b.Commit, b.Date, b.Go, b.Platform)
		return nil
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
