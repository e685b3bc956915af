// Package secrets keeps credentials out of the store: in the OS keychain
// (Secret Service on Linux, Keychain on macOS, Credential Manager on
// Windows) through go-keyring. This is the only package that imports
// go-keyring.
//
// Every call has a deadline: a locked keychain makes go-keyring wait for an
// unlock prompt forever, and a caller must get an error it can show instead.
//
// It must never write a secret anywhere but the keychain or the encrypted file.
package secrets

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// Store keeps named secrets.
type Store interface {
	// Get returns the secret stored under key, or ErrNotFound.
	Get(key string) (string, error)
	// Set stores value under key, replacing any earlier value.
	Set(key, value string) error
	// Delete removes key; deleting a missing key is not an error.
	Delete(key string) error
}

// Errors a user can act on.
var (
	ErrNotFound    = errors.New("no such secret in the keychain")
	ErrLocked      = errors.New("the keychain is locked or waiting for a password: unlock it and try again")
	ErrUnavailable = errors.New("no keychain service is running (on Linux: gnome-keyring or KeePassXC's Secret Service): start one, or set AGENTVAULT_PASSPHRASE to keep secrets in a file encrypted with it")
)

// Keychain is the OS keychain, under one service name.
type Keychain struct {
	// Service groups AgentVault's entries ("agentvault").
	Service string
	// Timeout bounds each call; 0: 5 seconds.
	Timeout time.Duration
}

var _ Store = Keychain{}

// Get implements Store.
func (k Keychain) Get(key string) (string, error) {
	var v string
	err := k.within(func() (err error) { v, err = keyring.Get(k.Service, key); return err })
	return v, err
}

// Set implements Store.
func (k Keychain) Set(key, value string) error {
	return k.within(func() error { return keyring.Set(k.Service, key, value) })
}

// Delete implements Store.
func (k Keychain) Delete(key string) error {
	err := k.within(func() error { return keyring.Delete(k.Service, key) })
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// within runs f with the deadline and turns keychain errors into ours. A
// call that times out keeps running in the background; it cannot be
// cancelled, only abandoned.
func (k Keychain) within(f func() error) error {
	timeout := k.Timeout
	if timeout == 0 {
		timeout = 5 * time.Second
	}
	done := make(chan error, 1)
	go func() { done <- f() }()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		return classify(err)
	case <-timer.C:
		return ErrLocked
	}
}

func classify(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("the secret is too large for the keychain: %w", err)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "ServiceUnknown"), strings.Contains(msg, "DBUS_SESSION_BUS_ADDRESS"),
		strings.Contains(msg, "dbus-launch"), strings.Contains(msg, "connection refused"), strings.Contains(msg, "no such file"):
		return ErrUnavailable
	case strings.Contains(msg, "IsLocked"), strings.Contains(msg, "dismissed"), strings.Contains(msg, "prompt"),
		strings.Contains(msg, "failed to unlock"):
		return ErrLocked
	}
	return fmt.Errorf("keychain: %w", err)
}
