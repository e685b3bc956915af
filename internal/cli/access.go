package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/control"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
)

// Dir is the data folder the command works on.
func (c *Call) Dir() (string, error) { return DataDir(c.data) }

// DataDir resolves --data, then $AGENTVAULT_DATA, then the user config
// folder.
func DataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if env := os.Getenv("AGENTVAULT_DATA"); env != "" {
		return filepath.Abs(env)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data folder: %w (use --data DIR)", err)
	}
	return filepath.Join(cfg, "agentvault"), nil
}

// Keys are where the data folder's credentials live (Secrets).
func (c *Call) Keys() (secrets.Store, error) {
	dir, err := c.Dir()
	if err != nil {
		return nil, err
	}
	return Secrets(dir)
}

// API reaches AgentVault: the running server through its control socket,
// or the data folder itself when none runs. done releases it.
func (c *Call) API() (a api.API, done func(), err error) {
	dir, err := c.Dir()
	if err != nil {
		return nil, nil, err
	}
	keys, err := Secrets(dir)
	if err != nil {
		return nil, nil, err
	}
	cl, err := control.Dial(control.SocketPath(dir), keys)
	if err == nil {
		return cl, func() {}, nil
	}
	if !errors.Is(err, control.ErrNotRunning) {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	co, err := core.Open(core.Config{DataDir: dir, LockTimeout: 2 * time.Second, Logger: logger, Secrets: keys, TokenFiles: Passphrase() != ""})
	if errors.Is(err, store.ErrLocked) {
		return nil, nil, control.AlreadyRunning(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	return co, func() { co.Close() }, nil
}

// errNotRunning is what commands that need the running server say without it.
var errNotRunning = errors.New("AgentVault is not running: start it with `agentvault` (or `agentvault serve`)")

// withServer runs f against the running server, for commands that mean
// nothing without it (approvals wait in its memory; the bridge relays to
// it).
func withServer(c *Call, f func(av api.API) error) error {
	keys, err := c.Keys()
	if err != nil {
		return err
	}
	dir, _ := c.Dir()
	cl, err := control.Dial(control.SocketPath(dir), keys)
	if errors.Is(err, control.ErrNotRunning) {
		return errNotRunning
	}
	if err != nil {
		return err
	}
	return f(cl)
}

// Secrets is where credentials live for the data folder dir: the OS
// keychain, or, when $AGENTVAULT_PASSPHRASE is set (machines without a
// keychain service), a file in the data folder encrypted with that
// passphrase.
// A passphrase that does not open the existing file is an error here, not
// a store that fails later.
func Secrets(dir string) (secrets.Store, error) {
	pass := Passphrase()
	if pass == "" {
		return secrets.Keychain{Service: "agentvault"}, nil
	}
	f := &secrets.File{Path: filepath.Join(dir, "secrets.enc"), Passphrase: pass}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("AGENTVAULT_PASSPHRASE: %w", err)
	}
	return f, nil
}

// Passphrase reads $AGENTVAULT_PASSPHRASE once and takes it out of the
// environment, so that no program AgentVault starts (a browser, an upstream
// server) inherits it. main calls it before anything else.
var Passphrase = sync.OnceValue(func() string {
	pass := os.Getenv("AGENTVAULT_PASSPHRASE")
	os.Unsetenv("AGENTVAULT_PASSPHRASE")
	return pass
})

// printJSON writes v indented.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// readLines reads the non-empty lines of r (secrets given on standard
// input rather than in argv, where other processes can see them).
func readLines(r io.Reader) ([]string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }
