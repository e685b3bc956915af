// Package policy decides, for one vault and one tool, whether a call runs at once
// (Allow), waits for a person (Approve) or does not exist for the agent (Block).
//
// It is pure: no IO, no clock, no globals. Everything it needs arrives as
// arguments, so every decision is reproducible from the vault's rules and the
// tool's annotations alone. Anything it cannot understand is decided as Block.
//
// It must never do IO or read the clock: decisions are pure functions of their inputs.
package policy

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Decision is what happens to a call.
type Decision string

// The three decisions, from most to least permissive.
const (
	Allow   Decision = "allow"
	Approve Decision = "approve"
	Block   Decision = "block"
)

// ParseDecision accepts the exact lower-case names used on the command line,
// in templates and in the store.
func ParseDecision(s string) (Decision, error) {
	switch d := Decision(s); d {
	case Allow, Approve, Block:
		return d, nil
	}
	return "", fmt.Errorf("unknown decision %q (want allow, approve or block)", s)
}

// strictness orders decisions so that, at equal specificity, the stricter wins.
func (d Decision) strictness() int {
	switch d {
	case Allow:
		return 0
	case Approve:
		return 1
	default:
		return 2
	}
}

// ToolNamePattern is the rule for names exposed to agents (the common LLM
// function-name rule).
var ToolNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)

var rulePattern = regexp.MustCompile(`^[a-zA-Z0-9_*-]{1,64}$`)

// ErrInvalidPattern reports a rule pattern that is not a tool name with
// optional '*' wildcards.
var ErrInvalidPattern = errors.New("invalid tool pattern")

// ValidatePattern checks a rule pattern: tool-name characters and '*'.
func ValidatePattern(p string) error {
	if !rulePattern.MatchString(p) {
		return fmt.Errorf("%w %q: use letters, digits, '_', '-' and '*' (1-64 characters)", ErrInvalidPattern, p)
	}
	return nil
}

// Rule sets the decision for every exposed tool name its Pattern matches.
// A Pattern without '*' names exactly one tool.
type Rule struct {
	Pattern  string   `json:"pattern"`
	Decision Decision `json:"decision"`
}

// Policy is the ordered set of rules of one vault. The order carries no
// meaning: the most specific matching rule wins.
type Policy struct {
	Rules []Rule `json:"rules,omitempty"`
	// Guards narrow what allowed and approved calls may touch.
	Guards []Guard `json:"guards,omitempty"`
	// Flow is the vault's data-flow protection.
	Flow Flow `json:"flow,omitzero"`
}

// With returns a copy of p in which pattern maps to d, replacing an earlier
// rule for the same pattern.
func (p Policy) With(pattern string, d Decision) (Policy, error) {
	if err := ValidatePattern(pattern); err != nil {
		return p, err
	}
	if _, err := ParseDecision(string(d)); err != nil {
		return p, err
	}
	out := p
	out.Rules = make([]Rule, 0, len(p.Rules)+1)
	for _, r := range p.Rules {
		if r.Pattern != pattern {
			out.Rules = append(out.Rules, r)
		}
	}
	out.Rules = append(out.Rules, Rule{Pattern: pattern, Decision: d})
	return out, nil
}

// Without returns a copy of p without the rule for pattern, and whether
// there was one.
func (p Policy) Without(pattern string) (Policy, bool) {
	out := p
	out.Rules = make([]Rule, 0, len(p.Rules))
	for _, r := range p.Rules {
		if r.Pattern != pattern {
			out.Rules = append(out.Rules, r)
		}
	}
	return out, len(out.Rules) != len(p.Rules)
}

// WithGuard returns a copy of p in which g replaces the guard of the same
// kind and tools; a guard with no Allow entries removes it.
func (p Policy) WithGuard(g Guard) (Policy, error) {
	remove := len(g.Allow) == 0
	if !remove {
		if err := g.Validate(); err != nil {
			return p, err
		}
	}
	out := p
	out.Guards = nil
	for _, old := range p.Guards {
		if old.Kind != g.Kind || old.Tools != g.Tools {
			out.Guards = append(out.Guards, old)
		}
	}
	if !remove {
		out.Guards = append(out.Guards, g)
	}
	return out, nil
}

// Tool is what Decide needs to know about a tool: its exposed name, the
// behaviour hints it declares (nil means "not declared") and, for a call,
// what its arguments touch.
type Tool struct {
	Name        string
	ReadOnly    *bool
	Destructive *bool
	// OpenWorld is the tool's openWorldHint: it may reach beyond the
	// service (the internet, other people).
	OpenWorld *bool
	// Private says the tool's service holds the user's private data (mail,
	// files, chats, issues): AgentVault's built-in services do.
	Private bool
	// Resources are what this call's arguments name; nil when deciding
	// whether to list the tool at all.
	Resources []Resource
}

