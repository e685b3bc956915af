package secrets

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestFileStoreEncryptsAndRefusesTheWrongPassphrase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := &File{Path: path, Passphrase: "correct horse"}
	if _, err := f.Get("github"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get on a new store: %v", err)
	}
	const canary = "ghp_canary_0123456789abcdef"
	if err := f.Set("github", canary); err != nil {
		t.Fatal(err)
	}
	if err := f.Set("slack", "xoxp-2"); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if bytes.Contains(raw, []byte(canary)) || bytes.Contains(raw, []byte("github")) {
		t.Fatal("the secrets file holds plaintext")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", fi.Mode().Perm())
	}
	reopened := &File{Path: path, Passphrase: "correct horse"}
	if v, err := reopened.Get("github"); err != nil || v != canary {
		t.Fatalf("after reopening: %q, %v", v, err)
	}
	wrong := &File{Path: path, Passphrase: "wrong"}
	if _, err := wrong.Get("github"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if err := wrong.Set("x", "y"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("a wrong passphrase could write: %v", err)
	}
	raw[len(raw)-1] ^= 1
	os.WriteFile(path, raw, 0o600)
	if _, err := reopened.Get("github"); !errors.Is(err, ErrPassphrase) {
		t.Fatalf("altered file: %v", err)
	}
}

func TestFileStoreDelete(t *testing.T) {
	f := &File{Path: filepath.Join(t.TempDir(), "s"), Passphrase: "p"}
	f.Set("a", "1")
	if err := f.Delete("a"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete("a"); err != nil {
		t.Fatalf("deleting a missing secret: %v", err)
	}
	if _, err := f.Get("a"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("after delete: %v", err)
	}
}
