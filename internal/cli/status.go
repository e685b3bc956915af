package cli

import (
	"errors"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/control"
)

// statusReport is what `agentvault status --json` prints.
type statusReport struct {
	Running  bool              `json:"running"`
	PID      int               `json:"pid,omitempty"`
	URL      string            `json:"url,omitempty"`
	Data     string            `json:"data"`
	Vaults   int               `json:"vaults"`
	Sessions int               `json:"sessions"`
	Pending  int               `json:"pending"`
	Paused   bool              `json:"paused"`
	Services []api.ServiceInfo `json:"services"`
	// Bypassing says which MCP clients reach servers directly, skipping
	// every vault.
	Bypassing []string `json:"bypassing,omitempty"`
}

// statusCommand says whether AgentVault runs on the data folder, where,
// and how its vaults, agents, approvals and services are.
func statusCommand(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		dir, err := c.Dir()
		if err != nil {
			return err
		}
		out := c.Out()
		r := statusReport{Data: dir, Services: []api.ServiceInfo{}}
		keys, err := Secrets(dir)
		if err != nil {
			return err
		}
		av, err := control.Dial(control.SocketPath(dir), keys)
		switch {
		case errors.Is(err, control.ErrNotRunning):
		case err != nil:
			return err
		default:
			r.Running = true
			if info, ok := control.ReadRunInfo(dir); ok {
				r.PID, r.URL = info.PID, "http://"+info.Listen
			}
			st, err := av.Status(c.Ctx)
			if err != nil {
				return err
			}
			r.Vaults, r.Sessions, r.Pending, r.Paused = st.Vaults, st.Sessions, st.Pending, st.Paused
			if r.Services, err = av.Services(c.Ctx); err != nil {
				return err
			}
			if p, err := UserPlaces(); err == nil {
				found, _ := av.ScanClients(c.Ctx, p)
				r.Bypassing = bypassing(found)
			}
		}
		if c.JSON {
			return printJSON(out, r)
		}
		if !r.Running {
			fmt.Fprintf(out, "AgentVault is not running (data folder %s): start it with `agentvault` (or `agentvault serve`).\n", dir)
			return nil
		}
		fmt.Fprintf(out, "AgentVault is running: pid %d, serving %s, data folder %s.\n", r.PID, r.URL, dir)
		fmt.Fprintf(out, "%d vaults, %d connected agent sessions, %d calls waiting for approval.\n", r.Vaults, r.Sessions, r.Pending)
		if r.Paused {
			fmt.Fprintln(out, "All agents are paused.")
		}
		if len(r.Services) > 0 {
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "\nSERVICE\tSTATUS")
			for _, s := range r.Services {
				fmt.Fprintf(tw, "%s\t%s\n", s.Name, s.Status)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
		}
		for _, line := range r.Bypassing {
			fmt.Fprintln(out, "\nWarning: "+line)
		}
		return nil
	}
}
