// Package store keeps AgentVault's state in one bbolt file, DATA/agentvault.db
// (mode 0600): vaults, services, settings and the audit log.
//
// Bucket layout (schema version 1):
//
//	meta      "schema"    → uint64 big-endian schema version
//	          "audit-key" → 32 random bytes, the HMAC key for argument digests
//	          "settings"  → JSON Settings
//	vaults    vault id    → JSON Vault
//	services  name        → JSON Service
//	audit     uint64 BE   → one JSON audit record; the key is its sequence number
//
// Upgrades: Open runs migrations[v] for every v from the file's version up to
// len(migrations), each in the same transaction that stamps the new version, so
// a file is never left half-upgraded. A file newer than this binary is refused.
//
// Only one process may open the file: bbolt holds an exclusive lock, and Open
// gives up after a timeout with ErrLocked, so a second instance fails fast.
package store

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"

	"github.com/agentvault/agentvault/internal/configedit"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/policy"
)

// FileName is the database file inside the data directory.
const FileName = "agentvault.db"

var (
	bucketMeta     = []byte("meta")
	bucketVaults   = []byte("vaults")
	bucketServices = []byte("services")
	bucketAudit    = []byte("audit")
	bucketEdits    = []byte("client-edits")

	keySchema   = []byte("schema")
	keyAuditKey = []byte("audit-key")
	keySettings = []byte("settings")
)

// migrations[i] upgrades a file from schema version i to i+1.
var migrations = []func(tx *bolt.Tx) error{
	// 0 → 1: the initial layout.
	func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketVaults, bucketServices, bucketAudit} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		key := make([]byte, 32)
		if _, err := rand.Read(key); err != nil {
			return err
		}
		return tx.Bucket(bucketMeta).Put(keyAuditKey, key)
	},
	// 1 → 2: a record of the edits made to clients' config files.
	func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketEdits)
		return err
	},
}

// SchemaVersion is the layout this binary reads and writes.
var SchemaVersion = uint64(len(migrations))

var (
	// ErrLocked means another process holds the database.
	ErrLocked = errors.New("the database is in use by another AgentVault")
	// ErrNotFound means no record has that key.
	ErrNotFound = errors.New("not found")
)

// Vault is one agent's permission profile.
type Vault struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// TokenDigest is the SHA-256 of the vault's bearer token; empty when revoked.
	TokenDigest []byte `json:"token_digest"`
	// Services lists the service names whose tools this vault can offer.
	Services []string      `json:"services"`
	Policy   policy.Policy `json:"policy"`
	Created  time.Time     `json:"created"`
	// ApprovalTimeout is how long calls wait for approval; 0: the default (120 s).
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// Expires is when the vault's token stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// RateLimits cap the vault's calls.
	RateLimits []policy.RateLimit `json:"rate_limits,omitempty"`
	// GrantLimit bounds "approve for this session"; 0: 8 hours.
	GrantLimit time.Duration `json:"grant_limit,omitempty"`
}

// ConfigEdits are the edits AgentVault made to one client config file,
// oldest first, recorded so they can be undone on the file as it is later.
type ConfigEdits struct {
	Path  string       `json:"path"`
	Edits []ConfigEdit `json:"edits"`
}

// ConfigEdit is one edit of a client config file. Its changes keep only
// digests of what AgentVault wrote; what it replaced may hold credentials
// (a server's header), so that text is in the keychain under BeforeKey.
type ConfigEdit struct {
	Time   time.Time `json:"time"`
	Client string    `json:"client"`
	// Created says the file did not exist before this edit.
	Created bool                `json:"created,omitempty"`
	Changes []configedit.Change `json:"changes"`
	// BeforeKey names the keychain entry holding each change's text before
	// the edit, in order; "" when the edit replaced nothing.
	BeforeKey string `json:"before_key,omitempty"`
}

