package approval

import (
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestPromptsShowHintsAndWhyDataFlowAsks(t *testing.T) {
	yes, no := true, false
	r := Request{Tool: "slack_post_message",
		Flow:  "this session read private data with gmail_get_message at 10:42; slack_post_message can send it out",
		Hints: Hints{Description: "Post a message.\nSecond line never shows.", ReadOnly: &no, Destructive: &no, OpenWorld: &yes}}
	r.Hints.Description = DescriptionLine(r.Hints.Description)
	want := []string{
		"Data flow: this session read private data with gmail_get_message at 10:42; slack_post_message can send it out.",
		"Post a message.",
		"Tool: changes data · not destructive · reaches outside",
	}
	if got := r.About(); !slices.Equal(got, want) {
		t.Fatalf("about:\n%q\nwant\n%q", got, want)
	}
	if s := r.Hints.Short(); s != "write,open" {
		t.Fatalf("short %q", s)
	}

	up := Hints{ReadOnly: &yes, Declared: true, Reviewed: time.Date(2026, 12, 1, 9, 0, 0, 0, time.Local)}
	line := up.Line()
	for _, part := range []string{"read-only", "may destroy (undeclared)", "may reach outside (undeclared)", "as the service declares", "reviewed by you 2026-12-01 09:00"} {
		if !strings.Contains(line, part) {
			t.Errorf("%q lacks %q", line, part)
		}
	}
	if s := up.Short(); s != "read,open" {
		t.Fatalf("an undeclared open world is open: %q", s)
	}
	if (Request{}).About() != nil || (Hints{}).Short() != "" {
		t.Fatal("a request without hints shows some")
	}
	if d := DescriptionLine("Post \u202eevil"); !strings.Contains(d, `\u202e`) {
		t.Fatalf("a hidden character in a description is not shown: %q", d)
	}
}

// A data-flow request is covered only by a session grant whose prompt was
// shown after the session read private data: not by an earlier grant, nor
// by a prompt opened before the read and answered after it. Always is
// refused for it.
func TestDataFlowRequestsNeedAGrantShownAfterTheSource(t *testing.T) {
	ch := newTestChannel("queue")
	var clock atomic.Int64
	clock.Store(time.Unix(1000, 0).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	b := New(Config{Channels: []Channel{ch}, Now: now, Policy: &policyRecorder{}})
	sink := Request{VaultID: "v1", Vault: "work", Session: "s1", Tool: "slack_post_message", ArgsDigest: "d"}

	// A prompt opened before the source call, answered after it.
	verdict, p := ask(t, b, ch, t.Context(), sink)
	clock.Add(int64(time.Second))
	read := now() // the source call's intent
	clock.Add(int64(time.Second))
	ch.answer(p.ID, Answer{Approve: true, Scope: Session})
	<-verdict
	if !b.Granted(sink) {
		t.Fatal("the session grant does not hold for plain requests")
	}
	flow := sink
	flow.Flow, flow.FlowSince = "this session read private data with gmail_get_message at 10:42; slack_post_message can send it out", read
	if b.Granted(flow) {
		t.Fatal("a grant shown before the source call covers a data-flow request")
	}

	verdict, p = ask(t, b, ch, t.Context(), flow)
	if err := ch.answer(p.ID, Answer{Approve: true, Scope: Always}); !errors.Is(err, ErrFlowAlways) {
		t.Fatalf("always on a data-flow prompt: %v", err)
	}
	clock.Add(int64(time.Second))
	ch.answer(p.ID, Answer{Approve: true, Scope: Session})
	if v := <-verdict; !v.Approved {
		t.Fatalf("verdict %+v", v)
	}
	if !b.Granted(flow) {
		t.Fatal("a grant from the data-flow prompt does not cover the next one")
	}
}
