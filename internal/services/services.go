// Package services keeps AgentVault's sources of tools running: upstream
// MCP servers (started as commands or reached by URL) and the first-party
// services (GitHub, Google, Slack, Jira), with their credentials. Secret
// values live in the keychain (secrets.Store), never in the store; every
// configured one is added to the redaction set; an upstream's tools are
// pinned (see pinning.go).
//
// A tool call finds its provider without taking a lock: the running
// providers are an immutable map, replaced whole on a change. Changes are
// serialised, and no lock is held across a keychain or network call.
//
// It must never know vaults, policy decisions or any transport: the core
// composes those.
package services

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/redact"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
)

// Config holds a registry's dependencies; all but Changed are required.
type Config struct {
	Store   *store.Store
	Secrets secrets.Store
	// Redact collects every configured secret value.
	Redact *redact.Set
	// Audit records pinning events (a changed tool hidden, tools accepted).
	Audit *audit.Log
	// Auth0Tenant returns the Auth0 setup, for Token Vault; it is asked at
	// each use, since the user may log in or out while services run.
	Auth0Tenant func() (api.Auth0Status, error)
	// Changed hears that a service's tools changed (or it was added,
	// connected, reviewed or removed); nil: no one listens.
	Changed func(service string)
	Logger  *slog.Logger
	// DataDir is AgentVault's data folder, hidden from contained servers.
	DataDir string
}

// Registry runs the configured services.
type Registry struct {
	cfg Config

	running atomic.Pointer[map[string]providers.Provider] // read without a lock

	mu      sync.Mutex      // serialises changes
	claimed map[string]bool // names being added or connected right now
	closed  bool
}

// ErrNotFound means no service has that name.
var ErrNotFound = api.ErrNotFound

// Open starts every service the store holds. A service that cannot start
// (its credential is missing, the keychain is locked) is logged and left
// out; Services says so.
func Open(cfg Config) *Registry {
	if cfg.Changed == nil {
		cfg.Changed = func(string) {}
	}
	r := &Registry{cfg: cfg, claimed: map[string]bool{}}
	r.running.Store(&map[string]providers.Provider{})
	list, err := cfg.Store.Services()
	if err != nil {
		cfg.Logger.Error("services cannot be read", "err", err)
	}
	running := map[string]providers.Provider{}
	for _, s := range list {
		p, err := r.start(s)
		if err != nil {
			cfg.Logger.Error("service cannot start", "service", s.Name, "err", err)
			continue
		}
		running[s.Name] = p
	}
	r.running.Store(&running)
	return r
}

// Close stops every service.
func (r *Registry) Close() {
	r.mu.Lock()
	r.closed = true
	old := *r.running.Load()
	r.running.Store(&map[string]providers.Provider{})
	r.mu.Unlock()
	for _, p := range old {
		p.Close()
	}
}

// Provider returns the running provider of service name, without a lock:
// it is on every tool call's path.
func (r *Registry) Provider(name string) (providers.Provider, bool) {
	p, ok := (*r.running.Load())[name]
	return p, ok
}

// claim reserves name for an addition or a connection, so that the
// keychain can be written outside the lock without another change of the
// same name in between. replace allows a name that exists.
func (r *Registry) claim(name string, replace func(old store.Service) error) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return errors.New("AgentVault is shutting down")
	}
	if r.claimed[name] {
		return fmt.Errorf("service %s is being changed right now; try again", name)
	}
	old, err := r.cfg.Store.Service(name)
	switch {
	case err == nil && replace == nil:
		return fmt.Errorf("a service named %q already exists", name)
	case err == nil:
		if err := replace(old); err != nil {
			return err
		}
	case !errors.Is(err, store.ErrNotFound):
		return err
	}
	r.claimed[name] = true
	return nil
}

func (r *Registry) unclaim(name string) {
	r.mu.Lock()
	delete(r.claimed, name)
	r.mu.Unlock()
}

// commit stores s and swaps in its provider p (closing the one it
// replaces), under the lock; the claim on s's name ends.
func (r *Registry) commit(s store.Service, p providers.Provider) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.claimed, s.Name)
	if err := r.cfg.Store.PutService(s); err != nil {
		p.Close()
		return err
	}
	running := maps.Clone(*r.running.Load())
	old := running[s.Name]
	running[s.Name] = p
	r.running.Store(&running)
	if old != nil {
		go old.Close() // calls under way on it finish or fail; new ones use p
	}
	return nil
}

// Remove stops and forgets a service and deletes its keychain entries. The
// caller takes it out of the vaults first.
func (r *Registry) Remove(name string) error {
	r.mu.Lock()
	svc, err := r.cfg.Store.Service(name)
	if err != nil {
		r.mu.Unlock()
		return fmt.Errorf("service %q: %w", name, ErrNotFound)
	}
	if err := r.cfg.Store.DeleteService(name); err != nil {
		r.mu.Unlock()
		return err
	}
	running := maps.Clone(*r.running.Load())
	p := running[name]
	delete(running, name)
	r.running.Store(&running)
	r.mu.Unlock()
	if p != nil {
		p.Close()
	}
	r.deleteCredentials(svc)
	r.cfg.Redact.Drop(redactGroup(name))
	r.cfg.Changed(name)
	return nil
}

// Has reports whether a service named name is configured.
func (r *Registry) Has(name string) bool {
	_, err := r.cfg.Store.Service(name)
	return err == nil
}

// List describes every configured service with its status.
func (r *Registry) List(context.Context) ([]api.ServiceInfo, error) {
	list, err := r.cfg.Store.Services()
	out := make([]api.ServiceInfo, 0, len(list))
	for _, s := range list {
		info := describe(s)
		p, ok := r.Provider(s.Name)
		switch pin, pinned := p.(*pinned); {
		case !ok:
			info.Status = "cannot start: see the AgentVault log"
		case pinned:
			info.Status = pin.Status()
		default:
			info = describeSignedIn(p, s)
		}
		info.Status = r.cfg.Redact.String(info.Status)
		out = append(out, info)
	}
	return out, err
}

// describe is what users see of a stored service.
func describe(s store.Service) api.ServiceInfo {
	info := api.ServiceInfo{Name: s.Name, Kind: s.Kind, URL: s.URL}
	if len(s.Command) > 0 {
		info.Command = ShellJoin(s.Command)
	}
	info.Headers, info.Env, info.PassEnv, info.Contained = s.HeaderNames, s.EnvNames, s.PassEnv, s.Contained
	info.Account, info.Scopes, info.Auth = s.Account, s.Scopes, s.Auth
	return info
}

// serviceName is what a service may be called: it prefixes tool names.
var serviceName = regexp.MustCompile(`^[a-zA-Z0-9-]{1,32}$`)

func checkName(name string) error {
	if !serviceName.MatchString(name) {
		return fmt.Errorf("service name %q: use 1-32 letters, digits or '-' (it prefixes tool names)", name)
	}
	return nil
}

// redactGroup names a service's secrets in the redaction set.
func redactGroup(service string) string { return "service/" + service + "/" }

// ShellJoin renders a command line for display (and for ServiceSpec.Command),
// quoting where needed.
func ShellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
