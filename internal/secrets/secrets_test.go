package secrets

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/agentvault/agentvault/internal/dbustest"
)

var bus *dbustest.Bus

// TestMain runs a real gnome-keyring on a private session bus, with a fresh
// home, for the whole package: go-keyring keeps one session bus connection
// per process.
func TestMain(m *testing.M) {
	code, err := withKeyring(m)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keychain test setup:", err)
		os.Exit(1)
	}
	os.Exit(code)
}

func withKeyring(m *testing.M) (int, error) {
	home, err := os.MkdirTemp("", "secrets-home-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(home)
	if bus, err = dbustest.Start(); err != nil {
		return 0, err
	}
	defer bus.Stop()
	env, err := bus.StartKeyring(home)
	if err != nil {
		return 0, err
	}
	// go-keyring in this process uses the same bus.
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	return m.Run(), nil
}

func TestKeychainRoundTrip(t *testing.T) {
	k := Keychain{Service: "agentvault-test"}
	if _, err := k.Get("github"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	start := time.Now()
	if err := k.Set("github", "ghp_first"); err != nil {
		t.Fatal(err)
	}
	if v, err := k.Get("github"); err != nil || v != "ghp_first" {
		t.Fatalf("Get = %q, %v", v, err)
	}
	if err := k.Set("github", "ghp_rotated"); err != nil {
		t.Fatal(err)
	}
	if v, _ := k.Get("github"); v != "ghp_rotated" {
		t.Fatalf("after rotation Get = %q", v)
	}
	other := Keychain{Service: "agentvault-other"}
	if _, err := other.Get("github"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a secret leaked across services: %v", err)
	}
	if err := k.Delete("github"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get("github"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if err := k.Delete("github"); err != nil {
		t.Fatalf("deleting a missing secret: %v", err)
	}
	t.Logf("round trip with rotation in %s", time.Since(start).Round(time.Millisecond))
}

func TestLockedKeychainFailsWithinTheDeadline(t *testing.T) {
	k := Keychain{Service: "agentvault-test", Timeout: time.Second}
	if err := k.Set("slack", "xoxp-1"); err != nil {
		t.Fatal(err)
	}
	conn, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	call := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets").
		Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"})
	if err := call.Store(&locked, &prompt); err != nil {
		t.Fatalf("locking the keyring: %v", err)
	}
	start := time.Now()
	err = k.Set("slack", "xoxp-2")
	if !errors.Is(err, ErrLocked) {
		t.Fatalf("Set on a locked keyring: %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("Set on a locked keyring took %s; the deadline is 1s", d)
	}
}

func TestHangingKeychainCallIsAbandonedAtTheDeadline(t *testing.T) {
	k := Keychain{Timeout: 50 * time.Millisecond}
	release := make(chan struct{})
	defer close(release)
	start := time.Now()
	err := k.within(func() error { <-release; return nil })
	if !errors.Is(err, ErrLocked) || time.Since(start) > time.Second {
		t.Fatalf("a hanging call returned %v after %s", err, time.Since(start))
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err  error
		want error
	}{
		{errors.New("The name org.freedesktop.secrets was not provided by any .service files (org.freedesktop.DBus.Error.ServiceUnknown)"), ErrUnavailable},
		{errors.New("dbus: couldn't determine address of session bus: DBUS_SESSION_BUS_ADDRESS not set"), ErrUnavailable},
		{errors.New("org.freedesktop.Secret.Error.IsLocked"), ErrLocked},
		{errors.New("failed to unlock correct collection '/org/freedesktop/secrets/collection/login'"), ErrLocked},
	}
	for _, tt := range tests {
		if got := classify(tt.err); !errors.Is(got, tt.want) {
			t.Errorf("classify(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) is not nil")
	}
}
