package app

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

// QueueChannel is how answers given in the window are recorded.
const QueueChannel = "queue"

func (u *UI) approvalsView() fyne.CanvasObject {
	q, err := u.snap.approvals, u.snap.approvalsErr
	if err != nil {
		return errorView(err)
	}
	pending := container.NewVBox()
	if len(q.Pending) == 0 {
		pending.Add(widget.NewLabel("No calls are waiting for approval."))
	}
	for _, p := range q.Pending {
		pending.Add(u.approvalCard(p))
	}
	recent := container.NewVBox()
	for _, r := range q.Recent {
		recent.Add(widget.NewLabel(resolvedLine(r)))
	}
	if len(q.Recent) == 0 {
		recent.Add(widget.NewLabel("Nothing answered yet."))
	}
	return container.NewVScroll(container.NewVBox(
		bold("Waiting for you"),
		pending,
		widget.NewSeparator(),
		bold("Recent answers"),
		recent,
	))
}

// approvalCard shows one pending call with the four answers.
func (u *UI) approvalCard(p api.Pending) fyne.CanvasObject {
	return widget.NewCard(p.Title(), p.Code+" · "+remaining(u.cfg.Now(), p.Deadline), u.answerBox(p, nil))
}

// answerBox is the complete arguments and the four answers; after is
// called once an answer was accepted (the prompt window closes itself with
// it).
func (u *UI) answerBox(p api.Pending, after func()) fyne.CanvasObject {
	reason := widget.NewEntry()
	reason.SetPlaceHolder("Reason for a denial (optional, told to the agent)")
	whole := true // this window shows every argument before any answer
	answer := func(a api.Answer) {
		a.Channel, a.ArgsDigest, a.WholeCall = QueueChannel, p.ArgsDigest, &whole
		done := func() {}
		if after != nil {
			done = after
		}
		u.do(func() error { _, err := u.cfg.API.AnswerApproval(context.Background(), p.ID, a); return err }, done)
	}
	approve := widget.NewButton("Approve once", func() { answer(api.Answer{Approve: true, Scope: api.Once}) })
	approve.Importance = widget.HighImportance
	session := widget.NewButton("Approve "+api.SessionLabel, func() { answer(api.Answer{Approve: true, Scope: api.Session}) })
	always := widget.NewButton("Always allow", func() { answer(api.Answer{Approve: true, Scope: api.Always}) })
	deny := widget.NewButton("Deny", func() { answer(api.Answer{Reason: reason.Text}) })
	deny.Importance = widget.DangerImportance
	buttons := container.NewHBox(approve, always, deny)
	if p.Flow != "" { // once or for this session only
		buttons = container.NewHBox(approve, deny)
	}
	box := container.NewVBox()
	if about := p.About(); len(about) > 0 {
		l := widget.NewLabel(strings.Join(about, "\n"))
		l.Wrapping = fyne.TextWrapWord
		box.Add(l)
	}
	box.Objects = append(box.Objects, argumentsView(p.Request), reason, buttons, session)
	return box
}

// argumentsView shows a call's complete arguments, scrolling when long:
// nothing is cut.
func argumentsView(r api.Request) fyne.CanvasObject {
	args := widget.NewLabel(r.PrettyArguments())
	args.TextStyle = fyne.TextStyle{Monospace: true}
	args.Wrapping = fyne.TextWrapBreak
	scroll := container.NewVScroll(args)
	scroll.SetMinSize(fyne.NewSize(0, min(args.MinSize().Height, 240)))
	return container.NewVBox(widget.NewLabel(fmt.Sprintf("Arguments (all %d fields):", len(r.Fields()))), scroll)
}

func resolvedLine(r api.Resolved) string {
	return fmt.Sprintf("%s  %s in %s: %s by %s", r.At.Local().Format("15:04:05"), r.Tool, r.Vault, r.Outcome, r.Answer.Channel)
}

// Prompt opens a small window for p with the whole call and the four
// answers, and returns what closes it (the call was answered elsewhere).
// It is the approval channel where notifications cannot carry buttons,
// and what a notification too small for a call opens (Review). Answers
// count as the in-app queue.
func (u *UI) Prompt(p api.Pending) (withdraw func()) {
	var w fyne.Window
	var closeOnce sync.Once
	// The window closes when answered here and when withdrawn; once.
	closeWindow := func() {
		closeOnce.Do(func() {
			if w != nil {
				w.Close()
			}
		})
	}
	fyne.Do(func() {
		w = u.app.NewWindow("Approve? " + p.Code)
		w.SetContent(container.NewVBox(
			bold(p.Title()),
			u.answerBox(p, closeWindow),
		))
		w.Show()
		w.RequestFocus()
	})
	return func() { fyne.Do(closeWindow) }
}

// Review opens the prompt window for p: what a notification too small for
// a call sends the user to.
func (u *UI) Review(p api.Pending) { u.Prompt(p) }
