//go:build !unix

package ptyrun

import (
	"io"
	"os"
	"os/exec"
)

// Run starts cmd on the user's own console and returns its end: this
// platform has no pseudo-terminal to relay, and no console input a program
// could inject into the user's shell.
func Run(cmd *exec.Cmd, in *os.File, out io.Writer) error {
	cmd.Stdin, cmd.Stdout = in, out
	if cmd.Stderr == nil {
		cmd.Stderr = out
	}
	return cmd.Run()
}
