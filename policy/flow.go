package policy

import (
	"fmt"
	"slices"
)

// Flow is a vault's data-flow protection: against the prompt injection
// that makes an agent read private data and send it out through a tool that
// is harmless on its own. Once a session has called a source (a tool that
// reads private data), every sink (a tool that can carry data out) needs
// approval for the rest of that session, even where the vault allows it.
//
// What is a source or a sink follows from the tool (FlowRoles), unless a
// mark says otherwise.
type Flow struct {
	On    bool       `json:"on,omitempty"`
	Marks []FlowMark `json:"marks,omitempty"`
}

// IsZero reports whether f is off and marks nothing.
func (f Flow) IsZero() bool { return !f.On && len(f.Marks) == 0 }

// Role is what a tool is to data-flow protection.
type Role string

// The two roles.
const (
	Source Role = "source"
	Sink   Role = "sink"
)

// ParseRole accepts "source" and "sink".
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case Source, Sink:
		return r, nil
	}
	return "", fmt.Errorf("unknown role %q (want source or sink)", s)
}

// FlowMark says the tools Pattern matches are (Is) or are not a source or a
// sink, whatever the default says. The most specific mark wins, as rules do.
type FlowMark struct {
	Pattern string `json:"pattern"`
	Role    Role   `json:"role"`
	Is      bool   `json:"is"`
}

// Marked returns a copy of f in which pattern is marked as role (is) or,
// with is nil, in which its mark for role is removed.
func (f Flow) Marked(role Role, pattern string, is *bool) (Flow, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return f, err
	}
	if err := ValidatePattern(pattern); err != nil {
		return f, err
	}
	out := f
	out.Marks = slices.DeleteFunc(slices.Clone(f.Marks), func(m FlowMark) bool { return m.Role == role && m.Pattern == pattern })
	if is != nil {
		out.Marks = append(out.Marks, FlowMark{Pattern: pattern, Role: role, Is: *is})
	}
	return out, nil
}

// FlowRoles is what a tool is to data-flow protection, and why.
type FlowRoles struct {
	Source bool `json:"source"`
	Sink   bool `json:"sink"`
	// Undeclared: the tool declares no openWorldHint, which MCP reads as
	// "may reach outside", so it counts as a sink until the user marks it.
	Undeclared bool `json:"undeclared,omitempty"`
	// SourceWhy and SinkWhy say where each role comes from.
	SourceWhy string `json:"source_why,omitempty"`
	SinkWhy   string `json:"sink_why,omitempty"`
}

// Roles says whether t is a source and a sink. By default the read-only
// tools of services holding private data (the built-in ones) are sources;
// their other tools (send, post, create, share, comment…) are sinks, and
// so is any other tool declaring openWorldHint true or not declaring it
// (MCP's default is true). A mark overrides either default.
func (f Flow) Roles(t Tool) FlowRoles {
	var r FlowRoles
	readOnly := t.ReadOnly != nil && *t.ReadOnly
	if t.Private && readOnly {
		r.Source, r.SourceWhy = true, "reads private data"
	}
	switch {
	case t.Private:
		if !readOnly {
			r.Sink, r.SinkWhy = true, "can send private data out"
		}
	case t.OpenWorld == nil:
		r.Sink, r.Undeclared, r.SinkWhy = true, true, "declares no openWorldHint (counted as reaching outside)"
	case *t.OpenWorld:
		r.Sink, r.SinkWhy = true, "declares openWorldHint"
	}
	if m, ok := f.mark(Source, t.Name); ok {
		r.Source, r.SourceWhy = m.Is, "marked by "+m.Pattern
	}
	if m, ok := f.mark(Sink, t.Name); ok {
		r.Sink, r.Undeclared, r.SinkWhy = m.Is, false, "marked by "+m.Pattern
	}
	return r
}

// mark returns the most specific mark of role matching name.
// At equal specificity "is" wins: the stricter reading.
func (f Flow) mark(role Role, name string) (FlowMark, bool) {
	return mostSpecific(f.Marks, name, func(m FlowMark) (string, bool) { return m.Pattern, m.Role == role },
		func(a, b FlowMark) bool { return a.Is && !b.Is })
}

// AfterSource is r, the decision for calling t, in a session that has
// called the source tool source ("": none yet): with data-flow protection
// on, a sink that would run or ask now asks, under the rule
// "flow:<source>". Block stays Block.
func (p Policy) AfterSource(r Result, t Tool, source string) Result {
	if !p.Flow.On || source == "" || r.Decision == Block || !p.Flow.Roles(t).Sink {
		return r
	}
	return Result{Decision: Approve, Rule: FlowRulePrefix + source}
}

// FlowRulePrefix starts the rule of a decision made by data-flow protection.
const FlowRulePrefix = "flow:"
