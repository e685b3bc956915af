// Package core is AgentVault's service layer: it owns the store, the audit
// log, the approval broker and the configured providers, and offers the
// operations the CLI, the control socket and the GUI call (the API
// interface).
//
// Every change is written to the store first and then published (Change):
// the MCP server the root attaches applies it before the operation returns,
// so connected agents see it at once, and windows redraw. The core knows no
// transport: it never imports the MCP server.
package core

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/redact"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

// DefaultListen is where `serve` listens unless told otherwise.
const DefaultListen = "127.0.0.1:7878"

// Config says where the data lives and how to reach the server.
type Config struct {
	// DataDir holds the database; required.
	DataDir string
	// LockTimeout is how long Open waits for another process to release the
	// database; 0: one second.
	LockTimeout time.Duration
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// Secrets keeps credentials; nil: the OS keychain.
	Secrets secrets.Store
}

// Core is an open AgentVault. Its methods are safe for concurrent use.
type Core struct {
	store     *store.Store
	journal   *audit.Journal
	audit     *audit.Log
	approvals *approval.Broker
	log       *slog.Logger
	changes   changes
	paused    atomic.Bool
	stop      func() // ends the forwarding of approval events

	secrets secrets.Store
	// redact holds every configured secret value, to be taken out of what
	// leaves AgentVault: results, audit records, the log.
	redact *redact.Set

	mu        sync.Mutex // serialises changes; guards providers, listen and phone
	providers map[string]providers.Provider
	listen    string
	phone     bool // the CIBA channel is on
}

var _ API = (*Core)(nil)

