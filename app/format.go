package app

import (
	"fmt"
	"time"

	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/policy"
)

// decisionLabels are the words the GUI uses for decisions.
var decisionLabels = map[policy.Decision]string{
	policy.Allow:   "Allow",
	policy.Approve: "Require approval",
	policy.Block:   "Block",
}

var labelDecisions = map[string]policy.Decision{
	"Allow": policy.Allow, "Require approval": policy.Approve, "Block": policy.Block,
}

// decisionOptions lists the decision labels from most to least permissive.
var decisionOptions = []string{"Allow", "Require approval", "Block"}

// statusLine is the tray's first line.
func statusLine(s core.Status) string {
	if s.Paused {
		return "Paused: every tool call is refused"
	}
	return fmt.Sprintf("%s · %s · %s", plural(s.Vaults, "vault"), plural(s.Sessions, "connected agent"), plural(s.Pending, "pending approval"))
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// remaining renders the time left until deadline, in whole seconds.
func remaining(now, deadline time.Time) string {
	d := deadline.Sub(now).Round(time.Second)
	if d <= 0 {
		return "expired"
	}
	return d.String() + " left"
}

// Preset is a one-click policy.
type Preset struct {
	Name string
	// Decide maps a tool's annotation default to the preset's decision.
	Decide func(def policy.Decision) policy.Decision
}

// Presets offered in the policy matrix and the wizard.
var Presets = []Preset{
	{"Read-only", func(def policy.Decision) policy.Decision {
		if def == policy.Allow {
			return policy.Allow
		}
		return policy.Block
	}},
	{"Ask for writes", func(def policy.Decision) policy.Decision { return def }},
	{"Full access", func(policy.Decision) policy.Decision { return policy.Allow }},
}

// presetPolicy spells a preset out as one exact rule per tool, so the policy
// view shows exactly what was chosen.
func presetPolicy(p Preset, tools []toolDefault) policy.Policy {
	var out policy.Policy
	for _, t := range tools {
		out.Rules = append(out.Rules, policy.Rule{Pattern: t.name, Decision: p.Decide(t.def)})
	}
	return out
}

type toolDefault struct {
	name string
	def  policy.Decision
}
