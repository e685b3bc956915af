package cli

import (
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/atomicfile"
)

func auditCommands() []Command {
	return []Command{
		{Name: "audit list", JSON: true, Args: "[--vault VAULT] [--limit N]", Run: auditList, Summary: "the newest audit records"},
		{Name: "audit export", Args: "--format jsonl|csv [--out FILE] [--vault VAULT]", Run: auditExport, Summary: "the audit log as JSON Lines or CSV"},
	}
}

func auditList(fs *flag.FlagSet) func(c *Call) error {
	vault := fs.String("vault", "", "only this vault")
	limit := fs.Int("limit", 50, "newest N records (0: all)")
	return func(c *Call) error {
		if *limit < 0 {
			return c.Usage("--limit must be 0 or more")
		}
		return withAPI(c, func(av api.API) error {
			recs, err := av.AuditList(c.Ctx, *vault, *limit)
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
			fmt.Fprintln(tw, "SEQ\tTIME\tVAULT\tTOOL\tDECISION\tPHASE\tOUTCOME\tCHANNEL\tMS\tERROR")
			for _, r := range recs {
				fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Seq, r.Time.Local().Format("2006-01-02 15:04:05"),
					r.Vault, r.Tool, r.Decision, r.Phase, r.Outcome, r.Channel, r.DurationMS, r.Error)
			}
			return tw.Flush()
		})
	}
}

func auditExport(fs *flag.FlagSet) func(c *Call) error {
	format := fs.String("format", "", "jsonl or csv")
	outFile := fs.String("out", "", "file to write (default: standard output)")
	vault := fs.String("vault", "", "only this vault")
	return func(c *Call) error {
		if *format != api.JSONL && *format != api.CSV {
			return c.Usage("--format must be jsonl or csv")
		}
		return withAPI(c, func(av api.API) error {
			if *outFile == "" {
				return av.AuditExport(c.Ctx, c.Out(), *format, *vault)
			}
			return atomicfile.Write(*outFile, 0o600, func(w io.Writer) error { return av.AuditExport(c.Ctx, w, *format, *vault) })
		})
	}
}
