// Command agentvault is the AgentVault desktop app, its headless server and
// its command line. This package is the composition root: it wires the
// server (serve.go), the desktop app (gui.go) and the command line
// (internal/cli) together. It must never hold logic of its own: what it
// wires lives in the packages.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/agentvault/agentvault/internal/cli"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/plainlocale"
	"github.com/agentvault/agentvault/internal/serving"
)

// version, commit and date are set at build time with -ldflags "-X
// main.version=…" (this machine's Go builds carry no VCS information).
var version, commit, date = "dev", "", ""

func main() {
	plainlocale.Restore()
	if err := harden(); err != nil {
		fmt.Fprintln(os.Stderr, "agentvault: cannot protect this process's memory:", err)
		os.Exit(1)
	}
	cli.Passphrase() // out of the environment before any program is started
	err := cli.Run(os.Args[1:], cli.Env{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: version, Commit: commit, Date: date,
		Serve: func(ctx context.Context, dir, listen string) error {
			return serve(ctx, dir, listen, os.Stdout, os.Stderr)
		},
		Start: func(ctx context.Context, dir, listen string) error {
			return start(ctx, dir, listen, os.Stdout, os.Stderr)
		},
		Attach: func(ctx context.Context, co *core.Core) (func(), error) {
			srv, err := serving.New(ctx, co)
			if err != nil {
				return nil, err
			}
			return srv.Close, nil
		},
	})
	var exit cli.ExitCode
	switch {
	case err == nil:
		return
	case errors.As(err, &exit): // a program's own status, passed on
		os.Exit(int(exit))
	}
	fmt.Fprintln(os.Stderr, "agentvault:", err)
	var u cli.UsageError
	if errors.As(err, &u) {
		fmt.Fprintln(os.Stderr, "run `agentvault help` for usage")
		os.Exit(2)
	}
	os.Exit(1)
}

// start runs the desktop app where it can, and the headless server
// otherwise, saying why.
func start(ctx context.Context, dir, listen string, stdout, stderr io.Writer) error {
	switch {
	case !guiBuilt:
		fmt.Fprintln(stdout, "This build has no desktop app (built with CGO_ENABLED=0): running the headless server.")
	case os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "":
		fmt.Fprintln(stdout, "No display found: running the headless server.")
	default:
		return runGUI(ctx, dir, listen, stdout, stderr)
	}
	return serve(ctx, dir, listen, stdout, stderr)
}
