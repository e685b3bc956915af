// Package apitool builds AgentVault's first-party providers (GitHub, Google,
// Slack, Jira) from a list of tools: each a definition with explicit
// annotations, the OAuth scopes it needs, what its arguments touch (for
// argument guards) and a handler.
//
// Arguments are decoded once, strictly, against the tool's input schema:
// unknown names (a differently cased "Repo" included), wrong types and
// missing required values are refused before any handler runs, and the
// guard and the handler read the very same decoded values.
//
// It must never return a credential in a result or an error.
package apitool

import (
	"context"
	"fmt"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// Effect is what a tool does to the service, the source of its default
// decision: ReadOnly → Allow, Writes → Require approval, Destroys → Block.
type Effect int

// The three effects.
const (
	ReadOnly Effect = iota
	Writes
	Destroys
)

// Def is a tool definition with every behaviour hint set explicitly.
func Def(name, title, description string, effect Effect, opts ...mcp.ToolOption) mcp.Tool {
	opts = append([]mcp.ToolOption{
		mcp.WithTitleAnnotation(title),
		mcp.WithDescription(description),
		mcp.WithReadOnlyHintAnnotation(effect == ReadOnly),
		mcp.WithDestructiveHintAnnotation(effect == Destroys),
		mcp.WithIdempotentHintAnnotation(effect == ReadOnly),
		mcp.WithOpenWorldHintAnnotation(true),
	}, opts...)
	t := mcp.NewTool(name, opts...)
	t.Title = title
	return t
}

// Tool is one first-party tool.
type Tool struct {
	// Def is the definition, named as the service names the tool.
	Def mcp.Tool
	// Scopes are the OAuth scopes of which any one lets the tool work;
	// nil: it needs none beyond signing in.
	Scopes []string
	// Resources says what a call touches, for argument guards; nil: nothing
	// a guard can limit.
	Resources func(Args) []policy.Resource
	// LookUp asks the service for resources of kind LookUpKind that the
	// arguments do not show (who a folder is shared with); it runs only
	// when a guard of that kind checks the call. nil: none.
	LookUp     func(ctx context.Context, a Args) ([]policy.Resource, error)
	LookUpKind policy.Kind
	// Run performs the call. An *Error becomes a result the agent reads;
	// any other error is an infrastructure failure.
	Run func(ctx context.Context, a Args) (*mcp.CallToolResult, error)
}

// Provider serves a fixed list of tools.
type Provider struct {
	service string
	tools   []Tool
	granted []string // nil: unknown, every tool is offered

	// refused is when the service last refused the credential (nil: it
	// has not, or a call has worked since).
	refused atomic.Pointer[time.Time]
}

var (
	_ providers.Provider    = (*Provider)(nil)
	_ providers.PrivateData = (*Provider)(nil)
	_ providers.Guarded     = (*Provider)(nil)
)

// New serves tools for service (its name for people, e.g. "GitHub").
// granted are the scopes the connection holds; nil means unknown (a token
// that does not report them), and then every tool is offered.
func New(service string, tools []Tool, granted []string) *Provider {
	return &Provider{service: service, tools: tools, granted: granted}
}

// HoldsPrivateData says yes: every first-party service holds the user's
// mail, files, chats or issues.
func (p *Provider) HoldsPrivateData() bool { return true }

// Missing is a tool the connection cannot use, with the scopes that would
// let it.
type Missing struct {
	Tool   string   `json:"tool"`
	Scopes []string `json:"scopes"`
}

// usable reports whether the connection holds one of t's scopes.
func (p *Provider) usable(t *Tool) bool {
	if p.granted == nil || len(t.Scopes) == 0 {
		return true
	}
	for _, s := range t.Scopes {
		if slices.Contains(p.granted, s) {
			return true
		}
	}
	return false
}

// Unavailable lists the tools the granted scopes do not allow.
func (p *Provider) Unavailable() []Missing {
	var out []Missing
	for i := range p.tools {
		if t := &p.tools[i]; !p.usable(t) {
			out = append(out, Missing{Tool: t.Def.Name, Scopes: t.Scopes})
		}
	}
	return out
}

// Tools implements providers.Provider: the tools the connection can use.
func (p *Provider) Tools(context.Context) ([]mcp.Tool, error) {
	out := make([]mcp.Tool, 0, len(p.tools))
	for i := range p.tools {
		if t := &p.tools[i]; p.usable(t) {
			out = append(out, t.Def)
		}
	}
	return out, nil
}

func (p *Provider) find(name string) (*Tool, error) {
	for i := range p.tools {
		if t := &p.tools[i]; t.Def.Name == name {
			if !p.usable(t) {
				return nil, fmt.Errorf("the %s connection lacks the scope for %s (one of %v): reconnect %[1]s with it", p.service, name, t.Scopes)
			}
			return t, nil
		}
	}
	return nil, fmt.Errorf("%s has no tool %q", p.service, name)
}

// Resources implements providers.Guarded.
func (p *Provider) Resources(tool string, args any) ([]policy.Resource, error) {
	t, err := p.find(tool)
	if err != nil {
		return nil, err
	}
	a, err := Parse(t.Def.InputSchema, args)
	if err != nil || t.Resources == nil {
		return nil, err
	}
	return t.Resources(a), nil
}

var _ providers.LookingUp = (*Provider)(nil)

// LookUp implements providers.LookingUp.
func (p *Provider) LookUp(ctx context.Context, tool string, args any, guarded func(policy.Kind) bool) ([]policy.Resource, error) {
	t, err := p.find(tool)
	if err != nil || t.LookUp == nil || !guarded(t.LookUpKind) {
		return nil, err
	}
	a, err := Parse(t.Def.InputSchema, args)
	if err != nil {
		return nil, err
	}
	return t.LookUp(ctx, a)
}

// Call implements providers.Provider.
func (p *Provider) Call(ctx context.Context, tool string, args any, _ providers.ProgressFunc) (*mcp.CallToolResult, error) {
	t, err := p.find(tool)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	a, err := Parse(t.Def.InputSchema, args)
	if err != nil {
		return mcp.NewToolResultError(err.Error()), nil
	}
	res, err := t.Run(ctx, a)
	if err != nil {
		return p.failure(err)
	}
	p.refused.Store(nil)
	return res, nil
}

// Refused reports when the service last refused the credential, if no call
// has worked since: the user must reconnect it.
func (p *Provider) Refused() (time.Time, bool) {
	if t := p.refused.Load(); t != nil {
		return *t, true
	}
	return time.Time{}, false
}

// Close implements providers.Provider; there is nothing to stop.
func (p *Provider) Close() error { return nil }
