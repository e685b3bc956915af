package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/agentvault/agentvault/internal/approval"
)

func cmdApprovals(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault approvals list|show|approve|deny …"}
	}
	ctx := context.Background()
	switch args[0] {
	case "list":
		c := newCommand("approvals list", true)
		_, av, done, err := c.open(args[1:], 0, "[--json]")
		if err != nil {
			return err
		}
		defer done()
		q, err := av.Approvals(context.Background())
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, q)
		}
		if len(q.Pending) == 0 {
			fmt.Fprintln(out, "No calls are waiting for approval.")
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "CODE\tVAULT\tCLIENT\tTOOL\tARGUMENTS\tEXPIRES IN")
		for _, p := range q.Pending {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.Code, p.Vault, approval.Label(p.Client), p.Tool, approval.Label(p.Summary),
				time.Until(p.Deadline).Round(time.Second))
		}
		tw.Flush()
		fmt.Fprintln(out, "\nSee a call's complete arguments with: agentvault approvals show CODE")
		return nil
	case "show":
		c := newCommand("approvals show", true)
		pos, av, done, err := c.open(args[1:], 1, "ID|CODE [--json]")
		if err != nil {
			return err
		}
		defer done()
		r, err := av.Approval(ctx, pos[0])
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, r)
		}
		printCall(out, r)
		return nil
	case "approve", "deny":
		c := newCommand("approvals "+args[0], false)
		session := c.fs.Bool("session", false, "approve "+approval.SessionLabel)
		always := c.fs.Bool("always", false, "always allow this tool in this vault (changes the policy)")
		yes := c.fs.Bool("yes", false, "answer without asking, even in a terminal")
		reason := c.fs.String("reason", "", "why, told to the agent")
		pos, err := c.parse(args[1:], 1, "ID|CODE [--session | --always] [--yes]   (deny: [--reason TEXT])")
		if err != nil {
			return err
		}
		a := approval.Answer{Approve: args[0] == "approve", Scope: approval.Once, Reason: *reason, Channel: "cli"}
		switch {
		case !a.Approve && (*session || *always):
			return usageError{"--session and --always apply to approve only"}
		case a.Approve && *reason != "":
			return usageError{"--reason applies to deny only"}
		case *session && *always:
			return usageError{"give --session or --always, not both"}
		case *session:
			a.Scope = approval.Session
		case *always:
			a.Scope = approval.Always
		}
		av, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		call, err := av.Approval(ctx, pos[0])
		if err != nil {
			return err
		}
		// The answer is for exactly the arguments fetched here.
		a.ArgsDigest = call.ArgsDigest
		whole := false
		if f, ok := stdin.(*os.File); ok && a.Approve && !*yes && term.IsTerminal(int(f.Fd())) {
			printCall(out, call)
			fmt.Fprintf(out, "\nApprove this call (%s)? [y/N] ", a.Scope)
			line, _ := bufio.NewReader(stdin).ReadString('\n')
			if answer := strings.ToLower(strings.TrimSpace(line)); answer != "y" && answer != "yes" {
				fmt.Fprintln(out, "Not answered; the call still waits.")
				return nil
			}
			whole = true
		}
		a.WholeCall = &whole
		r, err := av.AnswerApproval(ctx, call.ID, a)
		if err != nil {
			return err
		}
		switch {
		case !a.Approve:
			fmt.Fprintf(out, "Denied %s: %s.\n", r.Code, r.Title())
		case whole:
			fmt.Fprintf(out, "Approved %s (%s).\n", r.Code, scopeText(a.Scope))
		default:
			fmt.Fprintf(out, "Approved %s (%s). The call you approved:\n\n", r.Code, scopeText(a.Scope))
			printCall(out, r)
		}
		return nil
	}
	return usageError{fmt.Sprintf("unknown approvals command %q", args[0])}
}

// printCall shows a call waiting for (or given) an answer, with its
// complete arguments.
func printCall(out io.Writer, r approval.Resolved) {
	fmt.Fprintf(out, "%s  %s\n", r.Code, r.Title())
	if r.Outcome == "" {
		fmt.Fprintf(out, "Waiting for an answer, %s left. Id %s.\n", time.Until(r.Deadline).Round(time.Second), r.ID)
	} else {
		fmt.Fprintf(out, "%s by %s at %s.\n", r.Outcome, r.Answer.Channel, r.At.Local().Format("15:04:05"))
	}
	fmt.Fprintf(out, "Arguments (all %d fields):\n%s\n", len(r.Fields()), r.PrettyArguments())
}

func scopeText(s approval.Scope) string {
	if s == approval.Session {
		return approval.SessionLabel
	}
	return string(s)
}
