// Package dbustest runs a private D-Bus session bus for tests, so tests of
// notifications and the tray never touch the user's desktop.
package dbustest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// Bus is a private dbus-daemon.
type Bus struct {
	Address string
	cmd     *exec.Cmd
	dir     string
	keyring int // pid of the keyring daemon, 0 if none
}

// Start launches a session bus whose socket lives in a new temporary folder.
// It fails when dbus-daemon is not installed (package dbus-daemon).
func Start() (*Bus, error) {
	dir, err := os.MkdirTemp("", "dbustest-")
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:dir="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("starting dbus-daemon: %w", err)
	}
	addr := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(out).ReadString('\n')
		addr <- strings.TrimSpace(line)
	}()
	select {
	case a := <-addr:
		if a == "" {
			cmd.Process.Kill()
			cmd.Wait()
			return nil, fmt.Errorf("dbus-daemon printed no address")
		}
		return &Bus{Address: a, cmd: cmd, dir: dir}, nil
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("dbus-daemon did not start")
	}
}

// Connect opens a new connection to the bus.
func (b *Bus) Connect() (*dbus.Conn, error) {
	conn, err := dbus.Dial(b.Address)
	if err != nil {
		return nil, err
	}
	if err := conn.Auth(nil); err != nil {
		conn.Close()
		return nil, err
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// Stop ends the daemon (and its keyring) and removes its folder.
func (b *Bus) Stop() {
	kill(b.keyring)
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
}

// StartKeyring runs gnome-keyring's Secret Service on the bus, with its
// files under home, and waits until its unlocked login keyring is the
// default collection. env is the environment for the daemon and for any
// process that should use this keychain. Stop the bus to end it.
//
// The daemon sometimes (under load) never creates its login keyring; then
// it is stopped and started again, up to three times.
func (b *Bus) StartKeyring(home string) (env []string, err error) {
	for attempt := range 3 {
		dir := fmt.Sprintf("%s/keyring-%d", home, attempt)
		if env, err = b.startKeyring(dir); err == nil {
			return env, nil
		}
		kill(b.keyring)
		b.keyring = 0
	}
	return nil, err
}

func (b *Bus) startKeyring(home string) ([]string, error) {
	runtime := home + "/run"
	if err := os.MkdirAll(runtime, 0o700); err != nil {
		return nil, err
	}
	env := []string{"HOME=" + home, "XDG_RUNTIME_DIR=" + runtime, "XDG_DATA_HOME=" + home + "/data",
		"DBUS_SESSION_BUS_ADDRESS=" + b.Address}
	daemon := exec.Command("gnome-keyring-daemon", "--replace", "--unlock", "--components=secrets")
	daemon.Env = append(os.Environ(), env...)
	daemon.Stdin = strings.NewReader("test-password")
	if out, err := daemon.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("gnome-keyring-daemon (package gnome-keyring): %v %s", err, out)
	}
	conn, err := b.Connect()
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var pid uint32
		if b.keyring == 0 && conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, "org.freedesktop.secrets").Store(&pid) == nil {
			b.keyring = int(pid) // the daemon forked away: remember it to stop it
		}
		var path dbus.ObjectPath
		err := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
			Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&path)
		if err == nil && path != "/" {
			return env, nil
		}
	}
	return nil, fmt.Errorf("gnome-keyring never created its login keyring")
}

// kill ends the process pid, if not 0.
func kill(pid int) {
	if p, err := os.FindProcess(pid); pid != 0 && err == nil {
		p.Kill()
	}
}
