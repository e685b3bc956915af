// Package approval is the broker between calls that need a person's yes and
// the channels that can ask one: a desktop notification, the in-app queue,
// the CLI, a phone push. Each pending call is shown on every channel at once;
// the first valid answer resolves it exactly once and the others are
// withdrawn. Late, repeated and mismatched answers are refused and audited.
// A deadline or the agent going away is a denial.
//
// It must never decide a call itself, nor show anything: channels show, people decide.
package approval

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/agentvault/agentvault/internal/audit"
)

// Scope says how far an approval reaches.
type Scope string

const (
	// Once approves this call only.
	Once Scope = "once"
	// Session approves the same tool, with any arguments, for the rest of
	// the agent's session: the MCP session, or for a stateless client the
	// vault with the client's name and version, until SessionIdle passes
	// without a call that needs approval. It ends with the session and
	// after the request's GrantLimit at most.
	Session Scope = "session"
	// Always changes the vault's policy to allow the tool.
	Always Scope = "always"
)

// SessionLabel is how every channel names a Session answer.
const SessionLabel = "this tool, any arguments, for this agent's session"

// DefaultTimeout is how long a call waits for approval unless its vault
// says otherwise.
const DefaultTimeout = 2 * time.Minute

// Limits on session grants.
const (
	// DefaultGrantLimit is the longest a session grant lasts unless a vault
	// sets a shorter one.
	DefaultGrantLimit = 8 * time.Hour
	// SessionIdle ends a stateless client's "session" (and its grants) that
	// long after its last call that needed approval.
	SessionIdle = 30 * time.Minute
)

// Answer is a person's reply to a pending call.
type Answer struct {
	Approve bool  `json:"approve"`
	Scope   Scope `json:"scope,omitempty"`
	// Reason is passed to the agent with a denial.
	Reason string `json:"reason,omitempty"`
	// Channel is who answered: notification, queue, cli, ciba.
	Channel string `json:"channel"`
	// Approver identifies the person where the channel knows it (CIBA: sub).
	Approver string `json:"approver,omitempty"`
	// ArgsDigest, when set, must equal the pending call's: an answer given
	// for other arguments is refused.
	ArgsDigest string `json:"args_digest,omitempty"`
	// WholeCall says whether the channel showed the complete call before
	// this answer (a phone's few characters do not); nil: not reported.
	WholeCall *bool `json:"whole_call,omitempty"`

	outcome string // set for the broker's own resolutions: timeout, cancelled
}

// Pending is a call waiting for an answer.
type Pending struct {
	ID string `json:"id"`
	// Code is the short code every channel shows, so a person can match a
	// phone push to a desktop prompt (AV-7F3K).
	Code string `json:"code"`
	Request
	Created  time.Time `json:"created"`
	Deadline time.Time `json:"deadline"`
}

// Resolved is a pending call with the answer that settled it.
type Resolved struct {
	Pending
	Answer  Answer    `json:"answer"`
	Outcome string    `json:"outcome"` // approved, denied, timeout, cancelled
	At      time.Time `json:"at"`
}

// Channel shows pending calls to a person somewhere.
type Channel interface {
	// Name is the channel's name in answers and the audit log.
	Name() string
	// Open shows p without blocking. The channel calls answer at most once
	// when the person answers. withdraw removes p from the channel (the call
	// was answered elsewhere, timed out or was cancelled); it is called
	// exactly once, possibly before Open has returned to the broker.
	Open(p Pending, answer func(Answer) error) (withdraw func())
}

// PolicyWriter applies "always allow".
type PolicyWriter interface {
	// AllowTool sets the vault's decision for tool to allow.
	AllowTool(vaultID, tool string) error
}

// Auditor records refused answers.
type Auditor interface {
	Record(r audit.Record) (uint64, error)
}

// Event tells subscribers that the set of pending calls changed.
type Event struct {
	// Added is set for a new pending call, Resolved for a settled one.
	Added    *Pending  `json:"added,omitempty"`
	Resolved *Resolved `json:"resolved,omitempty"`
}

