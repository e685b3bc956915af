package cli

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/policy"
)

func vaultFlow(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		var f api.FlowSpec
		switch args := c.Args[1:]; {
		case len(args) == 1 && (args[0] == "on" || args[0] == "off"):
			on := args[0] == "on"
			f.On = &on
		case len(args) == 2 || len(args) == 3:
			role, err := policy.ParseRole(args[0])
			if err != nil {
				return c.Usage("%v", err)
			}
			f.Role, f.Pattern = role, args[1]
			mark := "yes"
			if len(args) == 3 {
				mark = args[2]
			}
			switch mark {
			case "yes", "no":
				is := mark == "yes"
				f.Is = &is
			case "off":
			default:
				return c.Usage("%q: want no (not a %s) or off (remove the mark)", mark, role)
			}
		default:
			return c.Usage("want on, off, or source|sink PATTERN [no|off]")
		}
		return withAPI(c, func(av api.API) error { return av.SetFlow(c.Ctx, c.Args[0], f) })
	}
}

func vaultExplain(fs *flag.FlagSet) func(c *Call) error {
	args := fs.String("args", "", "the call's arguments as a JSON object (without them guards are not checked)")
	session := fs.String("session", "", "a live MCP session whose data flow counts (without it both outcomes are shown)")
	lookup := fs.Bool("lookup", false, "let guards ask the service what they need (who a folder is shared with)")
	return func(c *Call) error {
		spec := api.ExplainSpec{Session: *session, Lookup: *lookup}
		if *args != "" {
			var obj map[string]any
			if err := json.Unmarshal([]byte(*args), &obj); err != nil {
				return c.Usage("--args: not a JSON object: %v", err)
			}
			spec.Args = json.RawMessage(*args)
		}
		return c.served(func(av api.API) error {
			x, err := av.ExplainTool(c.Ctx, c.Args[0], c.Args[1], spec)
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), x)
			}
			printExplanation(c.Out(), c.Args[1], x)
			return nil
		})
	}
}

// printExplanation shows a decision and its reasons, one a line.
func printExplanation(out io.Writer, tool string, x policy.Explanation) {
	fmt.Fprintf(out, "%s: %s (rule %s)\n", tool, strings.ToUpper(string(x.Decision)), x.Rule)
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	for _, r := range x.Reasons {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", r.Kind, r.Verdict, r.Detail)
	}
	tw.Flush()
}

// served runs f against the running server or, when none runs, against
// the data folder with its MCP server built in this process (not
// listening): for what only the server can answer.
func (c *Call) served(f func(av api.API) error) error {
	return withAPI(c, func(av api.API) error {
		co, direct := av.(*core.Core)
		if direct && c.env.Attach != nil {
			detach, err := c.env.Attach(c.Ctx, co)
			if err != nil {
				return err
			}
			defer detach()
		}
		err := f(av)
		if errors.Is(err, core.ErrNotServing) {
			return errors.New("this needs the MCP server, which this build of the command line cannot start; start AgentVault")
		}
		return err
	})
}

// printFlow shows a vault's data-flow protection: on or off, its sources
// and sinks, and the tools that declare nothing (counted as sinks).
func printFlow(out io.Writer, d api.VaultDetail) {
	state := "off (agentvault vault flow " + d.Name + " on)"
	if d.Flow.On {
		state = "on"
	}
	fmt.Fprintf(out, "Data flow: %s\n", state)
	var sources, sinks, undeclared []string
	for _, t := range d.Tools {
		if t.Flow.Source {
			sources = append(sources, t.Name)
		}
		if t.Flow.Sink {
			sinks = append(sinks, t.Name)
		}
		if t.Flow.Undeclared {
			undeclared = append(undeclared, t.Name)
		}
	}
	list := func(names []string) string {
		if len(names) == 0 {
			return "none"
		}
		return strings.Join(names, ", ")
	}
	fmt.Fprintf(out, "  Sources (read private data): %s\n", list(sources))
	fmt.Fprintf(out, "  Sinks (can send it out): %s\n", list(sinks))
	if len(undeclared) > 0 {
		fmt.Fprintf(out, "  Unknown, counted as sinks (no openWorldHint; mark with vault flow %s sink TOOL no): %s\n", d.Name, strings.Join(undeclared, ", "))
	}
	for _, m := range d.Flow.Marks {
		is := "is"
		if !m.Is {
			is = "is not"
		}
		fmt.Fprintf(out, "  Marked: %s %s a %s\n", m.Pattern, is, m.Role)
	}
}
