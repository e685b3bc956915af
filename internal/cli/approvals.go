package cli

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/agentvault/agentvault/internal/api"
)

func approvalCommands() []Command {
	return []Command{
		{Name: "approvals list", JSON: true, Run: approvalsList, Summary: "the calls waiting for your approval"},
		{Name: "approvals show", NArgs: 1, JSON: true, Args: "ID|CODE", Run: approvalsShow, Summary: "one call, with its complete arguments"},
		{Name: "approvals approve", NArgs: 1, Args: "ID|CODE [--session | --always] [--yes]", Run: approvalsAnswer(true),
			Summary: "approve a call (--session: " + api.SessionLabel + ")"},
		{Name: "approvals deny", NArgs: 1, Args: "ID|CODE [--reason TEXT]", Run: approvalsAnswer(false), Summary: "deny a call, with a reason for the agent"},
	}
}

func approvalsList(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withServer(c, func(av api.API) error {
			q, err := av.Approvals(c.Ctx)
			if err != nil {
				return err
			}
			out := c.Out()
			if c.JSON {
				return printJSON(out, q)
			}
			if len(q.Pending) == 0 {
				fmt.Fprintln(out, "No calls are waiting for approval.")
				return nil
			}
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "CODE\tVAULT\tCLIENT\tTOOL\tARGUMENTS\tEXPIRES IN")
			for _, p := range q.Pending {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Code, p.Vault, api.Label(p.Client), p.Tool, api.Label(p.Summary),
					time.Until(p.Deadline).Round(time.Second))
			}
			tw.Flush()
			fmt.Fprintln(out, "\nSee a call's complete arguments with: agentvault approvals show CODE")
			return nil
		})
	}
}

func approvalsShow(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withServer(c, func(av api.API) error {
			r, err := av.Approval(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), r)
			}
			printCall(c.Out(), r)
			return nil
		})
	}
}

// approvalsAnswer approves or denies a call. In a terminal, approve shows
// the whole call and asks first (the audit then says the whole call was
// shown); it always prints the call it approved.
func approvalsAnswer(approve bool) func(fs *flag.FlagSet) func(c *Call) error {
	return func(fs *flag.FlagSet) func(c *Call) error {
		var session, always, yes *bool
		var reason *string
		if approve {
			session = fs.Bool("session", false, "approve "+api.SessionLabel)
			always = fs.Bool("always", false, "always allow this tool in this vault (changes the policy)")
			yes = fs.Bool("yes", false, "answer without asking, even in a terminal")
		} else {
			reason = fs.String("reason", "", "why, told to the agent")
		}
		return func(c *Call) error {
			a := api.Answer{Approve: approve, Scope: api.Once, Channel: "cli"}
			if approve {
				switch {
				case *session && *always:
					return c.Usage("give --session or --always, not both")
				case *session:
					a.Scope = api.Session
				case *always:
					a.Scope = api.Always
				}
			} else {
				a.Reason = *reason
			}
			return withServer(c, func(av api.API) error {
				call, err := av.Approval(c.Ctx, c.Args[0])
				if err != nil {
					return err
				}
				// The answer is for exactly the arguments fetched here.
				a.ArgsDigest = call.ArgsDigest
				out := c.Out()
				whole := false
				if approve && !*yes && c.Interactive() {
					printCall(out, call)
					if !c.Confirm(fmt.Sprintf("\nApprove this call (%s)?", scopeText(a.Scope))) {
						fmt.Fprintln(out, "Not answered; the call still waits.")
						return nil
					}
					whole = true
				}
				a.WholeCall = &whole
				r, err := av.AnswerApproval(c.Ctx, call.ID, a)
				if err != nil {
					return err
				}
				switch {
				case !approve:
					fmt.Fprintf(out, "Denied %s: %s.\n", r.Code, r.Title())
				case whole:
					fmt.Fprintf(out, "Approved %s (%s).\n", r.Code, scopeText(a.Scope))
				default:
					fmt.Fprintf(out, "Approved %s (%s). The call you approved:\n\n", r.Code, scopeText(a.Scope))
					printCall(out, r)
				}
				return nil
			})
		}
	}
}

// printCall shows a call waiting for (or given) an answer, with its
// complete arguments.
func printCall(out io.Writer, r api.Resolved) {
	fmt.Fprintf(out, "%s  %s\n", r.Code, r.Title())
	if r.Outcome == "" {
		fmt.Fprintf(out, "Waiting for an answer, %s left. Id %s.\n", time.Until(r.Deadline).Round(time.Second), r.ID)
	} else {
		fmt.Fprintf(out, "%s by %s at %s.\n", r.Outcome, r.Answer.Channel, r.At.Local().Format("15:04:05"))
	}
	for _, l := range r.About() {
		fmt.Fprintln(out, l)
	}
	fmt.Fprintf(out, "Arguments (all %d fields):\n%s\n", len(r.Fields()), r.PrettyArguments())
}

func scopeText(s api.Scope) string {
	if s == api.Session {
		return api.SessionLabel
	}
	return string(s)
}