// Config holds the broker's dependencies and settings.
type Config struct {
	// Channels to ask on; more can be added with AddChannel.
	Channels []Channel
	// Policy applies "always allow"; nil: such answers are refused.
	Policy PolicyWriter
	// Auditor records refused answers; nil: not recorded.
	Auditor Auditor
	// DefaultTimeout applies when a request has none; 0: DefaultTimeout.
	DefaultTimeout time.Duration
	// Now; nil: time.Now.
	Now func() time.Time
	// Logger; nil: slog.Default().
	Logger *slog.Logger
}

// Errors returned by Answer.
var (
	ErrUnknown  = errors.New("no such approval")
	ErrResolved = errors.New("approval already answered")
	ErrMismatch = errors.New("answer does not match the pending call's arguments")
	// ErrFlowAlways refuses "always allow" for a call data-flow protection
	// holds: it can be approved once or for the session.
	ErrFlowAlways = errors.New("a data-flow approval can be given once or for this session, not always")
)

// historySize bounds the remembered resolutions, and maxRemembered the
// arguments kept with each: an agent's answered calls cannot fill memory.
const (
	historySize   = 200
	maxRemembered = 64 << 10
)

// remembered is r as history keeps it: arguments larger than maxRemembered
// are replaced by a note saying so (the audit log keeps their digest).
func remembered(r Resolved) Resolved {
	if len(r.Arguments) > maxRemembered {
		note, _ := json.Marshal(fmt.Sprintf("(%d bytes of arguments, not kept once the call was answered)", len(r.Arguments)))
		r.Arguments = note
	}
	return r
}

// Broker is the approval broker; its Approve implements mcpserver.Approver.
type Broker struct {
	cfg Config

	mu       sync.Mutex
	channels []Channel
	pending  map[string]*waiting
	history  []Resolved // newest last, at most historySize
	grants   map[grantKey]grant
	subs     map[chan Event]struct{}
}

type waiting struct {
	p         Pending
	done      chan Resolved // buffered; receives the one resolution
	withdraws []func()
	settled   bool
}

type grantKey struct{ vault, holder, tool string }

// grant is one "approve for this session".
type grant struct {
	made     time.Time // when the prompt it answered was shown
	until    time.Time // the latest it can last (GrantLimit)
	lastUsed time.Time // stateless holders: ends SessionIdle after this
}

