package services

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

// pinned wraps an upstream provider so that only tools whose full
// definition (name, title, description, schemas, annotations) is the one
// the user accepted reach any vault: the defence against an upstream that
// changes a tool after it was trusted (a "rug pull").
type pinned struct {
	*upstream.Provider // its Resources implement providers.Guarded
	reg                *Registry
	service            string

	mu      sync.Mutex
	allowed map[string]bool
	changes []api.ToolChange
}

var (
	_ providers.Provider  = (*pinned)(nil)
	_ providers.RawCaller = (*pinned)(nil)
	_ providers.Guarded   = (*pinned)(nil)
	_ providers.Reviewed  = (*pinned)(nil)
)

// ReviewedAt implements providers.Reviewed from the store.
func (p *pinned) ReviewedAt(tool string) (time.Time, bool) {
	svc, err := p.reg.cfg.Store.Service(p.service)
	at, ok := svc.Reviewed[tool]
	return at, err == nil && ok
}

// definition is a tool's canonical JSON (mcp.Tool encodes through a map, so
// keys are sorted).
func definition(t mcp.Tool) json.RawMessage {
	raw, _ := json.Marshal(t)
	return raw
}

// Tools returns the upstream's tools that match their pins. The first
// successful listing of a service pins it.
func (p *pinned) Tools(ctx context.Context) ([]mcp.Tool, error) {
	tools, err := p.Provider.Tools(ctx)
	if err != nil {
		return nil, err
	}
	pins, err := p.reg.pins(p.service, tools)
	if err != nil {
		return nil, err
	}
	var out []mcp.Tool
	var changes []api.ToolChange
	allowed := map[string]bool{}
	for _, t := range tools {
		def := definition(t)
		switch old, ok := pins[t.Name]; {
		case !ok:
			changes = append(changes, api.ToolChange{Tool: t.Name, Kind: "new", Offered: def})
		case !bytes.Equal(old, def):
			changes = append(changes, api.ToolChange{Tool: t.Name, Kind: "changed", Accepted: old, Offered: def})
		default:
			allowed[t.Name] = true
			out = append(out, t)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(pins)) {
		if !slices.ContainsFunc(tools, func(t mcp.Tool) bool { return t.Name == name }) {
			changes = append(changes, api.ToolChange{Tool: name, Kind: "removed", Accepted: pins[name]})
		}
	}
	p.mu.Lock()
	fresh := !slices.EqualFunc(changes, p.changes, func(a, b api.ToolChange) bool { return a.Tool == b.Tool && a.Kind == b.Kind })
	p.allowed, p.changes = allowed, changes
	p.mu.Unlock()
	if fresh {
		for _, c := range changes {
			if c.Kind == "removed" {
				continue
			}
			p.reg.cfg.Logger.Warn("an upstream tool changed; it is hidden until reviewed (agentvault service review)", "service", p.service, "tool", c.Tool, "kind", c.Kind)
			p.reg.cfg.Audit.Record(audit.Record{Phase: "review", Service: p.service, Tool: p.service + "_" + c.Tool,
				Outcome: audit.Blocked, Channel: "pinning", Error: "tool " + c.Kind + " upstream: hidden until reviewed"})
		}
	}
	return out, nil
}

// Call refuses tools that were not accepted as they are now.
func (p *pinned) Call(ctx context.Context, tool string, args any, progress providers.ProgressFunc) (*mcp.CallToolResult, error) {
	if err := p.accepted(tool); err != nil {
		return nil, err
	}
	return p.Provider.Call(ctx, tool, args, progress)
}

// CallRaw implements providers.RawCaller like Call.
func (p *pinned) CallRaw(ctx context.Context, tool string, args json.RawMessage, progress providers.ProgressFunc) (json.RawMessage, error) {
	if err := p.accepted(tool); err != nil {
		return nil, err
	}
	return p.Provider.CallRaw(ctx, tool, args, progress)
}

// accepted refuses tools that were not accepted as they are now.
func (p *pinned) accepted(tool string) error {
	p.mu.Lock()
	ok := p.allowed[tool]
	p.mu.Unlock()
	if !ok {
		return fmt.Errorf("tool %s of %s changed upstream and awaits review", tool, p.service)
	}
	return nil
}

func (p *pinned) pending() []api.ToolChange {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.changes)
}

// pins returns the service's accepted definitions, pinning tools on the
// service's first listing (trust on first use).
func (r *Registry) pins(service string, tools []mcp.Tool) (map[string]json.RawMessage, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	svc, err := r.cfg.Store.Service(service)
	if err != nil {
		return nil, err
	}
	if svc.Pins != nil {
		return svc.Pins, nil
	}
	svc.Pins = pinsOf(tools)
	return svc.Pins, r.cfg.Store.PutService(svc)
}

// pinsOf accepts tools as they are defined now.
func pinsOf(tools []mcp.Tool) map[string]json.RawMessage {
	pins := make(map[string]json.RawMessage, len(tools))
	for _, t := range tools {
		pins[t.Name] = definition(t)
	}
	return pins
}

// Pending lists the changes of a service's tools waiting for review, as
// last seen: it asks no one.
func (r *Registry) Pending(name string) []api.ToolChange {
	if pp, ok := r.Provider(name); ok {
		if pp, ok := pp.(*pinned); ok {
			return pp.pending()
		}
	}
	return nil
}

// Review lists how a service's tools differ from the accepted ones.
func (r *Registry) Review(ctx context.Context, name string) ([]api.ToolChange, error) {
	p, ok := r.Provider(name)
	if !ok {
		return nil, fmt.Errorf("service %q: %w", name, ErrNotFound)
	}
	pp, ok := p.(*pinned)
	if !ok {
		return []api.ToolChange{}, nil
	}
	if _, err := pp.Tools(ctx); err != nil {
		return nil, err
	}
	out := pp.pending()
	if out == nil {
		out = []api.ToolChange{}
	}
	return out, nil
}

// Accept accepts a service's tools as the upstream offers them now.
func (r *Registry) Accept(ctx context.Context, name string) error {
	p, ok := r.Provider(name)
	if !ok {
		return fmt.Errorf("service %q: %w", name, ErrNotFound)
	}
	pp, ok := p.(*pinned)
	if !ok {
		return fmt.Errorf("service %q: its tools are AgentVault's own and need no review", name)
	}
	tools, err := pp.Provider.Tools(ctx)
	if err != nil {
		return err
	}
	r.mu.Lock()
	svc, err := r.cfg.Store.Service(name)
	if err == nil {
		old := svc.Pins
		svc.Pins = map[string]json.RawMessage{}
		for _, t := range tools {
			svc.Pins[t.Name] = definition(t)
			if !bytes.Equal(old[t.Name], svc.Pins[t.Name]) {
				if svc.Reviewed == nil {
					svc.Reviewed = map[string]time.Time{}
				}
				svc.Reviewed[t.Name] = time.Now().UTC()
			}
		}
		err = r.cfg.Store.PutService(svc)
	}
	r.mu.Unlock()
	if err != nil {
		return err
	}
	r.cfg.Audit.Record(audit.Record{Phase: "review", Service: name, Outcome: audit.Approved, Channel: "cli",
		Error: fmt.Sprintf("accepted %d tool definitions", len(tools))})
	r.cfg.Changed(name)
	return nil
}
