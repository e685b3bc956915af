// Package core is AgentVault's service layer: it owns the store, the audit
// log, the approval broker and the services, and implements the API the
// window, the tray, the CLI and the control socket use.
//
// Every change is written to the store first and then published (Change):
// the MCP server the root attaches applies it before the operation returns,
// so connected agents see it at once, and windows redraw. The core must
// never import a transport (the MCP server, the control socket) or a
// screen: the root wires those to it.
package core

import (
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/redact"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/services"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
)

// DefaultListen is where `serve` listens unless told otherwise.
const DefaultListen = "127.0.0.1:7878"

// Config says where the data lives and what keeps its secrets.
type Config struct {
	// DataDir holds the database; required.
	DataDir string
	// Secrets keeps credentials and vault tokens; required (the OS keychain,
	// the passphrase file, or a test's own).
	Secrets secrets.Store
	// LockTimeout is how long Open waits for another process to release the
	// database; 0: one second.
	LockTimeout time.Duration
	// Logger; nil: slog.Default(). The core logs through it with every
	// configured secret taken out.
	Logger *slog.Logger
	// TokenFiles says Secrets is not the OS keychain (a passphrase guards
	// it), so the stdio bridges AgentVault sets up in clients read their
	// vault's token from a file of their own instead.
	TokenFiles bool
}

// Core is an open AgentVault. Its methods are safe for concurrent use.
type Core struct {
	store     *store.Store
	journal   *audit.Journal
	audit     *audit.Log
	approvals *approval.Broker
	services  *services.Registry
	secrets   secrets.Store
	// redact holds every configured secret value, to be taken out of what
	// leaves AgentVault: results, audit records, the log.
	redact *redact.Set
	log    *slog.Logger

	changes changes
	paused  atomic.Bool
	phone   atomic.Bool // the CIBA channel is on
	stop    func()      // ends the forwarding of approval events

	dataDir    string
	tokenFiles bool

	mu     sync.Mutex // serialises changes to vaults and settings
	listen string     // guarded by mu
}

var _ api.API = (*Core)(nil)

// ErrNotFound means no vault, service or approval matches the reference.
var ErrNotFound = api.ErrNotFound

// Open opens the data directory and starts every service.
// store.ErrLocked means another AgentVault holds it.
func Open(cfg Config) (*Core, error) {
	if cfg.Secrets == nil {
		return nil, errors.New("core: no secrets store")
	}
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	out := &redact.Set{}
	logger := slog.New(redact.Handler(cfg.Logger.Handler(), out))
	st, err := store.Open(cfg.DataDir, cfg.LockTimeout)
	if err != nil {
		return nil, err
	}
	key, err := st.AuditKey()
	if err != nil {
		st.Close()
		return nil, err
	}
	settings, err := st.Settings()
	if err != nil {
		st.Close()
		return nil, err
	}
	journal, err := audit.OpenJournal(filepath.Join(cfg.DataDir, audit.JournalFile), st, audit.DefaultJournalSize)
	if err != nil {
		st.Close()
		return nil, err
	}
	c := &Core{store: st, journal: journal, log: logger, secrets: cfg.Secrets, redact: out, listen: settings.Listen,
		dataDir: cfg.DataDir, tokenFiles: cfg.TokenFiles}
	if c.listen == "" {
		c.listen = DefaultListen
	}
	c.audit = audit.New(audit.Config{Backend: journal, Key: key, Redact: out.String})
	c.approvals = approval.New(approval.Config{Policy: c, Auditor: c.audit, Logger: logger})
	events, stop := c.approvals.Subscribe()
	c.stop = stop
	go func() {
		for range events {
			c.changes.publish(api.Change{Topic: api.ApprovalsChanged})
		}
	}()
	c.services = services.Open(services.Config{Store: st, DataDir: cfg.DataDir, Secrets: cfg.Secrets, Redact: out, Audit: c.audit, Logger: logger,
		Auth0Tenant: c.tenant,
		Changed:     func(name string) { c.changes.publish(api.Change{Topic: api.ServiceChanged, Service: name}) }})
	return c, nil
}

// Close stops the services and closes the store.
func (c *Core) Close() error {
	c.stop()
	c.services.Close()
	c.audit.Close()
	return errors.Join(c.journal.Close(), c.store.Close())
}

// Logger is the core's log, which takes configured secrets out of every
// record: whatever logs on the core's behalf should use it.
func (c *Core) Logger() *slog.Logger { return c.log }

// Audit is the audit log.
func (c *Core) Audit() *audit.Log { return c.audit }

// Broker is the approval broker; channels register with it.
func (c *Core) Broker() *approval.Broker { return c.approvals }

// Redactor holds every configured secret, to be taken out of what leaves
// AgentVault.
func (c *Core) Redactor() *redact.Set { return c.redact }

// Provider returns the running provider of a service, without a lock: the
// MCP server's catalog, on every tool call's path.
func (c *Core) Provider(name string) (providers.Provider, bool) { return c.services.Provider(name) }

// SetListen records the address the server listens on, for vault URLs.
func (c *Core) SetListen(addr string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.listen = addr
	st, err := c.store.Settings()
	if err != nil {
		return err
	}
	st.Listen = addr
	return c.store.PutSettings(st)
}

// Served returns a vault as stored, for the MCP server; ErrNotFound when
// there is none with that id.
func (c *Core) Served(id string) (store.Vault, error) {
	v, err := c.store.Vault(id)
	if errors.Is(err, store.ErrNotFound) {
		return v, notFound("vault", id)
	}
	return v, err
}

// AllServed returns every vault as stored, for the MCP server.
func (c *Core) AllServed() ([]store.Vault, error) { return c.store.Vaults() }

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
