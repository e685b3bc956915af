package sandbox

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The arguments hide only what exists (bubblewrap would create the rest on
// the host), keep start-up files read-only, and honour Show, Display and
// Root.
func TestArgs(t *testing.T) {
	home := t.TempDir()
	for _, p := range []string{".ssh/id_ed25519", ".aws/credentials", ".git-credentials", ".bashrc", ".config/autostart/x.desktop"} {
		os.MkdirAll(filepath.Join(home, filepath.Dir(p)), 0o700)
		os.WriteFile(filepath.Join(home, p), []byte("x"), 0o600)
	}
	data, runtime := t.TempDir(), t.TempDir()
	s := Spec{Home: home, Data: data, Runtime: runtime, Show: []string{filepath.Join(home, ".aws")}}
	got := strings.Join(s.args(), " ")
	for _, want := range []string{
		"--dev-bind / / --dev /dev --unshare-pid --proc /proc --die-with-parent",
		"--tmpfs " + data, "--tmpfs " + runtime,
		"--tmpfs " + filepath.Join(home, ".ssh"),
		"--ro-bind /dev/null " + filepath.Join(home, ".git-credentials"),
		"--ro-bind " + filepath.Join(home, ".bashrc") + " " + filepath.Join(home, ".bashrc"),
		"--ro-bind " + filepath.Join(home, ".config/autostart") + " " + filepath.Join(home, ".config/autostart"),
	} {
		if !strings.Contains(got, want) {
			t.Errorf("args lack %q:\n%s", want, got)
		}
	}
	for _, absent := range []string{".aws", ".kube", ".zshrc", "--cap-drop", "--new-session"} {
		if strings.Contains(got, absent) {
			t.Errorf("args hold %q:\n%s", absent, got)
		}
	}
	if !strings.HasSuffix(got, " --") {
		t.Errorf("args do not end the options: %s", got)
	}
	s.Root, s.NewSession, s.Display = true, true, true
	if got := strings.Join(s.args(), " "); !strings.Contains(got, "--cap-drop ALL") || !strings.Contains(got, "--new-session") || strings.Contains(got, ".X11-unix") {
		t.Errorf("as root, in a new session, with the display: %s", got)
	}
}

func TestEnviron(t *testing.T) {
	env := []string{"PATH=/bin", "DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1/bus", "SSH_AUTH_SOCK=/tmp/ssh", "DISPLAY=:0",
		"AGENTVAULT_DATA=/d", "AGENTVAULT_URL=u", "HOME=/home/me"}
	got := Spec{}.Environ(env, "AGENTVAULT_URL")
	if !slices.Equal(got, []string{"PATH=/bin", "AGENTVAULT_URL=u", "HOME=/home/me"}) {
		t.Fatalf("environ %v", got)
	}
	if got := (Spec{Display: true}).Environ(env); !slices.Contains(got, "DISPLAY=:0") {
		t.Fatalf("the display was dropped: %v", got)
	}
}

// Command creates the start-up folders that are missing, so that they are
// read-only inside like the ones that exist.
func TestCommandMakesMissingStartupFoldersReadOnly(t *testing.T) {
	if Available() != nil {
		t.Skip("no bubblewrap here") // CI installs it
	}
	home := t.TempDir()
	argv, err := Spec{Home: home}.Command([]string{"true"})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range StartupFolders {
		p := filepath.Join(home, f)
		if fi, err := os.Stat(p); err != nil || !fi.IsDir() || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: %v %v", f, fi, err)
		}
		if !slices.Contains(argv, p) {
			t.Errorf("%s is not read-only inside: %v", f, argv)
		}
	}
}
