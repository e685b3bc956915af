//go:build unix

package ptyrun

import (
	"bytes"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// The program gets a terminal of its own the size of the user's, in a
// session of its own, and its exit status comes back.
func TestRunOnATerminalOfItsOwn(t *testing.T) {
	user, userSide, err := pty.Open() // the user's terminal
	if err != nil {
		t.Fatal(err)
	}
	defer user.Close()
	defer userSide.Close()
	pty.Setsize(userSide, &pty.Winsize{Rows: 31, Cols: 97})
	var out bytes.Buffer
	cmd := exec.Command("sh", "-c", `stty size; [ "$(tty)" != "`+userSide.Name()+`" ] && echo own-terminal; exit 5`)
	err = Run(cmd, userSide, &out)
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 5 {
		t.Fatalf("exit: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "31 97") || !strings.Contains(out.String(), "own-terminal") {
		t.Fatalf("the program saw:\n%s", out.String())
	}
}