// Service is one configured source of tools. Kind says which fields apply.
type Service struct {
	Name string `json:"name"`
	// Kind is "mcp-stdio" (Command) or "mcp-http" (URL, HeaderNames) for
	// upstream MCP servers, or a first-party service: "github", "google",
	// "slack" or "jira" (URL is then its API root, "" for the default).
	Kind    string   `json:"kind"`
	Command []string `json:"command,omitempty"`
	URL     string   `json:"url,omitempty"`
	// Auth says how a first-party service signs in: "token" (a pasted or
	// device-flow token), "oauth" (refreshed with ClientID), "basic" (Jira
	// e-mail and API token) or "auth0" (Token Vault, Connection). The secret
	// parts are in the keychain.
	Auth       string `json:"auth,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	Connection string `json:"connection,omitempty"`
	// Account is who signed in (a login, an address), for people.
	Account string `json:"account,omitempty"`
	// Site is the web address for links (Jira's site).
	Site string `json:"site,omitempty"`
	// Scopes are the scopes the sign-in granted; nil: not reported.
	Scopes []string `json:"scopes,omitempty"`
	// HeaderNames are the HTTP headers sent to the server; their values are
	// credentials and live in the keychain, never here.
	HeaderNames []string `json:"header_names,omitempty"`
	// EnvNames are environment variables set for a stdio server; their
	// values are credentials and live in the keychain.
	EnvNames []string `json:"env_names,omitempty"`
	// SecretEnv are the EnvNames the user marked secret: their values are
	// redacted wherever they would leave AgentVault, whatever their names.
	SecretEnv []string `json:"secret_env,omitempty"`
	// PassEnv names variables of AgentVault's own environment a stdio
	// server also gets.
	PassEnv []string `json:"pass_env,omitempty"`
	// Contained says a stdio server runs in a sandbox that hides the
	// session bus, AgentVault's data and the user's credential files.
	Contained bool `json:"contained,omitempty"`
	// URLSecrets are the parts of URL kept in the keychain, shown here as
	// [redacted]: query parameters by name, "@" for the user information.
	URLSecrets []string `json:"url_secrets,omitempty"`
	// Pins are the tool definitions the user accepted, by tool name: a tool
	// whose definition differs, or that is not here, is offered to no vault
	// until reviewed. Nil: nothing pinned yet (the first listing is pinned).
	Pins map[string]json.RawMessage `json:"pins,omitempty"`
	// Reviewed is when the user last accepted a changed or new definition
	// of a tool, by tool name; approval prompts say so.
	Reviewed map[string]time.Time `json:"reviewed,omitempty"`
	Created  time.Time            `json:"created"`
}

// Settings are the few values that outlive a run.
type Settings struct {
	// Listen is the address the last `serve` listened on; the CLI uses it to
	// print vault URLs while the server is not running.
	Listen string `json:"listen,omitempty"`
	// Auth0 is the user's tenant, when set up (its secrets are in the keychain).
	Auth0 *Auth0Settings `json:"auth0,omitempty"`
	// Per-vault limits on what agents may hold; 0: the defaults.
	MaxPending  int           `json:"max_pending,omitempty"`
	MaxSessions int           `json:"max_sessions,omitempty"`
	BodyTimeout time.Duration `json:"body_timeout,omitempty"`
}

// Auth0Settings identify the user's Auth0 tenant and application.
type Auth0Settings struct {
	Domain   string `json:"domain"`
	ClientID string `json:"client_id"`
	// Subject is the logged-in user's Auth0 id; empty when logged out.
	Subject string `json:"subject,omitempty"`
}

// Store is an open database. Its methods are safe for concurrent use.
type Store struct {
	db *bolt.DB
}

// Open opens (creating if needed) the database in dir, waiting at most
// timeout for another process to release it. dir must be private to the
// user (see package private); it is created 0700 when missing.
func Open(dir string, timeout time.Duration) (*Store, error) {
	if err := private.Dir(dir); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, FileName)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, berrors.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", path, err)
	}
	// bbolt creates the file with the mode only if it is new; keep it private
	// even if it was created by something else.
	if err := os.Chmod(path, 0o600); err != nil {
		db.Close()
		return nil, fmt.Errorf("securing %s: %w", path, err)
	}
	s := &Store{db: db}
	if err := s.upgrade(); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

func (s *Store) upgrade() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		var v uint64
		if meta := tx.Bucket(bucketMeta); meta != nil {
			if raw := meta.Get(keySchema); len(raw) == 8 {
				v = binary.BigEndian.Uint64(raw)
			}
		}
		if v > SchemaVersion {
			return fmt.Errorf("database schema %d is newer than this AgentVault understands (%d): upgrade AgentVault", v, SchemaVersion)
		}
		for ; v < SchemaVersion; v++ {
			if err := migrations[v](tx); err != nil {
				return fmt.Errorf("upgrading database schema %d→%d: %w", v, v+1, err)
			}
		}
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, v))
	})
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Path is the database file's location.
func (s *Store) Path() string { return s.db.Path() }

// AuditKey is the HMAC key for argument digests; it never leaves the store.
func (s *Store) AuditKey() ([]byte, error) {
	var key []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		key = append(key, tx.Bucket(bucketMeta).Get(keyAuditKey)...)
		return nil
	})
	if err == nil && len(key) != 32 {
		err = errors.New("database has no audit key")
	}
	return key, err
}

// Settings returns the stored settings (zero if none).
func (s *Store) Settings() (Settings, error) {
	var st Settings
	err := s.db.View(func(tx *bolt.Tx) error {
		if raw := tx.Bucket(bucketMeta).Get(keySettings); raw != nil {
			return json.Unmarshal(raw, &st)
		}
		return nil
	})
	return st, err
}

// PutSettings replaces the settings.
func (s *Store) PutSettings(st Settings) error {
	return s.put(bucketMeta, keySettings, st)
}

// Vaults returns every vault, ordered by id.
func (s *Store) Vaults() ([]Vault, error) { return list[Vault](s, bucketVaults) }

// Vault returns the vault with that id.
func (s *Store) Vault(id string) (Vault, error) { return get[Vault](s, bucketVaults, id) }

// PutVault creates or replaces a vault.
func (s *Store) PutVault(v Vault) error { return s.put(bucketVaults, []byte(v.ID), v) }

// DeleteVault removes a vault; deleting a missing vault is ErrNotFound.
func (s *Store) DeleteVault(id string) error { return s.delete(bucketVaults, id) }

// Services returns every service, ordered by name.
func (s *Store) Services() ([]Service, error) { return list[Service](s, bucketServices) }

// Service returns the service with that name.
func (s *Store) Service(name string) (Service, error) { return get[Service](s, bucketServices, name) }

// PutService creates or replaces a service.
func (s *Store) PutService(svc Service) error { return s.put(bucketServices, []byte(svc.Name), svc) }

// DeleteService removes a service; deleting a missing service is ErrNotFound.
func (s *Store) DeleteService(name string) error { return s.delete(bucketServices, name) }

// ConfigEdits returns the recorded edits of the config file at path (none:
// an empty record).
func (s *Store) ConfigEdits(path string) (ConfigEdits, error) {
	e, err := get[ConfigEdits](s, bucketEdits, path)
	if errors.Is(err, ErrNotFound) {
		return ConfigEdits{Path: path}, nil
	}
	return e, err
}

// PutConfigEdits replaces the record of a config file's edits; with none
// left, the record goes.
func (s *Store) PutConfigEdits(e ConfigEdits) error {
	if len(e.Edits) == 0 {
		if err := s.delete(bucketEdits, e.Path); !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}
	return s.put(bucketEdits, []byte(e.Path), e)
}

// PutAudit stores values under sequence numbers first, first+1, … in one
// durable transaction, all or none; a number already stored keeps its
// record (the audit journal may hand the same records over twice).
func (s *Store) PutAudit(first uint64, values [][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAudit)
		// Sequence numbers only grow: pages need no room for later inserts,
		// and every number up to the last stored one is stored already.
		b.FillPercent = 1
		var last uint64
		if k, _ := b.Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		var key [8]byte
		for i, v := range values {
			seq := first + uint64(i)
			if seq <= last {
				continue
			}
			binary.BigEndian.PutUint64(key[:], seq)
			if err := b.Put(key[:], v); err != nil {
				return err
			}
		}
		return nil
	})
}

// LastAuditSeq is the highest stored audit sequence number (0: none).
func (s *Store) LastAuditSeq() (uint64, error) {
	var last uint64
	err := s.db.View(func(tx *bolt.Tx) error {
		if k, _ := tx.Bucket(bucketAudit).Cursor().Last(); k != nil {
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return last, err
}

// ScanAudit calls fn for each audit record in sequence order (newest first
// when newestFirst), until fn returns false or an error.
func (s *Store) ScanAudit(newestFirst bool, fn func(seq uint64, value []byte) (bool, error)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketAudit).Cursor()
		first, next := c.First, c.Next
		if newestFirst {
			first, next = c.Last, c.Prev
		}
		for k, v := first(); k != nil; k, v = next() {
			more, err := fn(binary.BigEndian.Uint64(k), v)
			if err != nil || !more {
				return err
			}
		}
		return nil
	})
}

func (s *Store) put(bucket, key []byte, value any) error {
	raw, err := json.Marshal(value)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bucket).Put(key, raw) })
}

func (s *Store) delete(bucket []byte, key string) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b.Get([]byte(key)) == nil {
			return ErrNotFound
		}
		return b.Delete([]byte(key))
	})
}

func get[T any](s *Store, bucket []byte, key string) (T, error) {
	var out T
	err := s.db.View(func(tx *bolt.Tx) error {
		raw := tx.Bucket(bucket).Get([]byte(key))
		if raw == nil {
			return ErrNotFound
		}
		return json.Unmarshal(raw, &out)
	})
	return out, err
}

func list[T any](s *Store, bucket []byte) ([]T, error) {
	var out []T
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(_, raw []byte) error {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			out = append(out, v)
			return nil
		})
	})
	return out, err
}
