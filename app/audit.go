package app

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

// auditFilter is what the audit view shows; zero values select everything.
type auditFilter struct {
	vault, service, outcome string
	since                   time.Duration
}

const all = "All"

var sinceOptions = []struct {
	label string
	d     time.Duration
}{{all, 0}, {"Last hour", time.Hour}, {"Last 24 hours", 24 * time.Hour}, {"Last 7 days", 7 * 24 * time.Hour}}

// auditLimit bounds how many records the view reads.
const auditLimit = 1000

// filterRecords keeps the records f selects, newest first.
func filterRecords(recs []api.AuditRecord, f auditFilter, now time.Time) []api.AuditRecord {
	var out []api.AuditRecord
	for _, r := range recs {
		switch {
		case f.vault != "" && r.Vault != f.vault,
			f.service != "" && r.Service != f.service,
			f.outcome != "" && r.Outcome != f.outcome,
			f.since > 0 && r.Time.Before(now.Add(-f.since)):
			continue
		}
		out = append(out, r)
	}
	slices.Reverse(out)
	return out
}

// recordLine is one record in the list.
func recordLine(r api.AuditRecord) string {
	line := fmt.Sprintf("%s  %-10s %-28s %-8s %-10s", r.Time.Local().Format("01-02 15:04:05"), r.Vault, r.Tool, r.Decision, r.Outcome)
	if r.Channel != "" && r.Channel != "policy" {
		line += " via " + r.Channel
	}
	if r.Error != "" {
		line += " — " + r.Error
	}
	return line
}

// choices returns "All" followed by the distinct values of field.
func choices(recs []api.AuditRecord, field func(api.AuditRecord) string) []string {
	seen := map[string]bool{}
	var out []string
	for _, r := range recs {
		if v := field(r); v != "" && !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return append([]string{all}, out...)
}

func (u *UI) auditView() fyne.CanvasObject {
	recs, err := u.snap.records, u.snap.recordsErr
	if err != nil {
		return errorView(err)
	}
	shown := filterRecords(recs, u.auditFilter, u.cfg.Now())
	pick := func(options []string, current string, set func(string)) *widget.Select {
		s := widget.NewSelect(options, nil)
		if current == "" {
			current = all
		}
		s.SetSelected(current)
		s.OnChanged = func(v string) {
			if v == all {
				v = ""
			}
			set(v)
			u.redraw()
		}
		return s
	}
	vault := pick(choices(recs, func(r api.AuditRecord) string { return r.Vault }), u.auditFilter.vault, func(v string) { u.auditFilter.vault = v })
	service := pick(choices(recs, func(r api.AuditRecord) string { return r.Service }), u.auditFilter.service, func(v string) { u.auditFilter.service = v })
	outcome := pick([]string{all, api.Executed, api.Approved, api.Denied, api.Blocked, api.Timeout, api.Cancelled, api.Failed,
		api.RateLimited, api.Running, api.Interrupted},
		u.auditFilter.outcome, func(v string) { u.auditFilter.outcome = v })
	var sinceLabels []string
	current := all
	for _, o := range sinceOptions {
		sinceLabels = append(sinceLabels, o.label)
		if o.d == u.auditFilter.since {
			current = o.label
		}
	}
	since := widget.NewSelect(sinceLabels, nil)
	since.SetSelected(current)
	since.OnChanged = func(label string) {
		for _, o := range sinceOptions {
			if o.label == label {
				u.auditFilter.since = o.d
			}
		}
		u.redraw()
	}
	export := widget.NewButtonWithIcon("Export…", theme.DocumentSaveIcon(), u.exportAudit)

	list := widget.NewList(
		func() int { return len(shown) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.TextStyle = fyne.TextStyle{Monospace: true}
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(recordLine(shown[i])) },
	)
	list.OnSelected = func(i widget.ListItemID) {
		dialog.ShowInformation(fmt.Sprintf("Audit record %d", shown[i].Seq), recordDetail(shown[i]), u.win)
		list.UnselectAll()
	}
	filters := container.NewHBox(widget.NewLabel("Vault"), vault, widget.NewLabel("Service"), service,
		widget.NewLabel("Outcome"), outcome, widget.NewLabel("Time"), since, export)
	count := widget.NewLabel(fmt.Sprintf("%d of the newest %d records", len(shown), len(recs)))
	return container.NewBorder(container.NewVBox(filters, count), nil, nil, nil, list)
}

// recordDetail renders every field of a record.
func recordDetail(r api.AuditRecord) string {
	var b strings.Builder
	field := func(k, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, v)
		}
	}
	field("Time", r.Time.Local().Format(time.RFC3339))
	field("Call", r.CallID)
	field("Phase", string(r.Phase))
	field("Vault", r.Vault+" ("+r.VaultID+")")
	field("Agent", r.Client)
	field("Tool", r.Tool)
	field("Decision", r.Decision+" by "+r.Rule)
	field("Outcome", r.Outcome)
	field("Answered by", r.Channel)
	field("Arguments", r.Args)
	field("Arguments digest", r.ArgsDigest)
	field("Duration", fmt.Sprintf("%d ms", r.DurationMS))
	field("Error", r.Error)
	return b.String()
}

// exportTo writes the whole audit log to w in the format name asks for:
// CSV for a .csv name, JSON Lines otherwise.
func (u *UI) exportTo(w io.Writer, name string) error {
	format := api.JSONL
	if strings.EqualFold(filepath.Ext(name), ".csv") {
		format = api.CSV
	}
	return u.cfg.API.AuditExport(context.Background(), w, format, api.AuditQuery{})
}

// exportAudit saves the whole log through a file dialog; the format follows
// the file name (.csv, else JSON Lines).
func (u *UI) exportAudit() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		defer w.Close()
		if err := u.exportTo(w, w.URI().Name()); err != nil {
			u.showError(err)
		}
	}, u.win)
	d.SetFileName("agentvault-audit.jsonl")
	d.Show()
}
