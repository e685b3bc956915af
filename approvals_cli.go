package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
)

func cmdApprovals(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault approvals list|approve|deny …"}
	}
	switch args[0] {
	case "list":
		c := newCommand("approvals list", true)
		_, api, done, err := c.open(args[1:], 0, "[--json]")
		if err != nil {
			return err
		}
		defer done()
		q, err := api.Approvals()
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
		fmt.Fprintln(tw, "ID\tCODE\tVAULT\tCLIENT\tTOOL\tARGUMENTS\tEXPIRES IN")
		for _, p := range q.Pending {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, p.Code, p.Vault, p.Client, p.Tool, p.Summary,
				time.Until(p.Deadline).Round(time.Second))
		}
		return tw.Flush()
	case "approve", "deny":
		c := newCommand("approvals "+args[0], false)
		session := c.fs.Bool("session", false, "approve this tool for the rest of the agent's session")
		always := c.fs.Bool("always", false, "always allow this tool in this vault (changes the policy)")
		reason := c.fs.String("reason", "", "why, told to the agent")
		pos, err := c.parse(args[1:], 1, "ID")
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
		api, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		if err := api.AnswerApproval(pos[0], a); err != nil {
			return err
		}
		if a.Approve {
			fmt.Fprintf(out, "Approved %s (%s).\n", pos[0], a.Scope)
		} else {
			fmt.Fprintf(out, "Denied %s.\n", pos[0])
		}
		return nil
	}
	return usageError{fmt.Sprintf("unknown approvals command %q", args[0])}
}
