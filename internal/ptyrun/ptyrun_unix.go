//go:build unix

// Package ptyrun runs an interactive program on a pseudo-terminal of its
// own, relaying the user's terminal to it: keys, output and window size.
// The program can then type only into its own terminal, never into the
// user's shell, and full-screen programs still work.
//
// It must never leave the user's terminal in raw mode.
package ptyrun

import (
	"io"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/term"
)

// Run starts cmd on a new pseudo-terminal, in a session of its own, relays
// in (a terminal) and out to it, and returns cmd's end (Wait's error).
func Run(cmd *exec.Cmd, in *os.File, out io.Writer) error {
	size, _ := pty.GetsizeFull(in)
	ptmx, err := pty.StartWithSize(cmd, size)
	if err != nil {
		return err
	}
	defer ptmx.Close()

	winch := make(chan os.Signal, 1)
	signal.Notify(winch, syscall.SIGWINCH)
	defer signal.Stop(winch)
	go func() {
		for range winch {
			_ = pty.InheritSize(in, ptmx)
		}
	}()
	if old, err := term.MakeRaw(int(in.Fd())); err == nil {
		defer term.Restore(int(in.Fd()), old)
	}
	go func() { _, _ = io.Copy(ptmx, in) }() // ends with the process
	_, _ = io.Copy(out, ptmx)                // ends when the program's side closes
	return cmd.Wait()
}
