//go:build linux

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/internal/control"
)

func init() { platformRoles["runprobe"] = runProbe }

// runProbe is the agent inside agentvault run: it checks what it can reach
// and prints "ok CHECK" or "FAIL CHECK: why" for each, then exits with 7.
// Its arguments: the data folder, the session bus socket, the home folder
// and AgentVault's pid.
func runProbe(args []string) int {
	data, bus, home, pid := args[0], args[1], args[2], args[3]
	check := func(name string, err error) {
		if err != nil {
			fmt.Printf("FAIL %s: %v\n", name, err)
		} else {
			fmt.Printf("ok %s\n", name)
		}
	}
	unreachable := func(err error, what string) error {
		if err == nil {
			return fmt.Errorf("%s is reachable", what)
		}
		return nil
	}

	check("vault", func() error {
		tr, err := transport.NewStreamableHTTP(os.Getenv("AGENTVAULT_URL"),
			transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + os.Getenv("AGENTVAULT_TOKEN")}))
		if err != nil {
			return err
		}
		c := client.NewClient(tr)
		defer c.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := c.Start(ctx); err != nil {
			return err
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.LATEST_PROTOCOL_VERSION
		if _, err := c.Initialize(ctx, init); err != nil {
			return err
		}
		_, err = c.ListTools(ctx, mcp.ListToolsRequest{})
		return err
	}())
	empty := func() error {
		entries, err := os.ReadDir(data)
		if err != nil || len(entries) > 0 {
			return fmt.Errorf("the data folder holds %d entries (%v)", len(entries), err)
		}
		return nil
	}
	check("data-empty", empty())
	check("data-unmount", unreachable(syscall.Unmount(data, syscall.MNT_DETACH), "unmounting the hidden data folder"))
	check("data-still-empty", empty())
	check("control", unreachable(dialUnix(control.SocketPath(data)), "the control socket"))
	var busEnv error
	if addr := os.Getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		busEnv = fmt.Errorf("DBUS_SESSION_BUS_ADDRESS=%s", addr)
	}
	check("bus-env", busEnv)
	check("bus", unreachable(dialUnix(bus), "the session bus"))
	for _, f := range []string{".ssh/id_ed25519", ".aws/credentials"} {
		_, err := os.ReadFile(filepath.Join(home, f))
		check("read "+f, unreachable(err, f))
	}
	f, err := os.OpenFile(filepath.Join(home, ".bashrc"), os.O_WRONLY|os.O_APPEND, 0)
	if err == nil {
		f.Close()
	}
	check("bashrc", unreachable(err, "writing ~/.bashrc"))
	// The home folder had no autostart folder: run made one, read-only.
	os.MkdirAll(filepath.Join(home, ".config/autostart"), 0o700)
	err = os.WriteFile(filepath.Join(home, ".config/autostart/agent.desktop"), []byte("[Desktop Entry]"), 0o600)
	check("autostart", unreachable(err, "writing ~/.config/autostart"))
	_, err = os.Stat("/proc/" + pid)
	check("agentvault-process", unreachable(err, "AgentVault's process"))
	return 7
}

func dialUnix(path string) error {
	c, err := net.Dial("unix", path)
	if err == nil {
		c.Close()
	}
	return err
}

// runChecks are what the probe must report ok.
var runChecks = []string{"vault", "data-empty", "data-unmount", "data-still-empty", "control", "bus-env", "bus",
	"read .ssh/id_ed25519", "read .aws/credentials", "bashrc", "autostart", "agentvault-process"}

// TestRunContainsTheAgent starts a real agentvault run with bubblewrap, as
// root and as an unprivileged user, and checks from inside what the agent
// can reach.
func TestRunContainsTheAgent(t *testing.T) {
	for _, user := range []string{"root", "nobody"} {
		t.Run(user, func(t *testing.T) {
			if user == "root" && os.Geteuid() != 0 {
				t.Skip("needs root to run as root") // CI runs as root; a developer's machine tests the other user
			}
			testRun(t, user)
		})
	}
}

func testRun(t *testing.T, user string) {
	// Everything lives in a folder every user may enter: the user's home
	// (theirs), this binary and the session bus.
	root, err := os.MkdirTemp("", "agentvault-run-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	os.Chmod(root, 0o755)
	self, _ := os.Executable()
	bin := filepath.Join(root, "agentvault")
	copyFile(t, self, bin, 0o755)
	home, runtime := filepath.Join(root, "home"), filepath.Join(root, "run")
	for _, f := range []string{".ssh/id_ed25519", ".aws/credentials", ".bashrc"} {
		os.MkdirAll(filepath.Join(home, filepath.Dir(f)), 0o700)
		os.WriteFile(filepath.Join(home, f), []byte("canary "+f), 0o600)
	}
	os.MkdirAll(runtime, 0o700)
	bus := filepath.Join(runtime, "bus")
	ln, err := net.Listen("unix", bus)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // a bus that hangs up at once: AgentVault goes on without it
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	data := filepath.Join(home, ".config", "agentvault")
	var prefix []string
	if user == "nobody" {
		const uid = "65534"
		for _, p := range []string{home, runtime} {
			filepath.Walk(p, func(path string, _ os.FileInfo, _ error) error { return os.Lchown(path, 65534, 65534) })
		}
		prefix = []string{"setpriv", "--reuid", uid, "--regid", uid, "--clear-groups"}
	}
	environ := []string{roleEnv + "=agentvault", "HOME=" + home, "AGENTVAULT_DATA=" + data, "AGENTVAULT_PASSPHRASE=pw",
		"XDG_RUNTIME_DIR=" + runtime, "DBUS_SESSION_BUS_ADDRESS=unix:path=" + bus, "PATH=" + os.Getenv("PATH")}
	command := func(args ...string) *exec.Cmd {
		argv := append(append(prefix, bin), args...)
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Env = environ
		return cmd
	}
	if out, err := command("vault", "create", "agent").CombinedOutput(); err != nil {
		t.Fatalf("vault create: %v\n%s", err, out)
	}
	serve := command("serve", "--listen", "127.0.0.1:0")
	stdout, _ := serve.StdoutPipe()
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { serve.Process.Kill(); serve.Wait() })
	started := make(chan struct{})
	go func() {
		lines := bufio.NewScanner(stdout)
		for lines.Scan() {
			if strings.Contains(lines.Text(), "serving on") {
				close(started)
			}
		}
	}()
	select {
	case <-started:
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not start")
	}
	pid := fmt.Sprint(serve.Process.Pid)
	run := command("run", "agent", "--", "env", roleEnv+"=runprobe", bin, data, bus, home, pid)
	out, err := run.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 7 {
		t.Fatalf("the agent's exit code did not come back: %v\n%s", err, out)
	}
	for _, c := range runChecks {
		if !strings.Contains(string(out), "ok "+c+"\n") {
			t.Errorf("inside agentvault run as %s, %s failed:\n%s", user, c, out)
		}
	}
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	src, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		t.Fatal(err)
	}
	defer dst.Close()
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
}
