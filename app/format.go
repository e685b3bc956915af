package app

import (
	"fmt"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/widget"
	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// decisionLabels are the words the GUI uses for decisions.
var decisionLabels = map[policy.Decision]string{
	policy.Allow:   "Allow",
	policy.Approve: "Require approval",
	policy.Block:   "Block",
}

var labelDecisions = map[string]policy.Decision{
	"Allow": policy.Allow, "Require approval": policy.Approve, "Block": policy.Block,
}

// decisionOptions lists the decision labels from most to least permissive.
var decisionOptions = []string{"Allow", "Require approval", "Block"}

// statusLine is the tray's first line.
func statusLine(s api.Status) string {
	if s.Paused {
		return "Paused: every tool call is refused"
	}
	return fmt.Sprintf("%s · %s · %s", api.Plural(s.Vaults, "vault"), api.Plural(s.Sessions, "connected agent"), api.Plural(s.Pending, "pending approval"))
}

// remaining renders the time left until deadline, in whole seconds.
func remaining(now, deadline time.Time) string {
	d := deadline.Sub(now).Round(time.Second)
	if d <= 0 {
		return "expired"
	}
	return d.String() + " left"
}

// presetLabel turns a preset name (read-only) into a button label (Read-only).
func presetLabel(name string) string {
	s := strings.ReplaceAll(name, "-", " ")
	if s == "read only" {
		return "Read-only"
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// durationText says a duration in words: "2 minutes", "30 seconds".
func durationText(d time.Duration) string {
	switch {
	case d%time.Hour == 0:
		return api.Plural(int(d/time.Hour), "hour")
	case d%time.Minute == 0:
		return api.Plural(int(d/time.Minute), "minute")
	}
	return api.Plural(int(d/time.Second), "second")
}

// bold is a heading label.
func bold(s string) *widget.Label {
	return widget.NewLabelWithStyle(s, fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
}
