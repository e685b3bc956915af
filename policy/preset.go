package policy

import (
	"fmt"
	"strings"
)

// Preset is a one-step policy for a vault, built from each tool's default
// decision (its annotations): what a person means by "read-only" without
// naming every tool.
type Preset struct {
	Name        string
	Description string
	decide      func(def Decision) Decision
	// Limits come with the preset (a public bot is rate limited).
	Limits []RateLimit
	// Flow turns data-flow protection on: presets that let an agent both
	// read private data and change things have it.
	Flow bool
}

// Presets are the built-in presets.
var Presets = []Preset{
	{Name: "read-only", Description: "tools that only read run; everything else is blocked",
		decide: func(d Decision) Decision { return map[Decision]Decision{Allow: Allow}[d] }},
	{Name: "ask-for-writes", Description: "reading runs, changes wait for your approval, destructive tools are blocked",
		decide: func(d Decision) Decision { return d }, Flow: true},
	{Name: "developer", Description: "reading and changes run, destructive tools wait for your approval",
		decide: func(d Decision) Decision {
			return map[Decision]Decision{Allow: Allow, Approve: Allow, Block: Approve}[d]
		}, Flow: true},
	{Name: "public-bot", Description: "read-only, and at most 60 calls a minute and 1,000 a day",
		decide: func(d Decision) Decision { return map[Decision]Decision{Allow: Allow}[d] },
		Limits: []RateLimit{mustLimit("*", "60/min"), mustLimit("*", "1000/day")}},
	{Name: "full-access", Description: "every tool runs without asking",
		decide: func(Decision) Decision { return Allow }},
}

func mustLimit(pattern, spec string) RateLimit {
	l, err := ParseRateLimit(pattern, spec)
	if err != nil {
		panic(err)
	}
	return l
}

// FindPreset returns the preset with that name.
func FindPreset(name string) (Preset, error) {
	var names []string
	for _, p := range Presets {
		if p.Name == name {
			return p, nil
		}
		names = append(names, p.Name)
	}
	return Preset{}, fmt.Errorf("unknown preset %q (known: %s)", name, strings.Join(names, ", "))
}

// ToolDefault is a tool's name and the decision its annotations give.
type ToolDefault struct {
	Name    string
	Default Decision
}

// Policy spells the preset out as one exact rule per tool, so the policy
// shows exactly what was chosen; an unknown default counts as Block.
func (p Preset) Policy(tools []ToolDefault) Policy {
	out := Policy{Flow: Flow{On: p.Flow}}
	for _, t := range tools {
		d := p.decide(t.Default)
		if d == "" {
			d = Block
		}
		out.Rules = append(out.Rules, Rule{Pattern: t.Name, Decision: d})
	}
	return out
}
