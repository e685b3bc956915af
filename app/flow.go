package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// flowView is a vault's data-flow protection: on or off, and what each
// tool is to it — a source, a sink, both or neither — with checks that
// mark a tool otherwise.
func (u *UI) flowView(d api.VaultDetail) fyne.CanvasObject {
	intro := widget.NewLabel("Data-flow protection: once an agent's session has read private data (a source), " +
		"every tool that can send it out (a sink) waits for your approval for the rest of that session, even where " +
		"the vault allows it. Tools that do not say whether they reach outside count as sinks until you mark them.")
	intro.Wrapping = fyne.TextWrapWord
	on := widget.NewCheck("Protect this vault's data flow", nil)
	on.SetChecked(d.Flow.On)
	on.OnChanged = func(v bool) {
		u.do(func() error { return u.cfg.API.SetFlow(context.Background(), d.ID, api.FlowSpec{On: &v}) })
	}
	grid := container.New(layout.NewGridLayoutWithColumns(4),
		bold("Tool"), bold("Source"), bold("Sink"), bold("Why"))
	for _, t := range d.Tools {
		grid.Add(widget.NewLabel(t.Name))
		grid.Add(u.flowMark(d.ID, t.Name, policy.Source, t.Flow.Source))
		grid.Add(u.flowMark(d.ID, t.Name, policy.Sink, t.Flow.Sink))
		grid.Add(widget.NewLabel(flowWhy(t.Flow)))
	}
	return container.NewBorder(container.NewVBox(intro, on), nil, nil, nil, container.NewVScroll(grid))
}

// flowMark is a check that marks tool as role (or not).
func (u *UI) flowMark(vault, tool string, role policy.Role, is bool) fyne.CanvasObject {
	c := widget.NewCheck("", nil)
	c.SetChecked(is)
	c.OnChanged = func(v bool) {
		u.do(func() error {
			return u.cfg.API.SetFlow(context.Background(), vault, api.FlowSpec{Role: role, Pattern: tool, Is: &v})
		})
	}
	return c
}

// flowWhy says where a tool's roles come from; "unknown" marks a tool that
// declares no openWorldHint.
func flowWhy(r policy.FlowRoles) string {
	var why []string
	if r.Undeclared {
		why = append(why, "unknown: declares no openWorldHint")
	} else if r.SinkWhy != "" {
		why = append(why, r.SinkWhy)
	}
	if r.SourceWhy != "" {
		why = append(why, r.SourceWhy)
	}
	return strings.Join(why, "; ")
}

// explain shows how a call of tool would be decided now, and why.
func (u *UI) explain(vault, tool string) {
	var x policy.Explanation
	u.do(func() (err error) {
		x, err = u.cfg.API.ExplainTool(context.Background(), vault, tool, api.ExplainSpec{})
		return err
	}, func() {
		lines := []string{fmt.Sprintf("A call now: %s (rule %s)", x.Decision, x.Rule), ""}
		for _, r := range x.Reasons {
			lines = append(lines, fmt.Sprintf("%s — %s: %s", r.Kind, r.Verdict, r.Detail))
		}
		text := widget.NewLabel(strings.Join(lines, "\n"))
		text.Wrapping = fyne.TextWrapWord
		d := dialog.NewCustom("Why "+tool+"?", "Close", container.NewVScroll(text), u.win)
		d.Resize(fyne.NewSize(600, 360))
		d.Show()
	})
}
