package core

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/internal/suggest"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

var vaultName = regexp.MustCompile(`^[a-zA-Z0-9][a-zA-Z0-9 ._-]{0,63}$`)

// notFound is the error for a reference that names nothing.
func notFound(what, ref string) error { return fmt.Errorf("%s %q: %w", what, ref, ErrNotFound) }

// CreateVault makes a vault offering services, with the default policy or
// the preset the spec names: all or nothing.
func (c *Core) CreateVault(ctx context.Context, spec api.VaultSpec) (api.NewVault, error) {
	return c.createVault(ctx, spec, func(v *store.Vault, tools []providers.Exposed) error {
		if spec.Preset == "" {
			return nil
		}
		p, err := policy.FindPreset(spec.Preset)
		if err != nil {
			return err
		}
		v.Policy, v.RateLimits = p.Policy(toolDefaults(tools)), slices.Clone(p.Limits)
		return nil
	}, spec.Preset != "")
}

// createVault makes the vault spec describes, shaped by shape (a preset, a
// template) in the same store write: a vault exists whole or not at all.
// needTools lists the services' tools first, without a lock, and refuses
// when a service cannot say.
func (c *Core) createVault(ctx context.Context, spec api.VaultSpec, shape func(v *store.Vault, tools []providers.Exposed) error, needTools bool) (api.NewVault, error) {
	if spec.ApprovalTimeout < 0 || spec.ApprovalTimeout > time.Hour {
		return api.NewVault{}, errors.New("the approval timeout must be between 1s and 1h")
	}
	if !vaultName.MatchString(spec.Name) {
		return api.NewVault{}, fmt.Errorf("vault name %q: use 1-64 letters, digits, spaces, '.', '_' or '-'", spec.Name)
	}
	services, err := c.knownServices(spec.Services)
	if err != nil {
		return api.NewVault{}, err
	}
	var tools []providers.Exposed
	if needTools {
		var complete bool
		if tools, _, complete = providers.Expose(ctx, c.Provider, services); !complete {
			return api.NewVault{}, errors.New("some services could not be reached, so their tools are unknown; nothing was created")
		}
	}
	token, digest := vaulttoken.New()
	v := store.Vault{ID: newID(), Name: spec.Name, TokenDigest: digest, Services: services, Created: time.Now().UTC(),
		ApprovalTimeout: spec.ApprovalTimeout, Expires: spec.Expires}
	if err := shape(&v, tools); err != nil {
		return api.NewVault{}, err
	}
	c.mu.Lock()
	vaults, err := c.store.Vaults()
	if err == nil && slices.ContainsFunc(vaults, func(o store.Vault) bool { return o.Name == spec.Name }) {
		err = fmt.Errorf("a vault named %q already exists", spec.Name)
	}
	if err == nil {
		err = c.store.PutVault(v)
	}
	url := c.urlLocked(v.ID)
	c.mu.Unlock()
	if err != nil {
		return api.NewVault{}, err
	}
	c.changes.publish(api.Change{Topic: api.VaultChanged, Vault: v.ID})
	nv := api.NewVault{ID: v.ID, Name: v.Name, URL: url, Token: token}
	if len(services) == 0 {
		nv.Warnings = append(nv.Warnings, api.NoToolsYet)
	}
	if err := c.keepToken(v.ID, token); err != nil {
		nv.Warnings = append(nv.Warnings, fmt.Sprintf("the token could not be kept (%v). Copy it now: client setup and the bridge will need it in $AGENTVAULT_TOKEN", err))
	}
	return nv, nil
}

// knownServices is names sorted, without repeats, or an error naming one
// that is not a configured service.
func (c *Core) knownServices(names []string) ([]string, error) {
	names = slices.Compact(slices.Sorted(slices.Values(names)))
	for _, s := range names {
		if !c.services.Has(s) {
			return nil, fmt.Errorf("no service named %q", s)
		}
	}
	return names, nil
}

// SetVaultServices sets the services whose tools a vault offers; its
// connected agents see the new tool list at once.
func (c *Core) SetVaultServices(_ context.Context, ref string, names []string) error {
	names, err := c.knownServices(names)
	if err != nil {
		return err
	}
	_, err = c.updateVault(ref, func(v *store.Vault) error {
		v.Services = names
		return nil
	})
	return err
}

// toolDefaults are the tools as presets see them.
func toolDefaults(tools []providers.Exposed) []policy.ToolDefault {
	out := make([]policy.ToolDefault, len(tools))
	for i, t := range tools {
		out[i] = policy.ToolDefault{Name: t.Def.Name, Default: policy.Default(t.Policy()).Decision}
	}
	return out
}

