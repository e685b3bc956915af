//go:build cgo

package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/agentvault/agentvault/internal/control"
	"github.com/agentvault/agentvault/internal/dbustest"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
)

// watcher is a StatusNotifierWatcher, the part of a desktop panel that
// tray icons register with.
type watcher struct{ items chan string }

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, _ string) *dbus.Error {
	w.items <- string(sender)
	return nil
}

// menuLayout is com.canonical.dbusmenu's (id, properties, children).
type menuLayout struct {
	ID       int32
	Props    map[string]dbus.Variant
	Children []dbus.Variant
}

// menuItems returns the tray menu's labels and ids, as a panel reads them.
func menuItems(t *testing.T, conn *dbus.Conn, item string) map[string]int32 {
	t.Helper()
	items, err := readMenu(conn, item)
	if err != nil {
		t.Fatal(err)
	}
	return items
}

// readMenu is menuItems for an app that may be going away.
func readMenu(conn *dbus.Conn, item string) (map[string]int32, error) {
	var rev uint32
	var root menuLayout
	call := conn.Object(item, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.GetLayout", 0, int32(0), int32(-1), []string{})
	if err := call.Store(&rev, &root); err != nil {
		return nil, fmt.Errorf("GetLayout: %w", err)
	}
	out := map[string]int32{}
	for _, c := range root.Children {
		var child menuLayout
		if err := dbus.Store([]any{c.Value()}, &child); err != nil {
			return nil, fmt.Errorf("menu item: %w", err)
		}
		if label, ok := child.Props["label"].Value().(string); ok {
			out[label] = child.ID
		}
	}
	return out, nil
}

// TestTrayMenuOverDBus starts the real desktop app on a virtual display and
// a private session bus, then uses its tray menu the way a desktop panel does.
func TestTrayMenuOverDBus(t *testing.T) {
	bus, err := dbustest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Stop()
	panel, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer panel.Close()
	w := &watcher{items: make(chan string, 4)}
	panel.Export(w, "/StatusNotifierWatcher", "org.kde.StatusNotifierWatcher")
	if reply, err := panel.RequestName("org.kde.StatusNotifierWatcher", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning the watcher name: %v %v", reply, err)
	}

	display := startDisplay(t)
	e := newEnv(t)
	cmd := e.cmd("--listen", "127.0.0.1:0")
	cmd.Env = append(cmd.Env, "DISPLAY="+display, "DBUS_SESSION_BUS_ADDRESS="+bus.Address, "LANG=en_US.UTF-8")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer cmd.Process.Kill()

	var item string
	select {
	case item = <-w.items:
	case <-time.After(30 * time.Second):
		t.Fatal("the app never registered a tray icon")
	}
	// The menu is built right after registration: read it once complete.
	want := []string{"Open AgentVault", "Pause all agents", "Quit", "0 vaults · 0 connected agents · 0 pending approvals"}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		items := menuItems(t, panel, item)
		missing := ""
		for _, w := range want {
			if _, ok := items[w]; !ok {
				missing = w
			}
		}
		if missing == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tray menu %v lacks %q", items, missing)
		}
	}
	av, err := control.Dial(filepath.Join(e.data, control.SocketName), &secretstest.Memory{})
	if err != nil {
		t.Fatal(err)
	}
	// clickUntil clicks label until done: the menu is rebuilt whenever the
	// core changes, with new item ids, so a click can land on a menu that
	// is already gone and must then be made again (and after Quit the app,
	// menu and all, goes away).
	clickUntil := func(label string, done func() bool) {
		t.Helper()
		var clicked time.Time
		var last error
		for deadline := time.Now().Add(20 * time.Second); !done(); time.Sleep(50 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("clicking %q had no effect (%v)", label, last)
			}
			items, err := readMenu(panel, item)
			if id, ok := items[label]; err == nil && ok && time.Since(clicked) > 2*time.Second {
				err = panel.Object(item, "/StatusNotifierMenu").Call("com.canonical.dbusmenu.Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(0)).Err
				clicked = time.Now()
			}
			if err != nil {
				last = err
			}
		}
	}

	clickUntil("Pause all agents", func() bool {
		st, err := av.Status(t.Context())
		return err == nil && st.Paused
	})
	deadline := time.Now().Add(10 * time.Second)
	for _, ok := menuItems(t, panel, item)["Resume all agents"]; !ok; _, ok = menuItems(t, panel, item)["Resume all agents"] {
		if time.Now().After(deadline) {
			t.Fatal("the tray menu never offered Resume")
		}
		time.Sleep(50 * time.Millisecond)
	}

	var exit error
	clickUntil("Quit", func() bool {
		select {
		case exit = <-exited:
			return true
		default:
			return false
		}
	})
	if exit != nil {
		t.Fatalf("the app exited with %v after Quit", exit)
	}
	if _, err := os.Stat(filepath.Join(e.data, control.RunFile)); !os.IsNotExist(err) {
		t.Fatal("the app left its run file behind")
	}
}

// startDisplay runs Xvfb and returns its DISPLAY.
func startDisplay(t *testing.T) string {
	t.Helper()
	r, wr, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	x := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	x.ExtraFiles = []*os.File{wr}
	if err := x.Start(); err != nil {
		t.Fatalf("Xvfb (package xvfb): %v", err)
	}
	wr.Close()
	t.Cleanup(func() { x.Process.Kill(); x.Wait() })
	var n int
	if _, err := fmt.Fscan(r, &n); err != nil {
		t.Fatalf("Xvfb gave no display: %v", err)
	}
	return fmt.Sprintf(":%d", n)
}

// TestDesktopWithoutATrayHost runs the app where a session bus has no
// StatusNotifierWatcher (GNOME without its AppIndicator extension): the
// window opens by itself, a second start opens it again and exits 0, and
// starting the app while a headless server holds the data is an error.
func TestDesktopWithoutATrayHost(t *testing.T) {
	bus, err := dbustest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Stop()
	display := startDisplay(t)
	desktop := []string{"DISPLAY=" + display, "DBUS_SESSION_BUS_ADDRESS=" + bus.Address, "LANG=en_US.UTF-8"}
	e := newEnv(t)
	app := e.cmd("--listen", "127.0.0.1:0")
	app.Env = append(app.Env, desktop...)
	app.Stdout, app.Stderr = os.Stderr, os.Stderr
	if err := app.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { app.Process.Kill(); app.Wait() }()

	viewable := func() bool {
		out, _ := exec.Command("xwininfo", "-display", display, "-name", "AgentVault").CombinedOutput()
		return strings.Contains(string(out), "Map State: IsViewable")
	}
	for deadline := time.Now().Add(30 * time.Second); !viewable(); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("without a tray host the window never showed")
		}
	}

	again := e.cmd()
	again.Env = append(again.Env, desktop...)
	out, err := again.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "already running: its window is open") {
		t.Fatalf("a second start: %v\n%s", err, out)
	}
	serve := e.cmd("serve", "--listen", "127.0.0.1:0")
	if out, err := serve.CombinedOutput(); err == nil || !strings.Contains(string(out), "already running") {
		t.Fatalf("serve beside the app: %v\n%s", err, out)
	}

	headless := newEnv(t)
	headless.serve()
	gui := headless.cmd()
	gui.Env = append(gui.Env, desktop...)
	if out, err := gui.CombinedOutput(); err == nil || !strings.Contains(string(out), "already runs headless (agentvault serve)") {
		t.Fatalf("the app beside a headless server: %v\n%s", err, out)
	}
}
