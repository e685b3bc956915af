package notify

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/dbustest"
)

// startXvfb runs a virtual display and returns its DISPLAY value.
func startXvfb(t *testing.T) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "800x600x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("Xvfb (package xvfb): %v", err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil {
		t.Fatalf("Xvfb gave no display: %v", err)
	}
	return ":" + strings.TrimSpace(line)
}

// TestRealDunst shows an approval through the real dunst notification
// daemon and answers it the way a person would, through dunst's action menu.
func TestRealDunst(t *testing.T) {
	dir := t.TempDir()
	display := startXvfb(t)
	bus, err := dbustest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Stop()
	// dunst shows the actions in a dmenu; this stand-in picks "Approve".
	menu := filepath.Join(dir, "dmenu")
	os.WriteFile(menu, []byte("#!/bin/sh\ngrep -m1 '^#Approve'\n"), 0o700)
	rc := filepath.Join(dir, "dunstrc")
	os.WriteFile(rc, []byte("[global]\ndmenu = "+menu+"\n"), 0o600)
	env := append(os.Environ(), "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus.Address)
	dunst := exec.Command("dunst", "-config", rc)
	dunst.Env = env
	if err := dunst.Start(); err != nil {
		t.Fatalf("dunst (package dunst): %v", err)
	}
	defer func() { dunst.Process.Kill(); dunst.Wait() }()

	conn, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var ch *Channel
	deadline := time.Now().Add(10 * time.Second)
	for ch == nil {
		if ch, err = New(conn, nil); err != nil {
			if time.Now().After(deadline) {
				t.Fatalf("dunst never offered notifications with actions: %v", err)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	defer ch.Close()

	b := approval.New(approval.Config{Channels: []approval.Channel{ch}})
	verdict := make(chan approval.Verdict, 1)
	go func() {
		verdict <- b.Approve(context.Background(), approval.Request{VaultID: "v", Vault: "work", Tool: "fs_write_file", ArgsDigest: "d"})
	}()
	for len(b.Pending()) == 0 {
		time.Sleep(20 * time.Millisecond)
	}
	// Pressing before dunst has drawn the notification does nothing; retry.
	for {
		act := exec.Command("dunstctl", "action", "0")
		act.Env = env
		if out, err := act.CombinedOutput(); err != nil {
			t.Fatalf("dunstctl: %v %s", err, out)
		}
		select {
		case v := <-verdict:
			if !v.Approved || v.Channel != "notification" {
				t.Fatalf("verdict %+v", v)
			}
			return
		case <-time.After(time.Second):
			if time.Now().After(deadline.Add(10 * time.Second)) {
				t.Fatal("dunst's Approve action never answered the call")
			}
		}
	}
}
