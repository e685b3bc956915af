package approval

import (
	"slices"
	"strings"
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
