package audit

import (
	"cmp"
	"slices"
	"time"
)

// Call is the phase of a row that stands for a whole call: a call that ran
// has an intent and an outcome record, which List and Export merge (unless
// Filter.Phases); a refused call has only its outcome. Rows of other phases
// (an approval answered too late, a tool held for review) stay as written.
const Call Phase = "call"

// Outcomes only a call's row has.
const (
	// Running: the intent is written, the call has not ended yet.
	Running = "running"
	// Interrupted: the intent is written and AgentVault stopped (or
	// crashed) before the call ended.
	Interrupted = "interrupted"
)

// intentSlack is how much earlier than its outcome's start an intent may be
// stamped (clocks read at slightly different moments).
const intentSlack = 2 * time.Second

// calls folds records into one row per call. Its rows are in the order
// calls ended (a running call's row: when it started).
type calls struct {
	opened time.Time
	rows   []Record
	// Newest first: rows whose intent is still to come, by call id, and
	// the time before which it cannot be. Oldest first: intents whose
	// outcome is still to come.
	open     map[string]int
	earliest map[string]time.Time
	intents  map[string]Record
}

func (l *Log) calls() *calls {
	return &calls{opened: l.opened, open: map[string]int{}, earliest: map[string]time.Time{}, intents: map[string]Record{}}
}

// merged is the row of a call that ran: its outcome, stamped with the time
// it started running; run after a person approved it, it says so.
func merged(intent, outcome Record) Record {
	row := outcome
	row.Phase, row.Time = Call, intent.Time
	if row.Outcome == Executed && row.Channel != "" && row.Channel != "policy" {
		row.Outcome = Approved
	}
	return row
}

// unended is the row of a call whose outcome is not in the log.
func (c *calls) unended(intent Record) Record {
	row := intent
	row.Phase, row.Outcome = Call, Running
	if intent.Time.Before(c.opened) {
		row.Outcome = Interrupted
	}
	return row
}

// addNewest adds r, seen newest first.
func (c *calls) addNewest(r Record) {
	switch r.Phase {
	case Outcome:
		r.Phase = Call
		c.rows = append(c.rows, r)
		c.open[r.CallID] = len(c.rows) - 1
		c.earliest[r.CallID] = r.Time.Add(-time.Duration(r.DurationMS)*time.Millisecond - intentSlack)
	case Intent:
		if i, ok := c.open[r.CallID]; ok {
			c.rows[i] = merged(r, c.rows[i])
			c.close(r.CallID)
			return
		}
		c.rows = append(c.rows, c.unended(r))
	default:
		c.rows = append(c.rows, r)
	}
}

// completeNewest takes r, seen newest first once the rows are counted, only
// for the intent of a row already there; it reports whether an intent can
// still come.
func (c *calls) completeNewest(r Record) bool {
	if i, ok := c.open[r.CallID]; ok && r.Phase == Intent {
		c.rows[i] = merged(r, c.rows[i])
		c.close(r.CallID)
	}
	for id, t := range c.earliest {
		if r.Time.Before(t) { // its intent would be here by now: it has none (a refused call)
			c.close(id)
		}
	}
	return c.waiting()
}

// waiting reports whether a row may still get its intent.
func (c *calls) waiting() bool { return len(c.open) > 0 }

func (c *calls) close(id string) {
	delete(c.open, id)
	delete(c.earliest, id)
}

// addOldest takes r, seen oldest first, and returns the row it completes.
func (c *calls) addOldest(r Record) (Record, bool) {
	switch r.Phase {
	case Intent:
		c.intents[r.CallID] = r
		return Record{}, false
	case Outcome:
		if intent, ok := c.intents[r.CallID]; ok {
			delete(c.intents, r.CallID)
			return merged(intent, r), true
		}
		r.Phase = Call
	}
	return r, true
}

// unfinished are the rows of the intents seen oldest first that never got
// an outcome, in the order they started.
func (c *calls) unfinished() []Record {
	out := make([]Record, 0, len(c.intents))
	for _, intent := range c.intents {
		out = append(out, c.unended(intent))
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.Seq, b.Seq) })
	return out
}
