package api

import (
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
)

// The approval values user interfaces show and answer, as the approval
// broker defines them.
type (
	Pending  = approval.Pending
	Resolved = approval.Resolved
	Answer   = approval.Answer
	Scope    = approval.Scope
)

// How far an approval reaches.
const (
	Once    = approval.Once
	Session = approval.Session
	Always  = approval.Always
)

// SessionLabel is how every channel names a Session answer.
const SessionLabel = approval.SessionLabel

// DefaultApprovalTimeout is how long a call waits for approval unless its
// vault says otherwise.
const DefaultApprovalTimeout = approval.DefaultTimeout

// AuditRecord is one line of the audit log, as the audit log defines it.
type AuditRecord = audit.Record

// The outcomes an audit record can have.
const (
	Executed    = audit.Executed
	Approved    = audit.Approved
	Denied      = audit.Denied
	Blocked     = audit.Blocked
	Timeout     = audit.Timeout
	Cancelled   = audit.Cancelled
	RateLimited = audit.RateLimited
	Failed      = audit.Failed
	Running     = audit.Running
	Interrupted = audit.Interrupted
)

// Audit export formats.
const (
	JSONL = audit.JSONL
	CSV   = audit.CSV
)

// Request is a call waiting for a person, as the broker defines it.
type Request = approval.Request

// Intent is the phase of a record written before a call runs.
const Intent = audit.Intent

// Label is agent-chosen text as a prompt may show it (approval.Label).
func Label(s string) string { return approval.Label(s) }