// Open opens the data directory and loads every vault and service.
// store.ErrLocked means another AgentVault holds it.
func Open(cfg Config) (*Core, error) {
	if cfg.LockTimeout == 0 {
		cfg.LockTimeout = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Secrets == nil {
		cfg.Secrets = secrets.Keychain{Service: "agentvault"}
	}
	out := &redact.Set{}
	cfg.Logger = slog.New(redact.Handler(cfg.Logger.Handler(), out))
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
	c := &Core{store: st, log: cfg.Logger, secrets: cfg.Secrets, redact: out, providers: map[string]providers.Provider{}, listen: settings.Listen}
	if c.listen == "" {
		c.listen = DefaultListen
	}
	journal, err := audit.OpenJournal(filepath.Join(cfg.DataDir, audit.JournalFile), st, audit.DefaultJournalSize)
	if err != nil {
		st.Close()
		return nil, err
	}
	c.journal = journal
	c.audit = audit.New(audit.Config{Backend: journal, Key: key, Redact: out.String})
	c.approvals = approval.New(approval.Config{Policy: c, Auditor: c.audit, Logger: cfg.Logger})
	events, stop := c.approvals.Subscribe()
	c.stop = stop
	go func() {
		for range events {
			c.changes.publish(Change{Topic: ApprovalsChanged})
		}
	}()
	if err := c.load(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Core) load() error {
	services, err := c.store.Services()
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range services {
		if err := c.startProviderLocked(s); err != nil {
			c.log.Error("service cannot start", "service", s.Name, "err", err)
		}
	}
	return nil
}

// Close stops the providers and closes the store.
func (c *Core) Close() error {
	c.stop()
	c.mu.Lock()
	for _, p := range c.providers {
		p.Close()
	}
	c.providers = map[string]providers.Provider{}
	c.mu.Unlock()
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

// Provider implements mcpserver.Catalog.
func (c *Core) Provider(name string) (providers.Provider, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.providers[name]
	return p, ok
}

// headerKey is where a service's header value is kept in the keychain.
func headerKey(service, header string) string { return "service/" + service + "/header/" + header }

// envKey is where a stdio server's environment variable is kept.
func envKey(service, name string) string { return "service/" + service + "/env/" + name }

// urlKey is where a secret part of a service's URL is kept.
func urlKey(service, part string) string { return "service/" + service + "/url/" + part }

// redactGroup names a service's secrets in c.redact.
func redactGroup(service string) string { return "service/" + service + "/" }

func (c *Core) startProviderLocked(s store.Service) error {
	name := s.Name
	if _, ok := ServiceKinds[s.Kind]; ok {
		p, err := c.firstParty(s)
		if err != nil {
			return err
		}
		c.providers[name] = p
		return nil
	}
	var secretValues []string
	headers := make(map[string]string, len(s.HeaderNames))
	for _, h := range s.HeaderNames {
		v, err := c.secrets.Get(headerKey(name, h))
		if err != nil {
			return fmt.Errorf("reading the %s header of %s: %w", h, name, err)
		}
		headers[h] = v
		secretValues = append(secretValues, v)
	}
	env := make([]string, 0, len(s.EnvNames))
	for _, e := range s.EnvNames {
		v, err := c.secrets.Get(envKey(name, e))
		if err != nil {
			return fmt.Errorf("reading the %s variable of %s: %w", e, name, err)
		}
		env = append(env, e+"="+v)
		if secretName(e) || slices.Contains(s.SecretEnv, e) {
			secretValues = append(secretValues, v)
		}
		secretValues = append(secretValues, urlPasswords(v)...) // DATABASE_URL=postgres://u:pw@…
	}
	parts := map[string]string{}
	for _, part := range s.URLSecrets {
		v, err := c.secrets.Get(urlKey(name, part))
		if err != nil {
			return fmt.Errorf("reading the address of %s: %w", name, err)
		}
		parts[part] = v
	}
	secretValues = append(secretValues, urlSecretValues(parts)...)
	c.redact.Put(redactGroup(name)+"config", secretValues...)
	p, err := upstream.New(upstream.Config{
		Name: name, Command: s.Command, URL: joinURLSecrets(s.URL, parts), Headers: headers, Env: env, PassEnv: s.PassEnv, Logger: c.log,
		OnToolsChanged: func() { c.changes.publish(Change{Topic: ServiceChanged, Service: name}) },
	})
	if err != nil {
		return err
	}
	c.providers[name] = &pinned{Provider: p, core: c, service: name}
	return nil
}

// Served returns a vault as stored, for the MCP server; ErrNotFound when
// there is none with that id.
func (c *Core) Served(id string) (store.Vault, error) {
	v, err := c.store.Vault(id)
	if errors.Is(err, store.ErrNotFound) {
		return v, fmt.Errorf("vault %q: %w", id, ErrNotFound)
	}
	return v, err
}

// AllServed returns every vault as stored, for the MCP server.
func (c *Core) AllServed() ([]store.Vault, error) { return c.store.Vaults() }

// Redactor holds every configured secret, to be taken out of what leaves
// AgentVault.
func (c *Core) Redactor() *redact.Set { return c.redact }

var (
	serviceName = regexp.MustCompile(`^[a-zA-Z0-9-]{1,32}$`)
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
	vaultName   = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,63}$`)
)

// ErrNotFound means no vault or service matches the reference.
var ErrNotFound = errors.New("not found")

// AddService configures an upstream MCP server. Header values, environment
// values and the credentials in a URL go to the keychain.
func (c *Core) AddService(spec ServiceSpec) (ServiceInfo, error) {
	if !serviceName.MatchString(spec.Name) {
		return ServiceInfo{}, fmt.Errorf("service name %q: use 1-32 letters, digits or '-' (it prefixes tool names)", spec.Name)
	}
	svc := store.Service{Name: spec.Name, Created: time.Now().UTC()}
	secretValues := map[string]string{} // keychain key → header, variable or URL part
	switch {
	case spec.Command != "" && spec.URL != "":
		return ServiceInfo{}, errors.New("give either a command or a URL, not both")
	case spec.Command != "":
		args, err := shellwords.Parse(spec.Command)
		if err != nil || len(args) == 0 {
			return ServiceInfo{}, fmt.Errorf("cannot parse command %q: %v", spec.Command, err)
		}
		svc.Kind, svc.Command = "mcp-stdio", args
		if len(spec.Headers) > 0 {
			return ServiceInfo{}, errors.New("headers apply to services reached by URL only")
		}
		for _, e := range slices.Concat(spec.Env, spec.SecretEnv) {
			k, v, ok := strings.Cut(e, "=")
			if !ok || !envName.MatchString(k) {
				return ServiceInfo{}, fmt.Errorf("environment variable %q: want NAME=value", envShown(e))
			}
			if upstream.Reserved(k) {
				return ServiceInfo{}, fmt.Errorf("environment variable %s: AgentVault's own variables are never given to a service", k)
			}
			secretValues[envKey(spec.Name, k)] = v
			svc.EnvNames = append(svc.EnvNames, k)
		}
		for _, e := range spec.SecretEnv {
			k, _, _ := strings.Cut(e, "=")
			svc.SecretEnv = append(svc.SecretEnv, k)
		}
		for _, k := range spec.PassEnv {
			if !envName.MatchString(k) {
				return ServiceInfo{}, fmt.Errorf("variable to pass %q: want a NAME", k)
			}
			if upstream.Reserved(k) {
				return ServiceInfo{}, fmt.Errorf("variable to pass %s: AgentVault's own variables are never given to a service", k)
			}
			svc.PassEnv = append(svc.PassEnv, k)
		}
	case spec.URL != "":
		shown, parts, err := splitURLSecrets(spec.URL)
		if err != nil {
			return ServiceInfo{}, err
		}
		svc.Kind, svc.URL = "mcp-http", shown
		for part, v := range parts {
			secretValues[urlKey(spec.Name, part)] = v
			svc.URLSecrets = append(svc.URLSecrets, part)
		}
		for _, h := range spec.Headers {
			k, v, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return ServiceInfo{}, errors.New(`a header must be "Name: value"`)
			}
			name := http.CanonicalHeaderKey(strings.TrimSpace(k))
			secretValues[headerKey(spec.Name, name)] = strings.TrimSpace(v)
			svc.HeaderNames = append(svc.HeaderNames, name)
		}
		if len(spec.Env) > 0 || len(spec.SecretEnv) > 0 || len(spec.PassEnv) > 0 {
			return ServiceInfo{}, errors.New("environment variables apply to services started as a command only")
		}
	default:
		return ServiceInfo{}, errors.New("give a command or a URL")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.store.Service(spec.Name); err == nil {
		return ServiceInfo{}, fmt.Errorf("a service named %q already exists", spec.Name)
	}
	for _, list := range []*[]string{&svc.HeaderNames, &svc.EnvNames, &svc.SecretEnv, &svc.PassEnv, &svc.URLSecrets} {
		slices.Sort(*list)
		*list = slices.Compact(*list)
	}
	for key, v := range secretValues {
		if err := c.secrets.Set(key, v); err != nil {
			return ServiceInfo{}, fmt.Errorf("saving a credential of %s in the keychain: %w", spec.Name, err)
		}
	}
	if err := c.store.PutService(svc); err != nil {
		return ServiceInfo{}, err
	}
	if err := c.startProviderLocked(svc); err != nil {
		return ServiceInfo{}, err
	}
	return serviceInfo(svc), nil
}

// envShown is an environment entry as an error may repeat it: its name only.
func envShown(e string) string {
	k, _, _ := strings.Cut(e, "=")
	return k + "=…"
}

// Services lists the configured services with their status.
func (c *Core) Services() ([]ServiceInfo, error) {
	list, err := c.store.Services()
	out := make([]ServiceInfo, 0, len(list))
	for _, s := range list {
		info := serviceInfo(s)
		if p, ok := c.Provider(s.Name); ok {
			if pin, ok := p.(*pinned); ok {
				info.Status = pin.Status()
			} else {
				info.Unavailable, info.Status = signInState(p, s)
			}
		} else {
			info.Status = "cannot start: see the AgentVault log"
		}
		info.Status = c.redact.String(info.Status)
		out = append(out, info)
	}
	return out, err
}

// RemoveService stops and forgets a service, takes it out of every vault
// (their agents lose its tools at once) and deletes its keychain entries.
func (c *Core) RemoveService(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	svc, err := c.store.Service(name)
	if err != nil {
		return fmt.Errorf("service %q: %w", name, ErrNotFound)
	}
	vaults, err := c.store.Vaults()
	if err != nil {
		return err
	}
	for _, v := range vaults {
		if !slices.Contains(v.Services, name) {
			continue
		}
		v.Services = slices.DeleteFunc(v.Services, func(s string) bool { return s == name })
		if err := c.store.PutVault(v); err != nil {
			return err
		}
		c.changes.publish(Change{Topic: VaultChanged, Vault: v.ID})
	}
	if err := c.store.DeleteService(name); err != nil {
		return err
	}
	if p, ok := c.providers[name]; ok {
		p.Close()
		delete(c.providers, name)
	}
	c.deleteCredentials(svc)
	c.redact.Drop(redactGroup(name))
	c.changes.publish(Change{Topic: ServiceChanged, Service: name, Removed: true})
	return nil
}

func serviceInfo(s store.Service) ServiceInfo {
	info := ServiceInfo{Name: s.Name, Kind: s.Kind, URL: s.URL}
	if len(s.Command) > 0 {
		info.Command = shellJoin(s.Command)
	}
	info.Headers, info.Env, info.PassEnv = s.HeaderNames, s.EnvNames, s.PassEnv
	info.Account, info.Scopes, info.Auth = s.Account, s.Scopes, s.Auth
	return info
}

// CreateVault makes a vault offering services, with the default policy.
func (c *Core) CreateVault(spec VaultSpec) (NewVault, error) {
	name, services := spec.Name, spec.Services
	if spec.ApprovalTimeout < 0 || spec.ApprovalTimeout > time.Hour {
		return NewVault{}, errors.New("the approval timeout must be between 1s and 1h")
	}
	if !vaultName.MatchString(name) {
		return NewVault{}, fmt.Errorf("vault name %q: use 1-64 letters, digits, spaces, '.', '_' or '-'", name)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	vaults, err := c.store.Vaults()
	if err != nil {
		return NewVault{}, err
	}
	for _, v := range vaults {
		if v.Name == name {
			return NewVault{}, fmt.Errorf("a vault named %q already exists", name)
		}
	}
	services = slices.Compact(slices.Sorted(slices.Values(services)))
	for _, s := range services {
		if _, ok := c.providers[s]; !ok {
			return NewVault{}, fmt.Errorf("no service named %q (see `agentvault service list`)", s)
		}
	}
	token, digest := vaulttoken.New()
	v := store.Vault{ID: newID(), Name: name, TokenDigest: digest, Services: services, Created: time.Now().UTC(),
		ApprovalTimeout: spec.ApprovalTimeout, Expires: spec.Expires}
	if err := c.store.PutVault(v); err != nil {
		return NewVault{}, err
	}
	c.changes.publish(Change{Topic: VaultChanged, Vault: v.ID})
	c.keepToken(v.ID, token)
	return NewVault{ID: v.ID, Name: v.Name, URL: c.urlLocked(v.ID), Token: token}, nil
}

func newID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "v" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (c *Core) urlLocked(id string) string { return "http://" + c.listen + "/v/" + id + "/mcp" }

// Vaults lists every vault, by name.
func (c *Core) Vaults() ([]VaultInfo, error) {
	list, err := c.store.Vaults()
	slices.SortFunc(list, func(a, b store.Vault) int { return strings.Compare(a.Name, b.Name) })
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]VaultInfo, 0, len(list))
	for _, v := range list {
		out = append(out, c.vaultInfoLocked(v))
	}
	return out, err
}

func (c *Core) vaultInfoLocked(v store.Vault) VaultInfo {
	return VaultInfo{ID: v.ID, Name: v.Name, URL: c.urlLocked(v.ID), Services: v.Services, Created: v.Created,
		Expires: v.Expires, ApprovalTimeout: v.ApprovalTimeout, GrantLimit: v.GrantLimit}
}

// ApplyPreset replaces a vault's rules (and rate limits) with a built-in
// preset spelled out for the tools its services offer now.
func (c *Core) ApplyPreset(ctx context.Context, ref, name string) error {
	p, err := policy.FindPreset(name)
	if err != nil {
		return err
	}
	d, err := c.Vault(ctx, ref)
	if err != nil {
		return err
	}
	if d.Warning != "" {
		return fmt.Errorf("cannot apply a preset while %s", d.Warning)
	}
	var tools []policy.ToolDefault
	for _, t := range d.Tools {
		tools = append(tools, policy.ToolDefault{Name: t.Name, Default: t.Default})
	}
	_, err = c.updateVault(d.ID, func(v *store.Vault) error {
		guards := v.Policy.Guards // a preset changes decisions, not what the user fenced in
		v.Policy, v.RateLimits = p.Policy(tools), slices.Clone(p.Limits)
		v.Policy.Guards = guards
		return nil
	})
	return err
}

// SetRateLimit limits a vault's calls of tools matching pattern ("*": all
// its calls together) to spec (60/min, 500/day…); spec "off" removes it.
func (c *Core) SetRateLimit(ref, pattern, spec string) error {
	var limit *policy.RateLimit
	if spec != "off" {
		l, err := policy.ParseRateLimit(pattern, spec)
		if err != nil {
			return err
		}
		limit = &l
	}
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		v.RateLimits = slices.DeleteFunc(v.RateLimits, func(l policy.RateLimit) bool { return l.Pattern == pattern })
		if limit != nil {
			v.RateLimits = append(v.RateLimits, *limit)
		}
		return nil
	})
	return err
}

// SetApprovalTimeout sets how long a vault's calls wait for approval
// (0: the default, 2 minutes).
func (c *Core) SetApprovalTimeout(ref string, d time.Duration) error {
	if d < 0 || d > time.Hour || (d > 0 && d < time.Second) {
		return errors.New("the approval timeout must be between 1s and 1h")
	}
	_, err := c.updateVault(ref, func(v *store.Vault) error { v.ApprovalTimeout = d; return nil })
	return err
}

// SetExpiry renews a vault until t (zero: it never expires).
func (c *Core) SetExpiry(ref string, t time.Time) error {
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		v.Expires = time.Time{}
		if !t.IsZero() {
			v.Expires = t.UTC()
		}
		return nil
	})
	return err
}

// resolve finds a vault by id, else by name.
func (c *Core) resolve(ref string) (store.Vault, error) {
	if v, err := c.store.Vault(ref); err == nil {
		return v, nil
	}
	vaults, err := c.store.Vaults()
	if err != nil {
		return store.Vault{}, err
	}
	for _, v := range vaults {
		if v.Name == ref {
			return v, nil
		}
	}
	return store.Vault{}, fmt.Errorf("vault %q: %w", ref, ErrNotFound)
}

// updateVault changes one vault (by id or name) under the lock, saves it and
// applies it to the running server, so connected agents see it at once.
func (c *Core) updateVault(ref string, change func(v *store.Vault) error) (store.Vault, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.resolve(ref)
	if err != nil {
		return v, err
	}
	if err := change(&v); err != nil {
		return v, err
	}
	if err := c.store.PutVault(v); err != nil {
		return v, err
	}
	c.changes.publish(Change{Topic: VaultChanged, Vault: v.ID})
	return v, nil
}

// Vault describes one vault with every tool it could offer and its decision.
func (c *Core) Vault(ctx context.Context, ref string) (VaultDetail, error) {
	v, err := c.resolve(ref)
	if err != nil {
		return VaultDetail{}, err
	}
	exposed, _, complete := providers.Expose(ctx, c.Provider, v.Services)
	c.mu.Lock()
	d := VaultDetail{VaultInfo: c.vaultInfoLocked(v), Rules: v.Policy.Rules, Guards: v.Policy.Guards,
		Tools: providers.Decisions(v.Policy, exposed), RateLimits: v.RateLimits}
	c.mu.Unlock()
	if !complete {
		d.Warning = "some services could not be reached; their tools are missing"
	}
	if d.Rules == nil {
		d.Rules = []policy.Rule{}
	}
	return d, nil
}

// SetPolicy sets the decision for a tool name or pattern in a vault.
func (c *Core) SetPolicy(ref, pattern string, d policy.Decision) error {
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		p, err := v.Policy.With(pattern, d)
		v.Policy = p
		return err
	})
	return err
}

// SetGuard sets, replaces or (with no Allow entries) removes a vault's
// argument guard of g's kind and tools.
func (c *Core) SetGuard(ref string, g policy.Guard) error {
	g = resolveGuard(g)
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		p, err := v.Policy.WithGuard(g)
		v.Policy = p
		return err
	})
	return err
}

// ExportVault returns a vault's shareable template (no token, no id).
func (c *Core) ExportVault(ref string) (policy.Template, error) {
	v, err := c.resolve(ref)
	if err != nil {
		return policy.Template{}, err
	}
	guards := slices.Clone(v.Policy.Guards)
	for i := range guards {
		guards[i].Resolved = nil // where paths lead on this machine is this machine's
	}
	t := policy.Template{Kind: policy.TemplateKind, Version: policy.TemplateVersion, Name: v.Name,
		Services: v.Services, Rules: v.Policy.Rules, RateLimits: v.RateLimits, Guards: guards}
	if t.Rules == nil {
		t.Rules = []policy.Rule{}
	}
	if v.ApprovalTimeout > 0 {
		t.ApprovalTimeout = v.ApprovalTimeout.String()
	}
	return t, nil
}

// ImportVault creates a vault from a template, named name (or the
// template's name when name is empty).
func (c *Core) ImportVault(t policy.Template, name string) (NewVault, error) {
	if err := t.Validate(); err != nil {
		return NewVault{}, err
	}
	if name == "" {
		name = t.Name
	}
	var timeout time.Duration
	if t.ApprovalTimeout != "" {
		timeout, _ = time.ParseDuration(t.ApprovalTimeout) // validated above
	}
	nv, err := c.CreateVault(VaultSpec{Name: name, Services: t.Services, ApprovalTimeout: timeout})
	if err != nil {
		return NewVault{}, err
	}
	err = c.ReplacePolicy(nv.ID, t.Policy())
	for _, l := range t.RateLimits {
		if err == nil {
			err = c.SetRateLimit(nv.ID, l.Pattern, l.String())
		}
	}
	if err != nil {
		c.DeleteVault(nv.ID)
		return NewVault{}, err
	}
	return nv, nil
}

// ReplacePolicy replaces all of a vault's rules and guards (templates).
func (c *Core) ReplacePolicy(ref string, p policy.Policy) error {
	for _, r := range p.Rules {
		if err := policy.ValidatePattern(r.Pattern); err != nil {
			return err
		}
		if _, err := policy.ParseDecision(string(r.Decision)); err != nil {
			return err
		}
	}
	p.Guards = slices.Clone(p.Guards)
	for i, g := range p.Guards {
		if err := g.Validate(); err != nil {
			return err
		}
		p.Guards[i] = resolveGuard(g)
	}
	_, err := c.updateVault(ref, func(v *store.Vault) error { v.Policy = p; return nil })
	return err
}

// resolveGuard records, for a path guard, where each entry leads on this
// machine now, when the user saves it: a server started as a command is
// checked against that, and a link someone plants later at an entry's place
// cannot widen it.
func resolveGuard(g policy.Guard) policy.Guard {
	g.Resolved = nil
	if g.Kind != policy.Path {
		return g
	}
	resolved := make([]string, len(g.Allow))
	changed := false
	for i, a := range g.Allow {
		resolved[i] = a
		if a == "*" {
			continue
		}
		if real, err := upstream.Resolve(a); err == nil && real != a {
			resolved[i], changed = real, true
		}
	}
	if changed {
		g.Resolved = resolved
	}
	return g
}

// SetPaused pauses or resumes every agent at once.
func (c *Core) SetPaused(p bool) error {
	c.paused.Store(p)
	c.changes.publish(Change{Topic: SettingsChanged})
	return nil
}

// Paused reports whether every agent is paused.
func (c *Core) Paused() bool { return c.paused.Load() }

// Status summarises the running service for the tray.
func (c *Core) Status() (Status, error) {
	vaults, err := c.store.Vaults()
	return Status{Vaults: len(vaults), Sessions: c.changes.sessions(), Pending: len(c.approvals.Pending()), Paused: c.paused.Load()}, err
}

// RotateToken gives a vault a new token; the old one stops working and its
// sessions end at once.
func (c *Core) RotateToken(ref string) (string, error) {
	token, digest := vaulttoken.New()
	v, err := c.updateVault(ref, func(v *store.Vault) error { v.TokenDigest = digest; return nil })
	if err != nil {
		return "", err
	}
	c.approvals.RevokeGrants(v.ID)
	c.keepToken(v.ID, token)
	return token, nil
}

// VaultTokenKey is where a vault's token is kept in the keychain, for the
// stdio bridge and client setup; AgentVault itself checks only the digest.
func VaultTokenKey(vaultID string) string { return "vault/" + vaultID + "/token" }

// keepToken stores a new token in the keychain when there is one; without a
// keychain the token is still shown once and tools ask for it.
func (c *Core) keepToken(vaultID, token string) {
	if err := c.secrets.Set(VaultTokenKey(vaultID), token); err != nil {
		c.log.Debug("vault token not kept in the keychain", "vault", vaultID, "err", err)
	}
}

// DeleteVault removes a vault; its token stops working and its sessions end.
// Its audit records stay.
func (c *Core) DeleteVault(ref string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, err := c.resolve(ref)
	if err != nil {
		return err
	}
	if err := c.store.DeleteVault(v.ID); err != nil {
		return err
	}
	_ = c.secrets.Delete(VaultTokenKey(v.ID)) // best effort: the token no longer opens anything
	c.changes.publish(Change{Topic: VaultChanged, Vault: v.ID, Removed: true})
	c.approvals.RevokeGrants(v.ID)
	return nil
}

// AllowTool implements approval.PolicyWriter ("always allow").
func (c *Core) AllowTool(vaultID, tool string) error {
	return c.SetPolicy(vaultID, tool, policy.Allow)
}

// Approvals lists the calls waiting for approval and recent answers.
func (c *Core) Approvals() (Approvals, error) {
	return Approvals{Pending: nonNil(c.approvals.Pending()), Recent: nonNil(c.approvals.History())}, nil
}

// Approval returns a waiting or recently answered call.
func (c *Core) Approval(_ context.Context, ref string) (approval.Resolved, error) {
	r, ok := c.approvals.Find(ref)
	if !ok {
		return r, fmt.Errorf("approval %s: %w", ref, ErrNotFound)
	}
	return r, nil
}

// AnswerApproval answers a pending call and returns the call it settled.
func (c *Core) AnswerApproval(ctx context.Context, ref string, a approval.Answer) (approval.Resolved, error) {
	if err := c.approvals.Answer(ref, a); err != nil {
		return approval.Resolved{}, err
	}
	return c.Approval(ctx, ref)
}

// The limits a vault's agents have unless the user sets others.
const (
	DefaultMaxPending  = 16
	DefaultMaxSessions = 256
	DefaultBodyTimeout = 30 * time.Second
)

// Limits returns the limits in force.
func (c *Core) Limits(context.Context) (Limits, error) {
	s, err := c.store.Settings()
	if err != nil {
		return Limits{}, err
	}
	l := Limits{MaxPending: s.MaxPending, MaxSessions: s.MaxSessions, BodyTimeout: s.BodyTimeout}
	if l.MaxPending == 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxSessions == 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.BodyTimeout == 0 {
		l.BodyTimeout = DefaultBodyTimeout
	}
	return l, nil
}

// SetLimits stores and applies new limits; a zero field keeps its value.
func (c *Core) SetLimits(_ context.Context, l Limits) error {
	switch {
	case l.MaxPending < 0 || l.MaxPending > 1000:
		return errors.New("calls waiting for approval: give 1 to 1000")
	case l.MaxSessions < 0 || l.MaxSessions > 10000:
		return errors.New("open sessions: give 1 to 10000")
	case l.BodyTimeout < 0 || l.BodyTimeout > 10*time.Minute || (l.BodyTimeout > 0 && l.BodyTimeout < time.Second):
		return errors.New("time to send a request: give 1s to 10m")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.store.Settings()
	if err != nil {
		return err
	}
	if l.MaxPending > 0 {
		s.MaxPending = l.MaxPending
	}
	if l.MaxSessions > 0 {
		s.MaxSessions = l.MaxSessions
	}
	if l.BodyTimeout > 0 {
		s.BodyTimeout = l.BodyTimeout
	}
	if err := c.store.PutSettings(s); err != nil {
		return err
	}
	c.changes.publish(Change{Topic: SettingsChanged})
	return nil
}

// SetGrantLimit sets how long a vault's session grants last at most.
func (c *Core) SetGrantLimit(_ context.Context, ref string, d time.Duration) error {
	if d < 0 || d > approval.DefaultGrantLimit || (d > 0 && d < time.Minute) {
		return fmt.Errorf("a session grant lasts between 1m and %s", approval.DefaultGrantLimit)
	}
	v, err := c.updateVault(ref, func(v *store.Vault) error { v.GrantLimit = d; return nil })
	if err == nil {
		c.approvals.RevokeGrants(v.ID) // grants given under the old limit end now
	}
	return err
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// auditFilter resolves a vault reference; an unknown reference is taken as
// the id of a deleted vault, whose records remain.
func (c *Core) auditFilter(ref string, limit int) audit.Filter {
	f := audit.Filter{VaultID: ref, Limit: limit}
	if v, err := c.resolve(ref); err == nil {
		f.VaultID = v.ID
	}
	return f
}

// AuditList returns the newest limit records (0: all), oldest first,
// optionally of one vault.
func (c *Core) AuditList(ref string, limit int) ([]audit.Record, error) {
	return c.audit.List(c.auditFilter(ref, limit))
}

// AuditExport writes the audit log (optionally of one vault) as jsonl or csv.
func (c *Core) AuditExport(w io.Writer, format, ref string) error {
	return c.audit.Export(w, format, c.auditFilter(ref, 0))
}

// shellJoin renders a command line for display, quoting where needed.
func shellJoin(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'\\$`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
