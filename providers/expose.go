package providers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// Exposed is a service's tool under the name vaults show it by,
// "<service>_<tool>".
type Exposed struct {
	// Service is the service's name; Name the service's own name for the
	// tool.
	Service, Name string
	// Def is the tool's definition, named as exposed.
	Def mcp.Tool
	// Private says the service holds the user's private data (PrivateData).
	Private bool
}

// Policy is the tool as policy decides on it.
func (t Exposed) Policy() policy.Tool {
	a := t.Def.Annotations
	return policy.Tool{Name: t.Def.Name, ReadOnly: a.ReadOnlyHint, Destructive: a.DestructiveHint, OpenWorld: a.OpenWorldHint, Private: t.Private}
}

// Expose lists the tools of services, in order, named as vaults show them,
// asking each provider lookup finds. A tool whose exposed name is not a
// usable tool name, that an earlier tool already has, or whose annotations
// are invalid is left out; a service that is not configured or cannot list
// its tools leaves its tools out and complete false. Each is in problems.
func Expose(ctx context.Context, lookup func(service string) (Provider, bool), services []string) (tools []Exposed, problems []error, complete bool) {
	complete = true
	seen := map[string]bool{}
	for _, svc := range services {
		p, ok := lookup(svc)
		if !ok {
			problems = append(problems, fmt.Errorf("service %s is not configured", svc))
			continue
		}
		list, err := p.Tools(ctx)
		if err != nil {
			problems, complete = append(problems, fmt.Errorf("listing the tools of %s: %w", svc, err)), false
			continue
		}
		for _, t := range list {
			name := svc + "_" + t.Name
			def := t
			def.Name = name
			switch {
			case !policy.ToolNamePattern.MatchString(name):
				problems = append(problems, fmt.Errorf("tool %q of %s: its name is unusable", t.Name, svc))
			case seen[name]:
				problems = append(problems, fmt.Errorf("tool %s of %s: another tool has that name", name, svc))
			default:
				if err := mcp.ValidateParamHeaderAnnotations(&def); err != nil {
					problems = append(problems, fmt.Errorf("tool %s of %s: invalid annotations: %w", t.Name, svc, err))
					continue
				}
				seen[name] = true
				tools = append(tools, Exposed{Service: svc, Name: t.Name, Def: def, Private: holdsPrivateData(p)})
			}
		}
	}
	slices.SortFunc(tools, func(a, b Exposed) int { return strings.Compare(a.Def.Name, b.Def.Name) })
	return tools, problems, complete
}

// Decisions are the tools as a vault's policy p decides them, for people.
func Decisions(p policy.Policy, tools []Exposed) []policy.ToolDecision {
	out := make([]policy.ToolDecision, len(tools))
	for i, t := range tools {
		pt := t.Policy()
		d := policy.Decide(p, pt)
		out[i] = policy.ToolDecision{Name: pt.Name, Service: t.Service, Decision: d.Decision, Rule: d.Rule,
			Default: policy.Default(pt).Decision, Flow: p.Flow.Roles(pt)}
	}
	return out
}

func holdsPrivateData(p Provider) bool {
	pd, ok := p.(PrivateData)
	return ok && pd.HoldsPrivateData()
}
