// Package cli is AgentVault's command line: one table of commands (name,
// usage, flags, what runs), from which the dispatch, every help text and the
// shell completions are made, so they cannot drift apart.
//
// Commands reach AgentVault through api.API: the running server over its
// control socket, or the data folder itself when none runs. The root wires
// what only it may (serving, the desktop app) through Env. The CLI must
// never hold state beyond one run, nor write anywhere but what a command
// names.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"golang.org/x/term"

	"github.com/agentvault/agentvault/internal/core"
)

// Env is what the command line runs with.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	// Version, Commit and Date describe this build, for `agentvault
	// version`.
	Version, Commit, Date string
	// Serve runs the headless server on the data folder dir until ctx ends.
	Serve func(ctx context.Context, dir, listen string) error
	// Start runs the desktop app where it can, the headless server
	// otherwise.
	Start func(ctx context.Context, dir, listen string) error
	// Attach builds the MCP server of co without listening, for what only
	// it can answer when AgentVault is not running (vault explain).
	Attach func(ctx context.Context, co *core.Core) (detach func(), err error)
}

// UsageError is a mistake on the command line: main exits with 2 and points
// to the help.
type UsageError struct{ Msg string }

func (u UsageError) Error() string { return u.Msg }

func usagef(format string, args ...any) error { return UsageError{fmt.Sprintf(format, args...)} }

// Command is one line of the table.
type Command struct {
	// Name is the words that call it: "vault create".
	Name string
	// Args is what follows the name in its usage line.
	Args string
	// Summary says in one line what it does.
	Summary string
	// NArgs is how many positional arguments it takes; a negative n means
	// at least -n. Optional more may follow.
	NArgs, Optional int
	// FlagsEnd, when set, is how many positional arguments end the
	// command's flags: what follows is another program's command line.
	FlagsEnd int
	// JSON says it takes --json.
	JSON bool
	// Run registers the command's own flags on fs and returns what runs it.
	Run func(fs *flag.FlagSet) func(c *Call) error
}

// Call is one run of a command.
type Call struct {
	// Args are the positional arguments, JSON says --json was given.
	Args []string
	JSON bool
	// Ctx ends when the user presses Ctrl-C.
	Ctx  context.Context
	env  *Env
	data string // --data
	name string
}

// Out is where the command writes its results.
func (c *Call) Out() io.Writer { return c.env.Stdout }

// Err is where the command writes warnings.
func (c *Call) Err() io.Writer { return c.env.Stderr }

// In is the command's standard input.
func (c *Call) In() io.Reader { return c.env.Stdin }

// Interactive reports whether a person can answer on standard input.
func (c *Call) Interactive() bool {
	f, ok := c.In().(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// Confirm asks question on the terminal and reports whether the answer
// was yes.
func (c *Call) Confirm(question string) bool {
	fmt.Fprintf(c.Out(), "%s [y/N] ", question)
	line, _ := bufio.NewReader(c.In()).ReadString('\n')
	answer := strings.ToLower(strings.TrimSpace(line))
	return answer == "y" || answer == "yes"
}

// Usage is the error for wrong arguments to this command.
func (c *Call) Usage(format string, args ...any) error {
	return usagef("%s: %s", c.name, fmt.Sprintf(format, args...))
}

// Run runs the command line args and returns what main should report.
func Run(args []string, env Env) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	switch {
	case len(args) == 0 || strings.HasPrefix(args[0], "-") && !isHelp(args[0]) && args[0] != "--version":
		return run(ctx, &env, find("start"), args)
	case isHelp(args[0]) || args[0] == "help":
		return help(env.Stdout, args[1:])
	case args[0] == "--version":
		return run(ctx, &env, find("version"), args[1:])
	}
	cmd, rest, err := lookup(args)
	if errors.Is(err, errHelpShown) {
		return help(env.Stdout, args[:1])
	}
	if err != nil {
		return err
	}
	return run(ctx, &env, cmd, rest)
}

func isHelp(a string) bool { return a == "-h" || a == "--help" || a == "-help" }

// lookup finds the command args name (its words) and returns the rest.
func lookup(args []string) (Command, []string, error) {
	var best Command
	n := 0
	for _, c := range table() {
		words := strings.Fields(c.Name)
		if len(words) > n && len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			best, n = c, len(words)
		}
	}
	if n > 0 {
		return best, args[n:], nil
	}
	if g := group(args[0]); len(g) > 0 {
		if len(args) > 1 && isHelp(args[1]) {
			return Command{}, nil, errHelpShown
		}
		msg := fmt.Sprintf("%s needs one of: %s", args[0], strings.Join(subcommands(args[0]), ", "))
		if len(args) > 1 {
			msg = fmt.Sprintf("unknown command %q%s", args[0]+" "+args[1], suggest(args[1], subcommands(args[0])))
		}
		return Command{}, nil, UsageError{msg}
	}
	return Command{}, nil, usagef("unknown command %q%s", args[0], suggest(args[0], topLevel()))
}

// errHelpShown stands for "GROUP --help", which help answers.
var errHelpShown = errors.New("help")

// run parses args for cmd and runs it.
func run(ctx context.Context, env *Env, cmd Command, args []string) error {
	call, body, err := parse(ctx, env, cmd, args)
	if err != nil || body == nil {
		return err
	}
	return body(call)
}

// parse reads args for cmd — flags before, between and after positional
// arguments, "--" ending the flags — and returns the call and what runs it.
// A nil body with a nil error means help was asked for, and shown.
func parse(ctx context.Context, env *Env, cmd Command, args []string) (*Call, func(*Call) error, error) {
	fs := flag.NewFlagSet(cmd.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	call := &Call{Ctx: ctx, env: env, name: "agentvault " + cmd.Name}
	fs.StringVar(&call.data, "data", "", "the data folder (default $AGENTVAULT_DATA, else the user config folder's agentvault/)")
	if cmd.JSON {
		fs.BoolVar(&call.JSON, "json", false, "print JSON")
	}
	body := cmd.Run(fs)
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			writeCommandHelp(env.Stdout, cmd)
			return nil, nil, nil
		}
		if err != nil {
			return nil, nil, flagError(cmd, fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			call.Args = append(call.Args, args[1:]...)
			break
		}
		if cmd.FlagsEnd > 0 && len(call.Args) == cmd.FlagsEnd {
			call.Args = append(call.Args, args...)
			break
		}
		call.Args, args = append(call.Args, args[0]), args[1:]
	}
	n, got := cmd.NArgs, len(call.Args)
	if (n >= 0 && (got < n || got > n+cmd.Optional)) || (n < 0 && got < -n) {
		return nil, nil, usagef("usage: agentvault %s %s", cmd.Name, cmd.Args)
	}
	return call, body, nil
}

// flagError words a flag the command does not take, suggesting the closest
// one it does.
func flagError(cmd Command, fs *flag.FlagSet, err error) error {
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		var names []string
		fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
		name = strings.TrimLeft(name, "-")
		return usagef("agentvault %s: unknown flag --%s%s", cmd.Name, name, suggestFlag(name, names))
	}
	return usagef("agentvault %s: %s", cmd.Name, msg)
}

// find returns the command named name.
func find(name string) Command {
	for _, c := range table() {
		if c.Name == name {
			return c
		}
	}
	panic("cli: no command " + name)
}
