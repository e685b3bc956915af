package cli

import (
	"flag"
	"fmt"

	"github.com/agentvault/agentvault/internal/api"
)

// settingsCommand shows and changes the limits that keep one agent from
// starving the others.
func settingsCommand(fs *flag.FlagSet) func(c *Call) error {
	var l api.Limits
	fs.IntVar(&l.MaxPending, "max-pending", 0, "calls of one vault that may wait for approval at once (default 16)")
	fs.IntVar(&l.MaxSessions, "max-sessions", 0, "sessions one vault may have open; the one idle longest ends first (default 256)")
	fs.DurationVar(&l.BodyTimeout, "body-timeout", 0, "how long a request's body may take to arrive (default 30s)")
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			if l != (api.Limits{}) {
				if err := av.SetLimits(c.Ctx, l); err != nil {
					return err
				}
			}
			cur, err := av.Limits(c.Ctx)
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), cur)
			}
			fmt.Fprintf(c.Out(), "Per vault:\n  calls waiting for approval at once: %d\n  open sessions: %d\n  time to send a request: %s\n",
				cur.MaxPending, cur.MaxSessions, cur.BodyTimeout)
			return nil
		})
	}
}
