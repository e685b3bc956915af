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

// Stop ends the daemon and removes its folder.
func (b *Bus) Stop() {
	b.cmd.Process.Kill()
	b.cmd.Wait()
	os.RemoveAll(b.dir)
}
