package main

import (
	"context"
	"fmt"
	"io"

	"github.com/agentvault/agentvault/internal/api"
)

// cmdSettings shows and changes the limits that keep one agent from
// starving the others.
func cmdSettings(args []string, out io.Writer) error {
	c := newCommand("settings", true)
	var l api.Limits
	c.fs.IntVar(&l.MaxPending, "max-pending", 0, "calls of one vault that may wait for approval at once (default 16)")
	c.fs.IntVar(&l.MaxSessions, "max-sessions", 0, "sessions one vault may have open; the one idle longest ends first (default 256)")
	c.fs.DurationVar(&l.BodyTimeout, "body-timeout", 0, "how long a request's body may take to arrive (default 30s)")
	_, av, done, err := c.open(args, 0, "[--max-pending N] [--max-sessions N] [--body-timeout DURATION] [--json]")
	if err != nil {
		return err
	}
	defer done()
	ctx := context.Background()
	if l != (api.Limits{}) {
		if err := av.SetLimits(ctx, l); err != nil {
			return err
		}
	}
	cur, err := av.Limits(ctx)
	if err != nil {
		return err
	}
	if c.jsonOut() {
		return printJSON(out, cur)
	}
	fmt.Fprintf(out, "Per vault:\n  calls waiting for approval at once: %d\n  open sessions: %d\n  time to send a request: %s\n",
		cur.MaxPending, cur.MaxSessions, cur.BodyTimeout)
	return nil
}
