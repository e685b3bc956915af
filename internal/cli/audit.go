package cli

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/atomicfile"
)

func auditCommands() []Command {
	return []Command{
		{Name: "audit list", JSON: true, Args: "[--vault VAULT] [--limit N] [--phases]", Run: auditList, Summary: "the newest calls, one row each"},
		{Name: "audit export", Args: "--format jsonl|csv [--out FILE] [--vault VAULT] [--phases]", Run: auditExport, Summary: "the audit log as JSON Lines or CSV, one row per call"},
	}
}

func auditList(fs *flag.FlagSet) func(c *Call) error {
	vault := fs.String("vault", "", "only this vault (also one deleted, whose records remain)")
	limit := fs.Int("limit", 50, "newest N rows (0: all)")
	phases := fs.Bool("phases", false, "the records as written: a call that ran has an intent and an outcome")
	return func(c *Call) error {
		if *limit < 0 {
			return c.Usage("--limit must be 0 or more")
		}
		return withAPI(c, func(av api.API) error {
			recs, err := av.AuditList(c.Ctx, api.AuditQuery{Vault: *vault, Limit: *limit, Phases: *phases})
			if err != nil {
				return err
			}
			if c.JSON {
				if recs == nil {
					recs = []api.AuditRecord{}
				}
				return printJSON(c.Out(), recs)
			}
			tw := tabwriter.NewWriter(c.Out(), 0, 4, 2, ' ', 0)
			if *phases {
				fmt.Fprintln(tw, "SEQ\tPHASE\tTIME\tVAULT\tCLIENT\tTOOL\tDECISION\tOUTCOME\tCHANNEL\tMS\tARGUMENTS\tERROR")
			} else {
				fmt.Fprintln(tw, "TIME\tVAULT\tCLIENT\tTOOL\tDECISION\tOUTCOME\tCHANNEL\tMS\tARGUMENTS\tERROR")
			}
			for _, r := range recs {
				if *phases {
					fmt.Fprintf(tw, "%d\t%s\t", r.Seq, r.Phase)
				}
				channel := r.Channel
				if r.Approver != "" {
					channel += " (" + r.Approver + ")"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Time.Local().Format("2006-01-02 15:04:05"),
					r.Vault, cell(api.Label(r.Client)), r.Tool, r.Decision, r.Outcome, channel, r.DurationMS, cell(r.Args), cell(r.Error))
			}
			return tw.Flush()
		})
	}
}

// cell is text for one table cell: on one line, and short.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

func auditExport(fs *flag.FlagSet) func(c *Call) error {
	format := fs.String("format", "", "jsonl or csv")
	outFile := fs.String("out", "", "file to write (default: standard output)")
	vault := fs.String("vault", "", "only this vault (also one deleted, whose records remain)")
	phases := fs.Bool("phases", false, "the records as written: a call that ran has an intent and an outcome")
	return func(c *Call) error {
		if *format != api.JSONL && *format != api.CSV {
			return c.Usage("--format must be jsonl or csv")
		}
		q := api.AuditQuery{Vault: *vault, Phases: *phases}
		return withAPI(c, func(av api.API) error {
			if *outFile == "" {
				return av.AuditExport(c.Ctx, c.Out(), *format, q)
			}
			return atomicfile.Write(*outFile, 0o600, func(w io.Writer) error { return av.AuditExport(c.Ctx, w, *format, q) })
		})
	}
}
