package audit

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"
)

// Formats Export writes.
const (
	JSONL = "jsonl"
	CSV   = "csv"
)

// csvHeader is the column order of CSV exports.
var csvHeader = []string{"time", "seq", "vault_id", "vault", "client", "service", "tool", "decision",
	"outcome", "channel", "args_digest", "duration_ms", "error", "phase", "call_id", "rule", "approver", "whole_call", "args"}

// Export writes the rows f selects, oldest first, as JSON Lines or CSV.
func (l *Log) Export(w io.Writer, format string, f Filter) error {
	switch format {
	case JSONL:
		enc := json.NewEncoder(w)
		return l.Scan(f, func(r Record) error { return enc.Encode(r) })
	case CSV:
		cw := csv.NewWriter(w)
		if err := cw.Write(csvHeader); err != nil {
			return err
		}
		err := l.Scan(f, func(r Record) error {
			return cw.Write([]string{r.Time.Format(time.RFC3339Nano), strconv.FormatUint(r.Seq, 10), r.VaultID, r.Vault,
				r.Client, r.Service, r.Tool, r.Decision, r.Outcome, r.Channel, r.ArgsDigest,
				strconv.FormatInt(r.DurationMS, 10), r.Error, string(r.Phase), r.CallID, r.Rule, r.Approver, wholeCall(r.WholeCall), r.Args})
		})
		cw.Flush()
		if err != nil {
			return err
		}
		return cw.Error()
	}
	return fmt.Errorf("unknown export format %q (want jsonl or csv)", format)
}

// wholeCall renders Record.WholeCall for CSV: "" when no person answered.
func wholeCall(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}
