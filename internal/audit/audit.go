// Package audit is AgentVault's append-only record of every tool call.
//
// A call gets an intent record, durably committed before any provider is
// called (Record: it returns only after the record is on disk; if it cannot be
// written it returns an error and the caller must refuse the call — fail
// closed), and an outcome record, written before the result goes back to the
// agent (RecordWritten: the record is in the journal file, so a crash of
// AgentVault cannot lose it, and on disk with the next sync, at most SyncDelay
// later, so only a power cut in that window can). A call so pays for one sync.
//
// Durable records are group-committed: whatever records are queued go into
// the journal in one write and one fdatasync, so concurrent calls share one
// sync and a lone call pays for exactly one, with no fixed delay and no
// hand-off to another goroutine. Written records go into the journal at once;
// they never wait for a sync. The journal moves records into the store in the
// background.
//
// Arguments are never stored: only an HMAC-SHA256 digest under a key that
// stays in the store, and a short summary with secret-looking values redacted.
package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"sync"
	"time"
)

// Phase tells an intent record from an outcome record.
type Phase string

const (
	// Intent is written before the provider is called.
	Intent Phase = "intent"
	// Outcome is written when the call has ended, however it ended.
	Outcome Phase = "outcome"
)

// Outcomes of a call.
const (
	Executed  = "executed"
	Approved  = "approved"
	Denied    = "denied"
	Blocked   = "blocked"
	Timeout   = "timeout"
	Cancelled = "cancelled"
	// RateLimited: refused because the vault or tool reached its rate limit.
	RateLimited = "rate_limited"
	Failed      = "error"
)

