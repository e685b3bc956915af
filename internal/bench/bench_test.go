package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestLegsSplitACallAtItsHandlers(t *testing.T) {
	var outer, inner stamps
	start := time.Unix(0, 1000)
	outer.in.Store(1100)
	inner.in.Store(1300)
	inner.out.Store(1600)
	outer.out.Store(1650)
	l := newLegs(&outer, &inner)
	l.add(start, time.Unix(0, 1700))
	want := []time.Duration{100, 200, 300, 50, 50}
	for i, w := range want {
		if got := l.parts[i][0]; got != w {
			t.Errorf("part %d = %v, want %v", i, got, w)
		}
	}
	var out bytes.Buffer
	l.print(&out, "via", "a", "b", "c", "d", "e")
	if got := out.String(); !strings.Contains(got, "a 0µs · b 0µs · c 0µs") || !strings.HasPrefix(strings.TrimSpace(got), "via") {
		t.Errorf("printed %q", got)
	}
}

func TestCPUShareCountsBusyTime(t *testing.T) {
	var c cpuShare
	if _, _, ok := cpuTicks(); !ok {
		if c.busy() != -1 {
			t.Fatal("an unknown share must read -1")
		}
		return // no /proc/stat here
	}
	c.during(func() (int, error) {
		for end := time.Now().Add(50 * time.Millisecond); time.Now().Before(end); {
		}
		return 0, nil
	})
	if b := c.busy(); b <= 0 || b > 1 {
		t.Fatalf("busy share while spinning = %v", b)
	}
}

// TestRunReport runs the whole benchmark at its smallest and checks that the
// report has each of its parts, with the summary last.
func TestRunReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole benchmark")
	}
	var out bytes.Buffer
	if err := Run(context.Background(), Config{Rounds: 1, Calls: 10, Duration: 200 * time.Millisecond}, &out); err != nil {
		t.Fatal(err)
	}
	report := out.String()
	for _, part := range []string{
		"durable audit record", "tools/call, concurrency 1", "p50, 2025-11-25 sessions",
		"via vault agent→vault", "calls/s, 8 session(s)", "100 tools, 50 vaults",
	} {
		if !strings.Contains(report, part) {
			t.Errorf("report lacks %q:\n%s", part, report)
		}
	}
	lines := strings.Split(strings.TrimSpace(report), "\n")
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, "summary: call p50 +") {
		t.Errorf("last line %q is not the summary", last)
	}
}