func newID() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return "v" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

func (c *Core) urlLocked(id string) string { return "http://" + c.listen + "/v/" + id + "/mcp" }

// Vaults lists every vault, by name.
func (c *Core) Vaults(context.Context) ([]api.VaultInfo, error) {
	list, err := c.store.Vaults()
	slices.SortFunc(list, func(a, b store.Vault) int { return strings.Compare(a.Name, b.Name) })
	sessions := c.changes.sessions()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]api.VaultInfo, 0, len(list))
	for _, v := range list {
		out = append(out, c.vaultInfoLocked(v, sessions))
	}
	return out, err
}

// vaultInfoLocked summarises v; sessions are the open sessions by vault id,
// counted before c.mu was taken (the server may be waiting for it).
func (c *Core) vaultInfoLocked(v store.Vault, sessions map[string]int) api.VaultInfo {
	return api.VaultInfo{ID: v.ID, Name: v.Name, URL: c.urlLocked(v.ID), Services: v.Services, Created: v.Created,
		Expires: v.Expires, ApprovalTimeout: v.ApprovalTimeout, GrantLimit: v.GrantLimit, Sessions: sessions[v.ID]}
}

// Vault describes one vault with every tool it could offer and its
// decision. Listing the tools may ask the services.
func (c *Core) Vault(ctx context.Context, ref string) (api.VaultDetail, error) {
	v, err := c.resolve(ref)
	if err != nil {
		return api.VaultDetail{}, err
	}
	exposed, _, complete := providers.Expose(ctx, c.Provider, v.Services)
	sessions := c.changes.sessions()
	c.mu.Lock()
	d := api.VaultDetail{VaultInfo: c.vaultInfoLocked(v, sessions), Rules: nonNil(v.Policy.Rules), Guards: v.Policy.Guards,
		Tools: providers.Decisions(v.Policy, exposed), RateLimits: v.RateLimits, Flow: v.Policy.Flow}
	c.mu.Unlock()
	if !complete {
		d.Warning = "some services could not be reached; their tools are missing"
		return d, nil
	}
	for _, r := range v.Policy.Rules {
		if !slices.ContainsFunc(exposed, func(t providers.Exposed) bool { return policy.Matches(r.Pattern, t.Def.Name) }) {
			d.Unmatched = append(d.Unmatched, r.Pattern)
		}
	}
	return d, nil
}

// ApplyPreset replaces a vault's rules (and rate limits) with a built-in
// preset spelled out for the tools its services offer now.
func (c *Core) ApplyPreset(ctx context.Context, ref, name string) error {
	p, err := policy.FindPreset(name)
	if err != nil {
		return err
	}
	v, err := c.resolve(ref)
	if err != nil {
		return err
	}
	tools, _, complete := providers.Expose(ctx, c.Provider, v.Services)
	if !complete {
		return errors.New("cannot apply a preset while some services could not be reached; their tools are unknown")
	}
	_, err = c.updateVault(v.ID, func(v *store.Vault) error {
		// A preset changes decisions, not what the user fenced in, nor
		// whether data flow is watched.
		guards, flow := v.Policy.Guards, v.Policy.Flow
		v.Policy, v.RateLimits = p.Policy(toolDefaults(tools)), slices.Clone(p.Limits)
		v.Policy.Guards, v.Policy.Flow = guards, flow
		return nil
	})
	return err
}

