package core

import (
	"context"
	"io"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/policy"
)

// approvalGrantLimit is the longest "approve for this session" may last.
const approvalGrantLimit = approval.DefaultGrantLimit

// AllowTool implements approval.PolicyWriter ("always allow").
func (c *Core) AllowTool(vaultID, tool string) error {
	return c.setPolicy(vaultID, tool, policy.Allow)
}

// Approvals lists the calls waiting for approval and recent answers.
func (c *Core) Approvals(context.Context) (api.Approvals, error) {
	return api.Approvals{Pending: nonNil(c.approvals.Pending()), Recent: nonNil(c.approvals.History())}, nil
}

// Approval returns a waiting or recently answered call.
func (c *Core) Approval(_ context.Context, ref string) (approval.Resolved, error) {
	r, ok := c.approvals.Find(ref)
	if !ok {
		return r, notFound("approval", ref)
	}
	return r, nil
}

// AnswerApproval answers a pending call and returns the call it settled.
func (c *Core) AnswerApproval(ctx context.Context, ref string, a approval.Answer) (approval.Resolved, error) {
	if err := c.approvals.Answer(ref, a); err != nil {
		return approval.Resolved{}, err
	}
	return c.Approval(ctx, ref)
}

// auditFilter resolves a vault reference; an unknown reference is taken as
// the id of a deleted vault, whose records remain.
func (c *Core) auditFilter(ref string, limit int) audit.Filter {
	f := audit.Filter{VaultID: ref, Limit: limit}
	if v, err := c.resolve(ref); err == nil {
		f.VaultID = v.ID
	}
	return f
}

// AuditList returns the newest limit records (0: all), oldest first,
// optionally of one vault.
func (c *Core) AuditList(_ context.Context, ref string, limit int) ([]audit.Record, error) {
	return c.audit.List(c.auditFilter(ref, limit))
}

// AuditExport writes the audit log (optionally of one vault) as jsonl or csv.
func (c *Core) AuditExport(_ context.Context, w io.Writer, format, ref string) error {
	return c.audit.Export(w, format, c.auditFilter(ref, 0))
}