// New returns a broker.
func New(cfg Config) *Broker {
	if cfg.DefaultTimeout == 0 {
		cfg.DefaultTimeout = DefaultTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Broker{cfg: cfg, channels: slices.Clone(cfg.Channels), pending: map[string]*waiting{},
		grants: map[grantKey]grant{}, subs: map[chan Event]struct{}{}}
}

// AddChannel starts asking on ch too (for calls that arrive from now on),
// replacing a channel with the same name.
func (b *Broker) AddChannel(ch Channel) {
	b.RemoveChannel(ch.Name())
	b.mu.Lock()
	b.channels = append(b.channels, ch)
	b.mu.Unlock()
}

// RemoveChannel stops asking on the channel called name (calls already
// shown there keep it until they are settled).
func (b *Broker) RemoveChannel(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.channels = slices.DeleteFunc(b.channels, func(c Channel) bool { return c.Name() == name })
}

// Approve blocks until the call is answered, its deadline passes or ctx
// ends; mcpserver calls it for every call whose decision is Approve.
func (b *Broker) Approve(ctx context.Context, req Request) Verdict {
	now := b.cfg.Now()
	if b.granted(req, now) {
		return Verdict{Approved: true, Channel: "session"}
	}
	timeout := req.Timeout
	if timeout <= 0 {
		timeout = b.cfg.DefaultTimeout
	}
	b.mu.Lock()
	w := &waiting{
		p:    Pending{ID: newID(), Code: b.newCodeLocked(), Request: req, Created: now, Deadline: now.Add(timeout)},
		done: make(chan Resolved, 1),
	}
	b.pending[w.p.ID] = w
	channels := slices.Clone(b.channels)
	b.mu.Unlock()
	b.publish(Event{Added: &w.p})

	for _, ch := range channels {
		name := ch.Name()
		withdraw := ch.Open(w.p, func(a Answer) error {
			if a.Channel == "" {
				a.Channel = name
			}
			return b.Answer(w.p.ID, a)
		})
		b.mu.Lock()
		if w.settled {
			b.mu.Unlock()
			withdraw()
			continue
		}
		w.withdraws = append(w.withdraws, withdraw)
		b.mu.Unlock()
	}

	timer := time.NewTimer(timeout)
	defer timer.Stop()
	var r Resolved
	select {
	case r = <-w.done:
	case <-timer.C:
		b.resolve(w.p.ID, Answer{Channel: "timeout", outcome: audit.Timeout,
			Reason: fmt.Sprintf("nobody answered within %s", timeout.Round(time.Second))})
		r = <-w.done
	case <-ctx.Done():
		b.resolve(w.p.ID, Answer{Channel: "agent", outcome: audit.Cancelled, Reason: "the agent cancelled the call"})
		r = <-w.done
	}
	v := Verdict{Channel: r.Answer.Channel, Approver: r.Answer.Approver, WholeCall: r.Answer.WholeCall}
	if r.Outcome == audit.Approved {
		v.Approved = true
		return v
	}
	v.Outcome, v.Reason = r.Outcome, r.Answer.Reason
	if v.Reason == "" {
		v.Reason = "the user denied this call"
	}
	return v
}

// Answer settles the pending call ref names (its id or its code). It
// fails, and the refusal is audited, when the call is unknown, already
// settled, or the answer names other arguments.
func (b *Broker) Answer(ref string, a Answer) error {
	if a.Approve && a.Scope == "" {
		a.Scope = Once
	}
	id := b.id(ref)
	err := b.resolve(id, a)
	if err != nil && b.cfg.Auditor != nil {
		rec := audit.Record{Phase: "answer", CallID: id, Outcome: "rejected", Channel: a.Channel, Decision: "approve", Error: err.Error()}
		if _, aerr := b.cfg.Auditor.Record(rec); aerr != nil {
			b.cfg.Logger.Error("audit write failed", "err", aerr)
		}
	}
	return err
}

func (b *Broker) resolve(id string, a Answer) error {
	b.mu.Lock()
	w, ok := b.pending[id]
	if !ok {
		err := ErrUnknown
		for _, h := range b.history {
			if h.ID == id {
				err = fmt.Errorf("%w (%s by %s)", ErrResolved, h.Outcome, h.Answer.Channel)
			}
		}
		b.mu.Unlock()
		return fmt.Errorf("approval %s: %w", id, err)
	}
	if a.ArgsDigest != "" && a.ArgsDigest != w.p.ArgsDigest {
		b.mu.Unlock()
		return fmt.Errorf("approval %s: %w", id, ErrMismatch)
	}
	if a.Approve && a.Scope == Always && b.cfg.Policy == nil {
		b.mu.Unlock()
		return fmt.Errorf("approval %s: always-allow is not available here", id)
	}
	if a.Approve && a.Scope == Always && w.p.Flow != "" {
		b.mu.Unlock()
		return fmt.Errorf("approval %s: %w", id, ErrFlowAlways)
	}
	outcome := a.outcome
	if outcome == "" {
		outcome = audit.Denied
		if a.Approve {
			outcome = audit.Approved
		}
	}
	r := Resolved{Pending: w.p, Answer: a, Outcome: outcome, At: b.cfg.Now()}
	delete(b.pending, id)
	w.settled = true
	withdraws := w.withdraws
	w.withdraws = nil
	b.history = append(b.history, remembered(r))
	if len(b.history) > historySize {
		b.history = slices.Delete(b.history, 0, len(b.history)-historySize)
	}
	if a.Approve && a.Scope == Session {
		b.grantLocked(w.p, r.At)
	}
	b.mu.Unlock()

	w.done <- r
	for _, wd := range withdraws {
		wd()
	}
	if a.Approve && a.Scope == Always {
		if err := b.cfg.Policy.AllowTool(w.p.VaultID, w.p.Tool); err != nil {
			b.cfg.Logger.Error("always-allow could not change the policy", "vault", w.p.VaultID, "tool", w.p.Tool, "err", err)
		}
	}
	b.publish(Event{Resolved: &r})
	return nil
}

// grantLocked remembers a session approval of p, given at now. The grant
// counts as made when p was shown: a prompt opened before a session read
// private data cannot cover a data-flow request, whenever it is answered.
func (b *Broker) grantLocked(p Pending, now time.Time) {
	req := p.Request
	limit := req.GrantLimit
	if limit <= 0 || limit > DefaultGrantLimit {
		limit = DefaultGrantLimit
	}
	b.grants[grantKey{req.VaultID, req.Holder(), req.Tool}] = grant{made: p.Created, until: now.Add(limit), lastUsed: now}
	maps.DeleteFunc(b.grants, func(k grantKey, g grant) bool { return !live(k, g, now) })
}

// live reports whether grant g of k still holds at now.
func live(k grantKey, g grant, now time.Time) bool {
	return now.Before(g.until) && !IdleEnded(k.holder, g.lastUsed, now)
}

// Granted reports whether a session grant covers req, so that a call it
// covers need not count as waiting for anyone.
func (b *Broker) Granted(req Request) bool { return b.granted(req, b.cfg.Now()) }

func (b *Broker) granted(req Request, now time.Time) bool {
	key := grantKey{req.VaultID, req.Holder(), req.Tool}
	b.mu.Lock()
	defer b.mu.Unlock()
	g, ok := b.grants[key]
	if !ok || !live(key, g, now) || (!req.FlowSince.IsZero() && !g.made.After(req.FlowSince)) {
		return false
	}
	g.lastUsed = now
	b.grants[key] = g
	return true
}

// RevokeGrants forgets the session approvals of a vault (its token changed
// or its policy was reset).
func (b *Broker) RevokeGrants(vaultID string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	maps.DeleteFunc(b.grants, func(k grantKey, _ grant) bool { return k.vault == vaultID })
}

// EndSession forgets the session approvals of an MCP session that ended
// (closed by the agent, idle too long, or ended by AgentVault).
func (b *Broker) EndSession(vaultID, session string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	maps.DeleteFunc(b.grants, func(k grantKey, _ grant) bool {
		return k.vault == vaultID && k.holder == "session:"+session
	})
}

// Find returns the pending or recently answered call ref names: its id, or
// its code (AV-7F3K, in any case, with or without "AV-").
func (b *Broker) Find(ref string) (Resolved, bool) {
	id := b.id(ref)
	b.mu.Lock()
	defer b.mu.Unlock()
	if w, ok := b.pending[id]; ok {
		return Resolved{Pending: w.p}, true
	}
	for _, h := range slices.Backward(b.history) {
		if h.ID == id {
			return h, true
		}
	}
	return Resolved{}, false
}

// id resolves a code to the id of its call; anything else is taken as an id.
func (b *Broker) id(ref string) string {
	code := strings.ToUpper(strings.TrimSpace(ref))
	if !strings.HasPrefix(code, "AV-") {
		code = "AV-" + code
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, w := range b.pending {
		if w.p.Code == code {
			return id
		}
	}
	for _, h := range slices.Backward(b.history) {
		if h.Code == code {
			return h.ID
		}
	}
	return ref
}

// Pending lists the calls waiting for an answer, oldest first.
func (b *Broker) Pending() []Pending {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Pending, 0, len(b.pending))
	for _, w := range b.pending {
		out = append(out, w.p)
	}
	slices.SortFunc(out, func(x, y Pending) int { return x.Created.Compare(y.Created) })
	return out
}

// History lists recent resolutions, newest first.
func (b *Broker) History() []Resolved {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := slices.Clone(b.history)
	slices.Reverse(out)
	return out
}

// Subscribe returns a channel of events and a function that ends the
// subscription. A subscriber that falls behind misses events, never blocks
// the broker; it should re-read Pending on any event.
func (b *Broker) Subscribe() (<-chan Event, func()) {
	ch := make(chan Event, 64)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
		b.mu.Unlock()
	}
}

func (b *Broker) publish(e Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		select {
		case ch <- e:
		default:
		}
	}
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x", b)
}

// codeAlphabet avoids look-alike characters (0/O, 1/I/L).
const codeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// newCodeLocked returns a code no pending or remembered call has, so that
// a code names one call wherever it is typed.
func (b *Broker) newCodeLocked() string {
	for {
		code := newCode()
		taken := slices.ContainsFunc(b.history, func(h Resolved) bool { return h.Code == code })
		for _, w := range b.pending {
			taken = taken || w.p.Code == code
		}
		if !taken {
			return code
		}
	}
}

func newCode() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	var sb strings.Builder
	sb.WriteString("AV-")
	for _, x := range b {
		sb.WriteByte(codeAlphabet[int(x)%len(codeAlphabet)])
	}
	return sb.String()
}
