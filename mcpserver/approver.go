package mcpserver

import (
	"context"
	"time"
)

// ApprovalRequest describes one call waiting for a person.
type ApprovalRequest struct {
	VaultID string `json:"vault_id"`
	Vault   string `json:"vault"`
	Client  string `json:"client"`
	// Session is the MCP session id; empty under the stateless protocol.
	Session    string `json:"session,omitempty"`
	Tool       string `json:"tool"`
	ArgsDigest string `json:"args_digest"`
	// Summary is a redacted, human-readable rendering of the arguments.
	Summary string `json:"summary"`
	// Timeout is how long to wait for an answer; 0: the approver's default.
	Timeout time.Duration `json:"-"`
}

// Verdict is the answer to an ApprovalRequest.
type Verdict struct {
	Approved bool
	// Channel says who answered: "notification", "queue", "cli", "ciba", "timeout", …
	Channel string
	// Outcome is the audit outcome of a refusal: denied, timeout or cancelled.
	Outcome string
	// Reason is told to the agent when the call is refused.
	Reason string
	// Approver identifies who answered, where the channel knows (CIBA: the Auth0 user id).
	Approver string
}

// Approver asks a person whether a call may run.
type Approver interface {
	// Approve blocks until the call is answered, its deadline passes, or ctx
	// ends (the agent cancelled or went away). It never approves on error.
	Approve(ctx context.Context, req ApprovalRequest) Verdict
}

// DenyAll refuses every call that needs approval: the fail-closed Approver
// used until an approval channel is configured.
type DenyAll struct{}

var _ Approver = DenyAll{}

// Approve refuses.
func (DenyAll) Approve(context.Context, ApprovalRequest) Verdict {
	return Verdict{Channel: "none", Outcome: "denied",
		Reason: "this tool requires approval, and no approval channel is available; AgentVault refused the call"}
}
