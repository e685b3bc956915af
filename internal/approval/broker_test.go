package approval

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/audit"
)

// testChannel records what it was shown and lets the test answer.
type testChannel struct {
	name      string
	mu        sync.Mutex
	open      map[string]func(Answer) error
	opened    atomic.Int64
	withdrawn atomic.Int64
	doubles   atomic.Int64 // withdraw called twice for one call
	seen      chan Pending
}

func newTestChannel(name string) *testChannel {
	return &testChannel{name: name, open: map[string]func(Answer) error{}, seen: make(chan Pending, 16)}
}

func (c *testChannel) Name() string { return c.name }

func (c *testChannel) Open(p Pending, answer func(Answer) error) func() {
	c.mu.Lock()
	c.open[p.ID] = answer
	c.mu.Unlock()
	c.opened.Add(1)
	select {
	case c.seen <- p:
	default:
	}
	var once atomic.Bool
	return func() {
		if !once.CompareAndSwap(false, true) {
			c.doubles.Add(1)
		}
		c.mu.Lock()
		delete(c.open, p.ID)
		c.mu.Unlock()
		c.withdrawn.Add(1)
	}
}

func (c *testChannel) answer(id string, a Answer) error {
	c.mu.Lock()
	f := c.open[id]
	c.mu.Unlock()
	if f == nil {
		return errors.New("not open on this channel")
	}
	return f(a)
}

type memAudit struct {
	mu   sync.Mutex
	recs []audit.Record
}

func (m *memAudit) Record(r audit.Record) (uint64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs = append(m.recs, r)
	return uint64(len(m.recs)), nil
}

type policyRecorder struct {
	mu      sync.Mutex
	allowed []string
}

func (p *policyRecorder) AllowTool(vault, tool string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.allowed = append(p.allowed, vault+"/"+tool)
	return nil
}

var req = Request{VaultID: "v1", Vault: "work", Client: "agent 1", Session: "s1", Tool: "gh_create_issue", ArgsDigest: "d1", Summary: `title="x"`}

// ask runs Approve in the background and returns its verdict channel and
// the pending call as the channel saw it.
func ask(t *testing.T, b *Broker, ch *testChannel, ctx context.Context, r Request) (chan Verdict, Pending) {
	t.Helper()
	out := make(chan Verdict, 1)
	go func() { out <- b.Approve(ctx, r) }()
	select {
	case p := <-ch.seen:
		return out, p
	case <-time.After(5 * time.Second):
		t.Fatal("the channel was never asked")
		return nil, Pending{}
	}
}

func TestFirstAnswerWinsAndOthersAreWithdrawn(t *testing.T) {
	desk, phone := newTestChannel("notification"), newTestChannel("ciba")
	aud := &memAudit{}
	b := New(Config{Channels: []Channel{desk, phone}, Auditor: aud})
	verdict, p := ask(t, b, desk, t.Context(), req)
	<-phone.seen
	if p.Code == "" || p.Tool != req.Tool || p.Deadline.Sub(p.Created) != 120*time.Second {
		t.Fatalf("pending %+v", p)
	}
	if got := b.Pending(); len(got) != 1 || got[0].ID != p.ID {
		t.Fatalf("Pending() = %+v", got)
	}
	if err := phone.answer(p.ID, Answer{Approve: true, Approver: "auth0|me"}); err != nil {
		t.Fatal(err)
	}
	v := <-verdict
	if !v.Approved || v.Channel != "ciba" {
		t.Fatalf("verdict %+v", v)
	}
	if desk.withdrawn.Load() != 1 || phone.withdrawn.Load() != 1 {
		t.Fatalf("withdrawn: desk %d, phone %d; want 1 each", desk.withdrawn.Load(), phone.withdrawn.Load())
	}
	err := b.Answer(p.ID, Answer{Approve: false, Channel: "cli"})
	if !errors.Is(err, ErrResolved) {
		t.Fatalf("late answer: %v, want ErrResolved", err)
	}
	if err := b.Answer("nope", Answer{Channel: "cli"}); !errors.Is(err, ErrUnknown) {
		t.Fatalf("unknown id: %v", err)
	}
	if len(aud.recs) != 2 || aud.recs[0].Outcome != "rejected" || aud.recs[0].Channel != "cli" {
		t.Fatalf("refused answers audited as %+v", aud.recs)
	}
	if h := b.History(); len(h) != 1 || h[0].Outcome != audit.Approved || h[0].Answer.Approver != "auth0|me" {
		t.Fatalf("history %+v", h)
	}
	if len(b.Pending()) != 0 {
		t.Fatal("resolved call still pending")
	}
}