// SetRateLimit limits a vault's calls of tools matching pattern ("*": all
// its calls together) to spec (60/min, 500/day…); spec "off" removes it.
func (c *Core) SetRateLimit(_ context.Context, ref, pattern, spec string) error {
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
func (c *Core) SetApprovalTimeout(_ context.Context, ref string, d time.Duration) error {
	if d < 0 || d > time.Hour || (d > 0 && d < time.Second) {
		return errors.New("the approval timeout must be between 1s and 1h")
	}
	_, err := c.updateVault(ref, func(v *store.Vault) error { v.ApprovalTimeout = d; return nil })
	return err
}

// SetExpiry renews a vault until t (zero: it never expires).
func (c *Core) SetExpiry(_ context.Context, ref string, t time.Time) error {
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
	return store.Vault{}, notFound("vault", ref)
}

// updateVault changes one vault (by id or name) under the lock, saves it and
// publishes the change, so connected agents see it at once.
func (c *Core) updateVault(ref string, change func(v *store.Vault) error) (store.Vault, error) {
	c.mu.Lock()
	v, err := c.resolve(ref)
	if err == nil {
		err = change(&v)
	}
	if err == nil {
		err = c.store.PutVault(v)
	}
	c.mu.Unlock()
	if err != nil {
		return v, err
	}
	c.changes.publish(api.Change{Topic: api.VaultChanged, Vault: v.ID})
	return v, nil
}

// SetRule sets, or removes, a vault's rule for a tool name or pattern; a
// pattern that matches none of the vault's tools is refused, naming the
// closest, unless r.Anyway or a service cannot say what it offers.
func (c *Core) SetRule(ctx context.Context, ref string, r api.RuleSpec) (warning string, err error) {
	if r.Decision == "" {
		_, err := c.updateVault(ref, func(v *store.Vault) error {
			p, found := v.Policy.Without(r.Pattern)
			if !found {
				return fmt.Errorf("vault %s has no rule for %s", v.Name, r.Pattern)
			}
			v.Policy = p
			return nil
		})
		return "", err
	}
	if !r.Anyway {
		v, err := c.resolve(ref)
		if err != nil {
			return "", err
		}
		tools, _, complete := providers.Expose(ctx, c.Provider, v.Services)
		if !slices.ContainsFunc(tools, func(t providers.Exposed) bool { return policy.Matches(r.Pattern, t.Def.Name) }) {
			if !complete {
				warning = fmt.Sprintf("%s matches none of the tools listed now, and some services could not be reached: kept", r.Pattern)
			} else {
				return "", noTool(v.Name, r.Pattern, tools)
			}
		}
	}
	_, err = c.updateVault(ref, func(v *store.Vault) error {
		p, err := v.Policy.With(r.Pattern, r.Decision)
		v.Policy = p
		return err
	})
	return warning, err
}

// noTool refuses a rule for pattern, which matches none of tools.
func noTool(vault, pattern string, tools []providers.Exposed) error {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.Def.Name
	}
	msg := fmt.Sprintf("no tool of vault %s matches %s", vault, pattern)
	if close := suggest.Closest(strings.ReplaceAll(pattern, "*", ""), names, 3); len(close) > 0 {
		msg += " (did you mean " + strings.Join(close, ", ") + "?)"
	}
	return errors.New(msg + "; keep it anyway for a tool to come")
}

// setPolicy sets a vault's decision for a tool it offers ("always allow").
func (c *Core) setPolicy(ref, pattern string, d policy.Decision) error {
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		p, err := v.Policy.With(pattern, d)
		v.Policy = p
		return err
	})
	return err
}

// SetGuard sets, replaces or (with no Allow entries) removes a vault's
// argument guard of g's kind and tools.
func (c *Core) SetGuard(_ context.Context, ref string, g policy.Guard) error {
	g = resolveGuard(g)
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		p, err := v.Policy.WithGuard(g)
		v.Policy = p
		return err
	})
	return err
}

// SetFlow turns a vault's data-flow protection on or off, or marks tools
// as sources or sinks (or removes a mark).
func (c *Core) SetFlow(_ context.Context, ref string, f api.FlowSpec) error {
	_, err := c.updateVault(ref, func(v *store.Vault) error {
		if f.Pattern == "" {
			if f.On == nil {
				return errors.New("say on or off, or mark a source or sink")
			}
			v.Policy.Flow.On = *f.On
			return nil
		}
		flow, err := v.Policy.Flow.Marked(f.Role, f.Pattern, f.Is)
		v.Policy.Flow = flow
		return err
	})
	return err
}

// ExplainTool says how a call of tool would be decided in a vault now and
// why, with the running server's own checks (its limits, sessions and
// pause), asking no service unless e.Lookup; a tool hidden until a change
// of its service is reviewed is explained by that.
func (c *Core) ExplainTool(ctx context.Context, ref, tool string, e api.ExplainSpec) (policy.Explanation, error) {
	v, err := c.resolve(ref)
	if err != nil {
		return policy.Explanation{}, err
	}
	for _, svc := range v.Services {
		for _, ch := range c.services.Pending(svc) {
			if svc+"_"+ch.Tool == tool {
				x := policy.Explanation{Decision: policy.Block, Rule: "pin"}
				x.Add("pin", policy.Block, fmt.Sprintf("the tool was %s upstream: hidden until you review it (agentvault service review %s)", ch.Kind, svc))
				return x, nil
			}
		}
	}
	return c.changes.explain(ctx, v.ID, tool, e)
}

// ExportVault returns a vault's shareable template (no token, no id).
func (c *Core) ExportVault(_ context.Context, ref string) (policy.Template, error) {
	v, err := c.resolve(ref)
	if err != nil {
		return policy.Template{}, err
	}
	guards := slices.Clone(v.Policy.Guards)
	for i := range guards {
		guards[i].Resolved = nil // where paths lead on this machine is this machine's
	}
	t := policy.Template{Kind: policy.TemplateKind, Version: policy.TemplateVersion, Name: v.Name,
		Services: v.Services, Rules: nonNil(v.Policy.Rules), RateLimits: v.RateLimits, Guards: guards, Flow: v.Policy.Flow}
	if v.ApprovalTimeout > 0 {
		t.ApprovalTimeout = v.ApprovalTimeout.String()
	}
	return t, nil
}

