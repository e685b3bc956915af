package mcpserver

import (
	"context"

	"github.com/agentvault/agentvault/internal/approval"
)

// Approver asks a person whether a call may run.
type Approver interface {
	// Approve blocks until the call is answered, its deadline passes, or ctx
	// ends (the agent cancelled or went away). It never approves on error.
	Approve(ctx context.Context, req approval.Request) approval.Verdict
}

// GrantChecker is implemented by Approvers that can say at once whether a
// standing grant (approve for this session) covers a call: such a call
// waits for no one and does not count against the pending limit.
type GrantChecker interface {
	Granted(req approval.Request) bool
}

// DenyAll refuses every call that needs approval: the fail-closed Approver
// used until an approval channel is configured.
type DenyAll struct{}

var _ Approver = DenyAll{}

// Approve refuses.
func (DenyAll) Approve(context.Context, approval.Request) approval.Verdict {
	return approval.Verdict{Channel: "none", Outcome: "denied",
		Reason: "this tool requires approval, and no approval channel is available; AgentVault refused the call"}
}