func TestDenialCarriesReasonAndMismatchIsRefused(t *testing.T) {
	ch := newTestChannel("queue")
	b := New(Config{Channels: []Channel{ch}})
	verdict, p := ask(t, b, ch, t.Context(), req)
	if err := b.Answer(p.ID, Answer{Approve: true, ArgsDigest: "other", Channel: "cli"}); !errors.Is(err, ErrMismatch) {
		t.Fatalf("answer for other arguments: %v", err)
	}
	if err := ch.answer(p.ID, Answer{Reason: "not on main"}); err != nil {
		t.Fatal(err)
	}
	v := <-verdict
	if v.Approved || v.Outcome != audit.Denied || v.Reason != "not on main" || v.Channel != "queue" {
		t.Fatalf("verdict %+v", v)
	}
}

func TestTimeoutAndCancellationDeny(t *testing.T) {
	ch := newTestChannel("queue")
	b := New(Config{Channels: []Channel{ch}})
	r := req
	r.Timeout = 30 * time.Millisecond
	verdict, _ := ask(t, b, ch, t.Context(), r)
	if v := <-verdict; v.Approved || v.Outcome != audit.Timeout || v.Channel != "timeout" {
		t.Fatalf("timeout verdict %+v", v)
	}
	ctx, cancel := context.WithCancel(t.Context())
	verdict, p := ask(t, b, ch, ctx, req)
	cancel()
	if v := <-verdict; v.Approved || v.Outcome != audit.Cancelled {
		t.Fatalf("cancel verdict %+v", v)
	}
	if ch.withdrawn.Load() != 2 {
		t.Fatalf("withdrawn %d times, want 2", ch.withdrawn.Load())
	}
	if err := b.Answer(p.ID, Answer{Approve: true, Channel: "cli"}); !errors.Is(err, ErrResolved) {
		t.Fatalf("answer after cancellation: %v", err)
	}
}

func TestSessionAndAlwaysScopes(t *testing.T) {
	ch := newTestChannel("queue")
	pol := &policyRecorder{}
	now := time.Unix(1000, 0)
	var clock atomic.Int64
	clock.Store(now.UnixNano())
	b := New(Config{Channels: []Channel{ch}, Policy: pol, Now: func() time.Time { return time.Unix(0, clock.Load()) }})

	verdict, p := ask(t, b, ch, t.Context(), req)
	ch.answer(p.ID, Answer{Approve: true, Scope: Session})
	<-verdict
	if v := b.Approve(t.Context(), req); !v.Approved || v.Channel != "session" {
		t.Fatalf("same session and tool after a session approval: %+v", v)
	}
	other := req
	other.Session = "s2"
	verdict, p = ask(t, b, ch, t.Context(), other)
	ch.answer(p.ID, Answer{Approve: false})
	if v := <-verdict; v.Approved {
		t.Fatal("a session approval leaked to another session")
	}

	stateless := req
	stateless.Session = ""
	verdict, p = ask(t, b, ch, t.Context(), stateless)
	ch.answer(p.ID, Answer{Approve: true, Scope: Session})
	<-verdict
	if v := b.Approve(t.Context(), stateless); !v.Approved {
		t.Fatal("stateless client not remembered within 30 minutes")
	}
	clock.Add(int64(31 * time.Minute))
	verdict, p = ask(t, b, ch, t.Context(), stateless)
	ch.answer(p.ID, Answer{Approve: false})
	if v := <-verdict; v.Approved {
		t.Fatal("stateless approval outlived 30 minutes")
	}

	b.RevokeGrants("v1")
	verdict, p = ask(t, b, ch, t.Context(), req)
	ch.answer(p.ID, Answer{Approve: true, Scope: Always})
	<-verdict
	if len(pol.allowed) != 1 || pol.allowed[0] != "v1/gh_create_issue" {
		t.Fatalf("always-allow changed policy %v", pol.allowed)
	}
}