// ImportVault creates a vault from a template, named name (or the
// template's name when name is empty), whole or not at all.
func (c *Core) ImportVault(ctx context.Context, t policy.Template, name string) (api.NewVault, error) {
	if err := t.Validate(); err != nil {
		return api.NewVault{}, err
	}
	if name == "" {
		name = t.Name
	}
	var timeout time.Duration
	if t.ApprovalTimeout != "" {
		timeout, _ = time.ParseDuration(t.ApprovalTimeout) // validated above
	}
	p, err := checkedPolicy(t.Policy())
	if err != nil {
		return api.NewVault{}, err
	}
	return c.createVault(ctx, api.VaultSpec{Name: name, Services: t.Services, ApprovalTimeout: timeout},
		func(v *store.Vault, _ []providers.Exposed) error {
			v.Policy, v.RateLimits = p, slices.Clone(t.RateLimits)
			return nil
		}, false)
}

// ReplacePolicy replaces all of a vault's rules and guards (templates).
func (c *Core) ReplacePolicy(_ context.Context, ref string, p policy.Policy) error {
	p, err := checkedPolicy(p)
	if err != nil {
		return err
	}
	_, err = c.updateVault(ref, func(v *store.Vault) error { v.Policy = p; return nil })
	return err
}

// checkedPolicy validates every rule and guard of p, and resolves its path
// guards.
func checkedPolicy(p policy.Policy) (policy.Policy, error) {
	for _, r := range p.Rules {
		if err := policy.ValidatePattern(r.Pattern); err != nil {
			return p, err
		}
		if _, err := policy.ParseDecision(string(r.Decision)); err != nil {
			return p, err
		}
	}
	p.Guards = slices.Clone(p.Guards)
	for i, g := range p.Guards {
		if err := g.Validate(); err != nil {
			return p, err
		}
		p.Guards[i] = resolveGuard(g)
	}
	return p, nil
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

// RotateToken gives a vault a new token; the old one stops working and its
// sessions end at once.
func (c *Core) RotateToken(_ context.Context, ref string) (string, error) {
	token, digest := vaulttoken.New()
	v, err := c.updateVault(ref, func(v *store.Vault) error { v.TokenDigest = digest; return nil })
	if err != nil {
		return "", err
	}
	c.approvals.RevokeGrants(v.ID)
	if err := c.keepToken(v.ID, token); err != nil {
		// The kept token must never be the old one, which opens nothing.
		_ = c.secrets.Delete(VaultTokenKey(v.ID))
		c.log.Warn("the new vault token could not be kept in the keychain", "vault", v.ID, "err", err)
	}
	return token, nil
}

// VaultTokenKey is where a vault's token is kept in the keychain, for the
// stdio bridge and client setup; AgentVault itself checks only the digest.
func VaultTokenKey(vaultID string) string { return "vault/" + vaultID + "/token" }

// keepToken stores a new token in the keychain, for client setup and the
// bridge; when it cannot, the token is still shown once and they ask for it.
func (c *Core) keepToken(vaultID, token string) error {
	return c.secrets.Set(VaultTokenKey(vaultID), token)
}

// DeleteVault removes a vault; its token stops working and its sessions end.
// Its audit records stay.
func (c *Core) DeleteVault(_ context.Context, ref string) error {
	c.mu.Lock()
	v, err := c.resolve(ref)
	if err == nil {
		err = c.store.DeleteVault(v.ID)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	_ = c.secrets.Delete(VaultTokenKey(v.ID)) // best effort: the token no longer opens anything
	c.changes.publish(api.Change{Topic: api.VaultChanged, Vault: v.ID, Removed: true})
	c.approvals.RevokeGrants(v.ID)
	return nil
}

// SetGrantLimit sets how long a vault's session grants last at most.
func (c *Core) SetGrantLimit(_ context.Context, ref string, d time.Duration) error {
	if d < 0 || d > approvalGrantLimit || (d > 0 && d < time.Minute) {
		return fmt.Errorf("a session grant lasts between 1m and %s", approvalGrantLimit)
	}
	v, err := c.updateVault(ref, func(v *store.Vault) error { v.GrantLimit = d; return nil })
	if err == nil {
		c.approvals.RevokeGrants(v.ID) // grants given under the old limit end now
	}
	return err
}