// Result is a decision with the rule that produced it, so that the GUI, the
// CLI and the audit log can say why.
type Result struct {
	Decision Decision `json:"decision"`
	// Rule is the matching rule's pattern, "default:<reason>" when no rule
	// matched and the tool's annotations decided, or "guard:<kind>" when an
	// argument guard refused the call.
	Rule string `json:"rule"`
	// Reason explains a guard's refusal, for the agent and the audit log.
	Reason string `json:"reason,omitempty"`
}

// Default is the decision for a tool no rule matches: read-only tools are
// allowed, explicitly destructive tools are blocked, and everything else —
// undeclared hints included — needs approval.
func Default(t Tool) Result {
	switch {
	case t.Destructive != nil && *t.Destructive:
		return Result{Decision: Block, Rule: "default:destructive"}
	case t.ReadOnly != nil && *t.ReadOnly:
		return Result{Decision: Allow, Rule: "default:read-only"}
	default:
		return Result{Decision: Approve, Rule: "default:write"}
	}
}

// Decide returns the decision for calling t under p.
//
// An exact rule beats any pattern; among patterns the one with more literal
// characters wins; at equal specificity the stricter decision wins. A tool
// whose name is not a valid exposed name is blocked, and so is a matching
// rule with an unknown decision (fail closed). A call that is not blocked is
// then checked against the guards covering its resources: one resource
// outside a guard's allowlist blocks it, with the reason.
func Decide(p Policy, t Tool) Result {
	r := decideRules(p, t)
	if r.Decision == Block || len(t.Resources) == 0 {
		return r
	}
	if kind, reason := checkGuards(p.Guards, t.Name, t.Resources); reason != "" {
		return Result{Decision: Block, Rule: "guard:" + string(kind), Reason: reason}
	}
	return r
}

func decideRules(p Policy, t Tool) Result {
	if !ToolNamePattern.MatchString(t.Name) {
		return Result{Decision: Block, Rule: "invalid-name"}
	}
	best, found := mostSpecific(p.Rules, t.Name, func(r Rule) (string, bool) { return r.Pattern, true },
		func(a, b Rule) bool { return checked(a.Decision).strictness() > checked(b.Decision).strictness() })
	if !found {
		return Default(t)
	}
	return Result{Decision: checked(best.Decision), Rule: best.Pattern}
}

// checked is d, or Block when d is no decision (fail closed).
func checked(d Decision) Decision {
	switch d {
	case Allow, Approve:
		return d
	}
	return Block
}

// mostSpecific returns the item whose pattern matches name most
// specifically: an exact name beats any pattern, and among patterns the one
// with more literal characters wins; at equal specificity, the stricter.
// pattern gives an item's pattern, or false to pass the item over.
func mostSpecific[T any](items []T, name string, pattern func(T) (string, bool), stricter func(a, b T) bool) (best T, found bool) {
	score := -1
	for _, it := range items {
		p, ok := pattern(it)
		if !ok || !Matches(p, name) {
			continue
		}
		if s := specificity(p); !found || s > score || (s == score && stricter(it, best)) {
			best, score, found = it, s, true
		}
	}
	return best, found
}

// specificity ranks a pattern: an exact name ranks above every wildcard
// pattern, and wildcard patterns rank by their number of literal characters.
func specificity(pattern string) int {
	n := strings.Count(pattern, "*")
	if n == 0 {
		return 1 << 16
	}
	return len(pattern) - n
}

// Matches reports whether name matches pattern, where '*' matches any run
// of characters (including none). It backtracks only to the last '*', so its
// time is at most the product of the lengths, whatever the number of stars.
func Matches(pattern, name string) bool {
	p, n := 0, 0
	star, resume := -1, 0 // after the last '*', where name is matched from
	for n < len(name) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, resume = p, n
			p++
		case p < len(pattern) && pattern[p] == name[n]:
			p++
			n++
		case star >= 0:
			resume++
			p, n = star+1, resume
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// ToolDecision is one tool of a vault as the user sees it: the decision the
// vault's policy makes for it, the rule behind that, and the default its
// annotations give.
type ToolDecision struct {
	Name     string   `json:"name"`
	Service  string   `json:"service"`
	Decision Decision `json:"decision"`
	Rule     string   `json:"rule"`
	Default  Decision `json:"default"`
	// Flow is what the tool is to the vault's data-flow protection.
	Flow FlowRoles `json:"flow"`
}

// Reason is one step of deciding a call, as `vault explain` shows it.
type Reason struct {
	// Kind is the step: rule, default, guard, limit, flow, pin, pause or
	// expiry.
	Kind string `json:"kind"`
	// Verdict is what this step alone makes of the call: allow, approve or
	// block.
	Verdict Decision `json:"verdict"`
	Detail  string   `json:"detail"`
}

// Explanation is the decision for a call with every reason behind it, in
// order.
type Explanation struct {
	Decision Decision `json:"decision"`
	Rule     string   `json:"rule"`
	Reasons  []Reason `json:"reasons"`
}

// Add appends a reason.
func (x *Explanation) Add(kind string, verdict Decision, detail string) {
	x.Reasons = append(x.Reasons, Reason{Kind: kind, Verdict: verdict, Detail: detail})
}