// Record is one line of the audit log. It never holds a secret.
type Record struct {
	Time time.Time `json:"time"`
	// Seq is assigned by the log when the record is committed.
	Seq     uint64 `json:"seq"`
	Phase   Phase  `json:"phase"`
	CallID  string `json:"call_id"`
	VaultID string `json:"vault_id"`
	Vault   string `json:"vault"`
	// Client is the agent's self-reported name and version.
	Client   string `json:"client,omitempty"`
	Service  string `json:"service,omitempty"`
	Tool     string `json:"tool"`
	Decision string `json:"decision"`
	// Rule is the policy rule that produced Decision.
	Rule    string `json:"rule,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	// Channel is who answered an approval, or "policy" when none was needed.
	Channel string `json:"channel,omitempty"`
	// Approver identifies the person who answered, where the channel knows.
	Approver string `json:"approver,omitempty"`
	// WholeCall says whether the channel that answered an approval showed
	// the complete call first; absent when no person answered.
	WholeCall  *bool  `json:"whole_call,omitempty"`
	ArgsDigest string `json:"args_digest,omitempty"`
	// Args is a redacted summary of the arguments for people to read.
	Args       string `json:"args,omitempty"`
	DurationMS int64  `json:"duration_ms"`
	Error      string `json:"error,omitempty"`
}

// texts are the fields that carry text from outside (agents, services).
func (r *Record) texts() []*string {
	return []*string{&r.Client, &r.Vault, &r.Rule, &r.Approver, &r.Args, &r.Error}
}

// clean takes secrets out of r's text with redact, and cuts it so that no
// record can outgrow the journal or crowd out others in a batch.
func (r *Record) clean(redact func(string) string) {
	for _, f := range r.texts() {
		*f = cut(redact(*f), maxField)
	}
}

// maxField bounds a text field of a record, in characters.
const maxField = 1024

// Backend is where records are kept: a *Journal in front of the store.
type Backend interface {
	// AppendAudit stores values under consecutive sequence numbers, all or
	// none, and returns the first. With durable set they are on disk when it
	// returns; without, they are written and on disk within SyncDelay.
	AppendAudit(values [][]byte, durable bool) (first uint64, err error)
	// ScanAudit visits stored records in order, or newest first.
	ScanAudit(newestFirst bool, fn func(seq uint64, value []byte) (bool, error)) error
}

// JournalFile is the audit journal's name in the data folder.
const JournalFile = "audit.journal"

// ErrClosed is returned by Record after Close.
var ErrClosed = errors.New("audit log is closed")

// writeTimeout bounds how long a caller waits for its record to commit. The
// caller's own context is not used: a record that was started is waited for
// even if the agent has gone, so the log never has an unknown state.
const writeTimeout = 10 * time.Second

// maxBatch and maxBatchBytes bound one group commit, well inside the journal.
const (
	maxBatch      = 512
	maxBatchBytes = 1 << 20
)

// Log is an open audit log. Its methods are safe for concurrent use.
//
// Group commit without a writer goroutine: the caller that finds nobody
// committing commits the queue itself (a lone call pays one sync and no
// hand-off); callers that arrive meanwhile queue up, and whatever queued is
// committed as the next batch, in the background.
type Log struct {
	backend Backend
	key     []byte
	now     func() time.Time
	redact  func(string) string
	opened  time.Time // calls started before it and never ended were interrupted

	mu         sync.Mutex // guards the fields below
	closed     bool
	queue      []*pending // durable records waiting for the next commit
	committing bool       // a batch is being committed
	writing    int        // written records being appended
	idle       sync.Cond  // signalled when committing or a write ends
}

type pending struct {
	raw  []byte
	seq  uint64
	err  error
	done chan struct{}
}

// Config holds a log's dependencies.
type Config struct {
	// Backend keeps the records; required.
	Backend Backend
	// Key is the HMAC key for argument digests; required.
	Key []byte
	// Now stamps records; nil: time.Now.
	Now func() time.Time
	// Redact takes configured secrets out of a record's text as it is
	// written and as it is read (records older than a secret); nil: none.
	Redact func(string) string
}

// New starts a log.
func New(cfg Config) *Log {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Redact == nil {
		cfg.Redact = func(s string) string { return s }
	}
	l := &Log{backend: cfg.Backend, key: cfg.Key, now: cfg.Now, redact: cfg.Redact, opened: cfg.Now()}
	l.idle.L = &l.mu
	return l
}

// Record durably appends r (stamping Time if unset) and returns its sequence
// number. An error means the record may not be on disk, so what it announces
// must not happen; the record may still appear in the log (the disk failed or
// stalled while syncing it, and it was kept from the page cache).
func (l *Log) Record(r Record) (uint64, error) {
	raw, err := l.encode(r)
	if err != nil {
		return 0, err
	}
	p := &pending{raw: raw, done: make(chan struct{})}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	l.queue = append(l.queue, p)
	lead := !l.committing
	l.committing = true
	l.mu.Unlock()
	if lead {
		l.commit()
	}
	timer := time.NewTimer(writeTimeout)
	defer timer.Stop()
	select {
	case <-p.done:
		return p.seq, p.err
	case <-timer.C:
		l.mu.Lock()
		defer l.mu.Unlock()
		if i := slices.Index(l.queue, p); i >= 0 {
			l.queue = slices.Delete(l.queue, i, i+1)
			return 0, errors.New("audit log write timed out; the record was not written")
		}
		return 0, errors.New("audit log write timed out; the record may still be written")
	}
}

// RecordWritten appends r like Record, but returns once r is written to the
// journal file rather than synced, without waiting for anyone's sync: a
// crash of AgentVault keeps it, and it is on disk at most SyncDelay later.
// For records that report what happened (outcomes), not ones that must be on
// disk before something happens.
func (l *Log) RecordWritten(r Record) (uint64, error) {
	raw, err := l.encode(r)
	if err != nil {
		return 0, err
	}
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return 0, ErrClosed
	}
	l.writing++
	l.mu.Unlock()
	seq, err := l.backend.AppendAudit([][]byte{raw}, false)
	l.mu.Lock()
	l.writing--
	l.idle.Broadcast()
	l.mu.Unlock()
	return seq, err
}

// encode stamps, bounds and encodes r.
func (l *Log) encode(r Record) ([]byte, error) {
	if r.Time.IsZero() {
		r.Time = l.now().UTC()
	}
	r.clean(l.redact)
	return json.Marshal(r)
}

// commit writes up to maxBatch queued records in one backend append, then
// commits what queued meanwhile in the background, or ends committing.
func (l *Log) commit() {
	l.mu.Lock()
	n, size := 0, 0
	for n < len(l.queue) && n < maxBatch && (n == 0 || size+len(l.queue[n].raw) <= maxBatchBytes) {
		size += len(l.queue[n].raw)
		n++
	}
	batch := l.queue[:n]
	l.queue = l.queue[n:]
	l.mu.Unlock()

	values := make([][]byte, len(batch))
	for i, q := range batch {
		values[i] = q.raw
	}
	first, err := l.backend.AppendAudit(values, true)
	for i, q := range batch {
		q.err = err
		if err == nil {
			q.seq = first + uint64(i)
		}
		close(q.done)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.queue) > 0 {
		go l.commit()
		return
	}
	l.committing = false
	l.idle.Broadcast()
}

// Close stops accepting records and waits for queued ones to commit and
// written ones to be appended. It does not close the backend.
func (l *Log) Close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.closed = true
	for l.committing || l.writing > 0 {
		l.idle.Wait()
	}
}

// Digest is the HMAC-SHA256 of the arguments' JSON encoding, hex-encoded.
// Equal arguments give equal digests within one database, so records of the
// same call can be matched without storing what the call contained.
func (l *Log) Digest(args any) string {
	raw, err := json.Marshal(args)
	if err != nil {
		raw = []byte("unencodable")
	}
	m := hmac.New(sha256.New, l.key)
	m.Write(raw)
	return hex.EncodeToString(m.Sum(nil))
}

// Filter selects records for List and Export. Zero fields select everything.
type Filter struct {
	// VaultID keeps the records of one vault; Vault those of a vault by id
	// or by the name its records carry (one that was deleted).
	VaultID, Vault string
	// Limit keeps only the newest Limit rows (0: all).
	Limit int
	// Phases gives the records as written, an intent and an outcome for a
	// call that ran; without it a call is one row (see Calls).
	Phases bool
}

func (f Filter) keep(r *Record) bool {
	return (f.VaultID == "" || r.VaultID == f.VaultID) && (f.Vault == "" || r.VaultID == f.Vault || r.Vault == f.Vault)
}

// List returns the rows f selects, oldest first.
func (l *Log) List(f Filter) ([]Record, error) {
	c := l.calls()
	err := l.scan(true, f, func(r Record) (bool, error) {
		switch {
		case f.Phases:
			c.rows = append(c.rows, r)
		case f.Limit > 0 && len(c.rows) >= f.Limit:
			return c.completeNewest(r), nil
		default:
			c.addNewest(r)
		}
		return f.Limit <= 0 || len(c.rows) < f.Limit || c.waiting(), nil
	})
	slices.Reverse(c.rows)
	return c.rows, err
}

// Scan calls fn for every row f selects, oldest first, without holding them
// all in memory (f.Limit is ignored).
func (l *Log) Scan(f Filter, fn func(Record) error) error {
	if f.Phases {
		return l.scan(false, f, func(r Record) (bool, error) { return true, fn(r) })
	}
	c := l.calls()
	err := l.scan(false, f, func(r Record) (bool, error) {
		row, ok := c.addOldest(r)
		if !ok {
			return true, nil
		}
		return true, fn(row)
	})
	if err != nil {
		return err
	}
	for _, row := range c.unfinished() {
		if err := fn(row); err != nil {
			return err
		}
	}
	return nil
}

// scan visits the records f keeps, redacted, oldest or newest first.
func (l *Log) scan(newestFirst bool, f Filter, fn func(Record) (bool, error)) error {
	return l.backend.ScanAudit(newestFirst, func(seq uint64, raw []byte) (bool, error) {
		var r Record
		if err := json.Unmarshal(raw, &r); err != nil {
			return false, err
		}
		r.Seq = seq
		if !f.keep(&r) {
			return true, nil
		}
		l.redactRead(&r)
		return fn(r)
	})
}

// redactRead takes secrets configured after r was written out of it.
func (l *Log) redactRead(r *Record) {
	for _, f := range r.texts() {
		*f = l.redact(*f)
	}
}
