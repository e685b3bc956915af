package services

import (
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/redact"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
)

// openRegistry runs the services kept in dir, with keys as the keychain;
// it closes with the test, or before with closeRegistry (reopening the
// same dir then is a restart).
func openRegistry(t *testing.T, dir string, keys secrets.Store) *Registry {
	t.Helper()
	st, err := store.Open(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := st.AuditKey()
	journal, err := audit.OpenJournal(filepath.Join(dir, audit.JournalFile), st, audit.DefaultJournalSize)
	if err != nil {
		t.Fatal(err)
	}
	log := audit.New(audit.Config{Backend: journal, Key: key})
	r := Open(Config{Store: st, Secrets: keys, Redact: &redact.Set{}, Audit: log,
		Auth0Tenant: func() (api.Auth0Status, error) { return api.Auth0Status{}, nil },
		Logger:      slog.New(slog.NewTextHandler(io.Discard, nil))})
	var once sync.Once
	closers[r] = func() {
		once.Do(func() {
			r.Close()
			log.Close()
			journal.Close()
			st.Close()
		})
	}
	t.Cleanup(closers[r])
	return r
}

// closers close what openRegistry opened.
var closers = map[*Registry]func(){}

// closeRegistry stops r and releases its store.
func closeRegistry(r *Registry) { closers[r]() }
