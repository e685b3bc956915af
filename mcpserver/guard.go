package mcpserver

import (
	"context"
	"fmt"
	"path"
	"slices"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// guard decides the call again with what it touches, when the vault has
// argument guards; ok means a guard refused it. Without lookup, a guard
// that needs the service asked (who a folder is shared with) is not
// checked, and unasked says so.
func (e *endpoint) guard(ctx context.Context, st *state, t exposedTool, name string, args any, lookup bool) (r policy.Result, ok, unasked bool) {
	if len(st.vault.Policy.Guards) == 0 {
		return policy.Result{}, false, false
	}
	p, found := e.srv.cfg.Catalog.Provider(t.service)
	g, guarded := p.(providers.Guarded)
	if !found || !guarded {
		return policy.Result{}, false, false
	}
	refuse := func(err error) (policy.Result, bool, bool) {
		return policy.Result{Decision: policy.Block, Rule: "guard", Reason: err.Error()}, true, false
	}
	resources, err := g.Resources(t.name, args)
	if err != nil {
		return refuse(err)
	}
	pol := st.vault.Policy
	pt := t.policyTool()
	pt.Resources = resources
	var written map[string]string // resolved path → as the call wrote it
	if rp, ok := p.(providers.PathResolving); ok && rp.Local() && pol.Guarding(policy.Path, name) {
		if pol, written, err = resolvePaths(rp, pol, pt.Resources); err != nil {
			return refuse(err)
		}
	}
	r = policy.Decide(pol, pt)
	if r.Decision == policy.Block && len(written) > 0 {
		r.Reason = throughLinks(pol, pt, written, r.Reason)
	}
	l, looksUp := p.(providers.LookingUp)
	if r.Decision == policy.Block || !looksUp {
		return r, r.Decision == policy.Block, false
	}
	guarding := func(k policy.Kind) bool { return st.vault.Policy.Guarding(k, name) }
	if !lookup {
		covered := slices.ContainsFunc(policy.Kinds, func(k policy.KindInfo) bool { return guarding(k.Kind) })
		return r, false, covered
	}
	// Only a call its arguments already allow makes the service be asked
	// more, with the user's credential.
	more, err := l.LookUp(ctx, t.name, args, guarding)
	if err != nil {
		return refuse(err)
	}
	if len(more) > 0 {
		pt.Resources = append(pt.Resources, more...)
		r = policy.Decide(pol, pt)
	}
	return r, r.Decision == policy.Block, false
}

// resolvePaths turns, for a server on this machine, the call's paths into
// where they lead, symbolic links followed, and the policy into the one such
// paths are checked against (path allowlists as resolved when saved): a link
// inside an allowed folder cannot lead a call outside it, and an entry
// reached through a link allows what it led to. Only clean absolute paths
// are resolved; any other is refused as written. written maps each resolved
// path that changed to the path as written.
func resolvePaths(rp providers.PathResolving, pol policy.Policy, resources []policy.Resource) (_ policy.Policy, written map[string]string, err error) {
	for i, res := range resources {
		if res.Kind != policy.Path || !path.IsAbs(res.Value) || path.Clean(res.Value) != res.Value {
			continue
		}
		real, err := rp.ResolvePath(res.Value)
		if err != nil {
			return pol, nil, fmt.Errorf("path %s cannot be resolved: %w", res.Value, err)
		}
		if real != res.Value {
			if written == nil {
				written = map[string]string{}
			}
			written[real] = res.Value
			resources[i].Value = real
		}
	}
	return pol.OnThisMachine(), written, nil
}

// throughLinks explains a refusal of a path that a symbolic link led
// outside the allowlist; reason is the refusal as Decide gives it.
func throughLinks(pol policy.Policy, pt policy.Tool, written map[string]string, reason string) string {
	for _, res := range pt.Resources {
		w, ok := written[res.Value]
		if !ok || res.Kind != policy.Path {
			continue
		}
		one := pt
		one.Resources = []policy.Resource{res}
		if d := policy.Decide(pol, one); d.Decision == policy.Block {
			return fmt.Sprintf("path %s leads to %s through a symbolic link: %s", w, res.Value, d.Reason)
		}
	}
	return reason
}
