package main

import (
	"strings"
	"testing"
)

// FuzzCommandLine feeds arbitrary argument lists to the flag parsing every
// subcommand uses: it must answer with a usage error or succeed, never panic.
func FuzzCommandLine(f *testing.F) {
	f.Add("vault create work --service fs --service git --approval-timeout 2m --json")
	f.Add("vault policy work fs_* block")
	f.Add("audit list --limit -1 --vault")
	f.Add("--data")
	f.Add("approvals approve --session --always x")
	f.Fuzz(func(t *testing.T, line string) {
		c := newCommand("fuzz", true)
		var services stringList
		c.fs.Var(&services, "service", "")
		c.fs.Duration("approval-timeout", 0, "")
		c.fs.Int("limit", 0, "")
		c.fs.Bool("session", false, "")
		pos, err := c.parse(strings.Fields(line), 2, "A B")
		if err == nil && len(pos) != 2 {
			t.Fatalf("parse accepted %d positional arguments, want 2", len(pos))
		}
		if _, ok := err.(usageError); err != nil && !ok {
			t.Fatalf("parse error %T is not a usage error", err)
		}
	})
}