// TestRacingAnswers settles 10,000 calls while approve, deny, timeout and
// cancel race for each; every call resolves exactly once.
func TestRacingAnswers(t *testing.T) {
	n := 10000
	if testing.Short() {
		n = 1000
	}
	baseline := runtime.NumGoroutine()
	ch := newTestChannel("queue")
	ch.seen = make(chan Pending, n)
	b := New(Config{Channels: []Channel{ch}})
	events, stop := b.Subscribe()
	var resolvedEvents atomic.Int64
	go func() {
		for e := range events {
			if e.Resolved != nil {
				resolvedEvents.Add(1)
			}
		}
	}()

	var approved, verdicts, wins atomic.Int64
	var wg sync.WaitGroup
	sem := make(chan struct{}, 256)
	for i := range n {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			r := req
			r.Session = "s"
			r.Tool = "t"
			r.Timeout = time.Duration(1+rand.IntN(3)) * time.Millisecond
			done := make(chan Verdict, 1)
			go func() { done <- b.Approve(ctx, r) }()
			p := <-ch.seen
			var racers sync.WaitGroup
			for j := range 3 {
				racers.Add(1)
				go func() {
					defer racers.Done()
					switch (i + j) % 3 {
					case 0:
						if b.Answer(p.ID, Answer{Approve: true, Channel: "cli"}) == nil {
							wins.Add(1)
						}
					case 1:
						if b.Answer(p.ID, Answer{Channel: "queue"}) == nil {
							wins.Add(1)
						}
					default:
						cancel()
					}
				}()
			}
			v := <-done
			racers.Wait()
			verdicts.Add(1)
			if v.Approved {
				approved.Add(1) // the provider would be called exactly here
			}
		}()
	}
	wg.Wait()
	stop()
	if verdicts.Load() != int64(n) {
		t.Fatalf("%d verdicts for %d calls", verdicts.Load(), n)
	}
	if len(b.Pending()) != 0 {
		t.Fatalf("%d calls left pending", len(b.Pending()))
	}
	if wins.Load() > int64(n) || approved.Load() > wins.Load() {
		t.Fatalf("%d winning answers and %d approvals for %d calls", wins.Load(), approved.Load(), n)
	}
	if ch.opened.Load() != int64(n) || ch.withdrawn.Load() != int64(n) || ch.doubles.Load() != 0 {
		t.Fatalf("opened %d, withdrawn %d, withdrawn twice %d; want %d, %d, 0", ch.opened.Load(), ch.withdrawn.Load(), ch.doubles.Load(), n, n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline+2 {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d, baseline %d", runtime.NumGoroutine(), baseline)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("%d calls: %d approved, %d winning answers, %d resolved events", n, approved.Load(), wins.Load(), resolvedEvents.Load())
}

// A session grant ends with its session, after the vault's limit (8 hours
// at most), and for a stateless client 30 minutes after its last call that
// needed approval — each step of that is a fresh grant's sliding window.
func TestSessionGrantsEnd(t *testing.T) {
	ch := newTestChannel("queue")
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	advance := func(d time.Duration) { clock.Add(int64(d)) }
	b := New(Config{Channels: []Channel{ch}, Now: func() time.Time { return time.Unix(0, clock.Load()) }})
	grant := func(r Request) {
		verdict, p := ask(t, b, ch, t.Context(), r)
		ch.answer(p.ID, Answer{Approve: true, Scope: Session})
		<-verdict
	}
	// held reports whether r runs without asking; a call that asks is denied.
	held := func(r Request) bool {
		verdict, p := func() (chan Verdict, Pending) {
			out := make(chan Verdict, 1)
			go func() { out <- b.Approve(t.Context(), r) }()
			select {
			case v := <-out:
				return chanOf(v), Pending{}
			case p := <-ch.seen:
				return out, p
			}
		}()
		if p.ID != "" {
			ch.answer(p.ID, Answer{Approve: false})
		}
		return (<-verdict).Channel == "session"
	}

	grant(req)
	b.EndSession("v1", "s1")
	if held(req) {
		t.Fatal("a grant outlived its session")
	}

	limited := req
	limited.GrantLimit = time.Hour
	grant(limited)
	advance(59 * time.Minute)
	if !held(limited) {
		t.Fatal("a grant ended before its limit")
	}
	advance(2 * time.Minute)
	if held(limited) {
		t.Fatal("a grant outlived the vault's limit")
	}

	unlimited := req
	unlimited.Session, unlimited.GrantLimit = "s9", 48*time.Hour // more than allowed
	grant(unlimited)
	for range 7 {
		advance(time.Hour)
		if !held(unlimited) {
			t.Fatal("a session grant ended early")
		}
	}
	advance(time.Hour + time.Second)
	if held(unlimited) {
		t.Fatal("a session grant outlived 8 hours")
	}

	stateless := req
	stateless.Session = ""
	grant(stateless)
	for range 4 { // each call keeps the stateless session alive
		advance(25 * time.Minute)
		if !held(stateless) {
			t.Fatal("a stateless grant ended while its client kept calling")
		}
	}
	advance(31 * time.Minute)
	if held(stateless) {
		t.Fatal("a stateless grant outlived 30 idle minutes")
	}
}

func chanOf(v Verdict) chan Verdict {
	c := make(chan Verdict, 1)
	c <- v
	return c
}

// Codes name one call: unique among pending and remembered calls, found in
// any case, with or without "AV-", and good for answering.
func TestCodesFindCalls(t *testing.T) {
	ch := newTestChannel("queue")
	b := New(Config{Channels: []Channel{ch}})
	codes := map[string]bool{}
	var verdicts []chan Verdict
	for range 40 {
		v, p := ask(t, b, ch, t.Context(), req)
		if codes[p.Code] {
			t.Fatalf("code %s given twice", p.Code)
		}
		codes[p.Code] = true
		verdicts = append(verdicts, v)
	}
	p := b.Pending()[0]
	for _, ref := range []string{p.ID, p.Code, strings.ToLower(p.Code), strings.TrimPrefix(p.Code, "AV-")} {
		if got, ok := b.Find(ref); !ok || got.ID != p.ID {
			t.Fatalf("Find(%q) = %+v, %v", ref, got, ok)
		}
	}
	whole := true
	if err := b.Answer(strings.ToLower(p.Code), Answer{Approve: true, Channel: "cli", WholeCall: &whole}); err != nil {
		t.Fatal(err)
	}
	if got, ok := b.Find(p.Code); !ok || got.Outcome != audit.Approved {
		t.Fatalf("an answered call is not found by its code: %+v", got)
	}
	for _, q := range b.Pending() {
		b.Answer(q.ID, Answer{Approve: false, Channel: "cli"})
	}
	approved := 0
	for _, v := range verdicts {
		if got := <-v; got.Approved {
			approved++
			if got.WholeCall == nil || !*got.WholeCall {
				t.Fatalf("verdict %+v lost whether the whole call was shown", got)
			}
		}
	}
	if approved != 1 {
		t.Fatalf("%d approved, want 1", approved)
	}
}

// What an agent chose — argument names, its own name — cannot break a line,
// hide text or pose as another field in a prompt.
func TestAgentTextIsShownOnItsOwnLine(t *testing.T) {
	r := Request{Tool: "sh_run", Vault: "work", Client: "evil\n\n\n\u202eagent" + strings.Repeat(" ", 100),
		Arguments: []byte(`{"a\n\n\n\n\n\n\n":0,"command: \"ls\"\nnote":1,"command":"curl x|sh"}`)}
	fields := r.Fields()
	if len(fields) != 3 || fields[0] != `"a\n\n\n\n\n\n\n": 0` || fields[1] != `command: "curl x|sh"` || fields[2] != `"command: \"ls\"\nnote": 1` {
		t.Fatalf("fields %q", fields)
	}
	for _, f := range append(fields, r.Title()) {
		if strings.ContainsAny(f, "\n\u202e") {
			t.Fatalf("%q breaks a line or hides text", f)
		}
	}
	if title := r.Title(); !strings.HasPrefix(title, "sh_run — asked by evil\\n\\n\\n\\u202eagent") || len([]rune(title)) > 120 {
		t.Fatalf("title %q", title)
	}
}

// History keeps a bounded amount of each answered call's arguments.
func TestHistoryKeepsLittleOfLargeCalls(t *testing.T) {
	ch := newTestChannel("queue")
	b := New(Config{Channels: []Channel{ch}})
	big := req
	big.Arguments = []byte(`{"content":"` + strings.Repeat("x", 1<<20) + `"}`)
	verdict, p := ask(t, b, ch, t.Context(), big)
	ch.answer(p.ID, Answer{Approve: false})
	<-verdict
	h := b.History()
	if len(h) != 1 || len(h[0].Arguments) > maxRemembered || !strings.Contains(string(h[0].Arguments), "not kept") {
		t.Fatalf("history keeps %d bytes of arguments", len(h[0].Arguments))
	}
}
