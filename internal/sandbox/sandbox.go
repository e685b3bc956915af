// Package sandbox starts a program contained: an agent with a shell
// (agentvault run) or a third party's stdio MCP server. Inside, AgentVault's
// data folder and control socket, the session bus (so the keychain and the
// notifications), the display and the user's well-known credential files
// are hidden, the user's start-up files cannot be changed, every capability
// is dropped and the program sees only its own processes. The rest of the
// file system and the network stay as they are, so the program works as
// usual. Linux uses bubblewrap; elsewhere there is no sandbox yet.
//
// It must never start a program uncontained unless the caller asked for it.
package sandbox

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// Spec says what to hide from a contained program.
type Spec struct {
	// Home is the user's home folder; Data AgentVault's data folder;
	// Runtime $XDG_RUNTIME_DIR (the session bus and the Wayland socket).
	Home, Data, Runtime string
	// Hide are more paths to hide; Show re-exposes some of what is hidden
	// (never the data folder or the runtime folder).
	Hide, Show []string
	// Display keeps the X11 and Wayland display reachable.
	Display bool
	// Root says the program would run as root: it keeps uid 0, but no
	// capability.
	Root bool
	// NewSession puts the program in a session of its own, away from the
	// user's terminal (which it could otherwise type into): for a program
	// not given a terminal of its own.
	NewSession bool
}

// Credentials are the places in the home folder where programs keep the
// user's credentials: hidden from every contained program.
var Credentials = []string{
	".ssh", ".aws", ".azure", ".config/gcloud", ".config/gh", ".git-credentials", ".netrc",
	".docker/config.json", ".kube", ".gnupg", ".npmrc", ".pypirc", ".password-store", ".local/share/keyrings",
}

// StartupFiles and StartupFolders are what the user's next session runs:
// read-only inside, so a contained program cannot persist into a session
// that is not. A missing folder is created (empty) before each start, so
// that it can be read-only too; a missing file cannot be without creating
// it on the host, which could change what the user's shell reads.
var (
	StartupFiles = []string{
		".bashrc", ".bash_profile", ".bash_login", ".profile", ".zshrc", ".zprofile", ".zshenv", ".zlogin",
		".config/fish/config.fish",
	}
	StartupFolders = []string{".config/autostart", ".config/systemd/user"}
)

// ErrUnavailable means this machine has no sandbox to contain a program in.
var ErrUnavailable = errors.New("no sandbox to contain programs in")

// Available reports whether programs can be contained here: bubblewrap is
// installed and works (where user namespaces are restricted, as on Ubuntu
// without its AppArmor profile, it is there but cannot start anything).
var Available = sync.OnceValue(func() error {
	bwrap, err := bwrapPath()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if out, err := exec.CommandContext(ctx, bwrap, "--dev-bind", "/", "/", "--unshare-pid", "--", "true").CombinedOutput(); err != nil {
		return fmt.Errorf("%w: bubblewrap cannot start a program here (%s)", ErrUnavailable, strings.TrimSpace(string(out)))
	}
	return nil
})

// Command is the command line that runs argv contained as s says. It
// creates the start-up folders that do not exist yet (StartupFolders).
func (s Spec) Command(argv []string) ([]string, error) {
	bwrap, err := bwrapPath()
	if err != nil {
		return nil, err
	}
	for _, f := range StartupFolders {
		if err := os.MkdirAll(filepath.Join(s.Home, f), 0o700); err != nil {
			return nil, fmt.Errorf("start-up folder %s: %w", f, err)
		}
	}
	return append(append([]string{bwrap}, s.args()...), argv...), nil
}

// args are bubblewrap's options, ending with "--". Later mounts cover
// earlier ones, so the whole file system comes first, then what is hidden
// over it. Only paths that exist are hidden: bubblewrap would create a
// missing one on the host.
func (s Spec) args() []string {
	args := []string{"--dev-bind", "/", "/", "--dev", "/dev", "--unshare-pid", "--proc", "/proc", "--die-with-parent"}
	if s.Root {
		args = append(args, "--cap-drop", "ALL")
	}
	if s.NewSession {
		args = append(args, "--new-session")
	}
	for _, dir := range s.folders() {
		if isDir(dir) {
			args = append(args, "--tmpfs", dir)
		}
	}
	if s.Display && s.Runtime != "" {
		// The Wayland socket comes back into the emptied runtime folder.
		if sock := os.Getenv("WAYLAND_DISPLAY"); sock != "" && exists(filepath.Join(s.Runtime, sock)) {
			args = append(args, "--bind", filepath.Join(s.Runtime, sock), filepath.Join(s.Runtime, sock))
		}
	}
	for _, p := range s.hidden() {
		switch {
		case isDir(p):
			args = append(args, "--tmpfs", p)
		case exists(p):
			args = append(args, "--ro-bind", "/dev/null", p)
		}
	}
	for _, f := range slices.Concat(StartupFiles, StartupFolders) {
		if p := filepath.Join(s.Home, f); exists(p) {
			args = append(args, "--ro-bind", p, p)
		}
	}
	return append(args, "--")
}

// folders are AgentVault's own: its data (with the control socket), the
// runtime folder (the session bus), and the X11 sockets unless the display
// is kept.
func (s Spec) folders() []string {
	var out []string
	for _, d := range []string{s.Data, s.Runtime} {
		if d != "" {
			out = append(out, d)
		}
	}
	if !s.Display {
		out = append(out, "/tmp/.X11-unix")
	}
	return out
}

// hidden are the credential places and Hide, less Show.
func (s Spec) hidden() []string {
	var out []string
	for _, c := range Credentials {
		out = append(out, filepath.Join(s.Home, c))
	}
	out = append(out, s.Hide...)
	return slices.DeleteFunc(out, func(p string) bool {
		return slices.ContainsFunc(s.Show, func(show string) bool { return filepath.Clean(show) == filepath.Clean(p) })
	})
}

// Environ is env for a contained program: without the session bus, the SSH
// agent, the display (unless kept) and AgentVault's own variables but
// keep.
func (s Spec) Environ(env []string, keep ...string) []string {
	drop := []string{"DBUS_SESSION_BUS_ADDRESS", "SSH_AUTH_SOCK", "SSH_AGENT_PID", "GNOME_KEYRING_CONTROL", "GPG_AGENT_INFO"}
	if !s.Display {
		drop = append(drop, "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY")
	}
	return slices.DeleteFunc(slices.Clone(env), func(kv string) bool {
		k, _, _ := strings.Cut(kv, "=")
		return slices.Contains(drop, k) || (strings.HasPrefix(k, "AGENTVAULT_") && !slices.Contains(keep, k))
	})
}

func exists(p string) bool {
	_, err := os.Lstat(p)
	return err == nil
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
