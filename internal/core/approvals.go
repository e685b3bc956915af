package core

import (
	"context"
	"fmt"
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

// auditFilter selects what q asks for: a vault that exists by its id, one
// that was deleted by the id or name its records carry; a vault that never
// existed is ErrNotFound.
func (c *Core) auditFilter(q api.AuditQuery) (audit.Filter, error) {
	f := audit.Filter{Limit: q.Limit, Phases: q.Phases}
	if q.Vault == "" {
		return f, nil
	}
	if v, err := c.resolve(q.Vault); err == nil {
		f.VaultID = v.ID
		return f, nil
	}
	f.Vault = q.Vault
	if some, err := c.audit.List(audit.Filter{Vault: q.Vault, Limit: 1, Phases: true}); err != nil || len(some) == 0 {
		return f, fmt.Errorf("vault %q, now or in the audit log: %w", q.Vault, ErrNotFound)
	}
	return f, nil
}

// AuditList returns the newest rows q selects, oldest first.
func (c *Core) AuditList(_ context.Context, q api.AuditQuery) ([]audit.Record, error) {
	f, err := c.auditFilter(q)
	if err != nil {
		return nil, err
	}
	return c.audit.List(f)
}

// AuditExport writes the rows q selects as jsonl or csv.
func (c *Core) AuditExport(_ context.Context, w io.Writer, format string, q api.AuditQuery) error {
	f, err := c.auditFilter(q)
	if err != nil {
		return err
	}
	f.Limit = 0
	return c.audit.Export(w, format, f)
}
