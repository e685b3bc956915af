package app

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/layout"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// tokenPlaceholder stands in for a token that is no longer known: only its
// hash is stored.
const tokenPlaceholder = "<TOKEN>"

func (u *UI) vaultsView() fyne.CanvasObject {
	if u.wizard != nil {
		return u.wizard.view()
	}
	vaults, err := u.snap.vaults, u.snap.vaultsErr
	if err != nil {
		return errorView(err)
	}
	newVault := widget.NewButtonWithIcon("New vault", theme.ContentAddIcon(), u.startWizard)
	newVault.Importance = widget.HighImportance
	if len(vaults) == 0 {
		return container.NewCenter(container.NewVBox(
			widget.NewLabelWithStyle("No vaults yet", fyne.TextAlignCenter, fyne.TextStyle{Bold: true}),
			widget.NewLabel("A vault gives one agent its own URL, token and tool permissions."),
			newVault,
		))
	}
	if !slices.ContainsFunc(vaults, func(v api.VaultInfo) bool { return v.ID == u.selected }) {
		u.selected = vaults[0].ID
	}
	list := widget.NewList(
		func() int { return len(vaults) },
		func() fyne.CanvasObject { return widget.NewLabel("vault name") },
		func(i widget.ListItemID, o fyne.CanvasObject) { o.(*widget.Label).SetText(vaults[i].Name) },
	)
	for i, v := range vaults {
		if v.ID == u.selected {
			list.Select(i)
		}
	}
	list.OnSelected = func(i widget.ListItemID) {
		if vaults[i].ID != u.selected {
			u.selected = vaults[i].ID
			u.refreshLater()
		}
	}
	left := container.NewBorder(nil, newVault, nil, nil, list)
	split := container.NewHSplit(left, u.vaultDetail(u.selected))
	split.Offset = 0.22
	return split
}

func (u *UI) vaultDetail(id string) fyne.CanvasObject {
	if u.snap.detailFor != id {
		return widget.NewLabel("Loading…") // the snapshot of this vault is on its way
	}
	d, err := u.snap.detail, u.snap.detailErr
	if err != nil {
		return errorView(err)
	}
	token, revealed := u.revealed[id]
	if !revealed {
		token = tokenPlaceholder
	}

	url := widget.NewEntry()
	url.SetText(d.URL)
	url.Disable()
	copyURL := widget.NewButtonWithIcon("", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(d.URL) })
	rotate := widget.NewButtonWithIcon("Rotate token", theme.ViewRefreshIcon(), func() {
		dialog.ShowConfirm("Rotate token", "The current token stops working at once and connected agents are disconnected. Continue?", func(ok bool) {
			if ok {
				u.rotate(id)
			}
		}, u.win)
	})
	del := widget.NewButtonWithIcon("Delete vault", theme.DeleteIcon(), func() {
		dialog.ShowConfirm("Delete vault", fmt.Sprintf("Delete vault %q? Its agents lose access at once; its audit records stay.", d.Name), func(ok bool) {
			if ok {
				u.do(func() error { return u.cfg.API.DeleteVault(context.Background(), id) })
			}
		}, u.win)
	})
	del.Importance = widget.DangerImportance

	tokenInfo := widget.NewLabel("The token was shown when the vault was created. Rotate it to get a new one.")
	if revealed {
		tokenInfo = widget.NewLabel("New token (shown only now): " + token)
		tokenInfo.Wrapping = fyne.TextWrapBreak
	}
	buttons := container.NewHBox(rotate, del, widget.NewLabel("Approvals wait"), u.timeoutChoice(d.ID, d.ApprovalTimeout))
	head := container.NewVBox(
		bold(d.Name),
		container.NewBorder(nil, nil, widget.NewLabel("MCP URL"), copyURL, url),
		tokenInfo,
		buttons,
	)
	for _, l := range d.RateLimits {
		head.Add(widget.NewLabel(fmt.Sprintf("Rate limit: %s on %s", l, l.Pattern)))
	}
	if !d.Expires.IsZero() {
		exp := widget.NewLabel(d.ExpiryText(u.cfg.Now()))
		if d.Expired(u.cfg.Now()) {
			exp.Importance = widget.DangerImportance
		}
		head.Add(exp)
		buttons.Add(widget.NewButton("Renew for 24 hours", func() {
			u.do(func() error { return u.cfg.API.SetExpiry(context.Background(), id, u.cfg.Now().Add(24*time.Hour)) })
		}))
	}
	if d.Warning != "" {
		warn := widget.NewLabel("⚠ " + d.Warning)
		warn.Wrapping = fyne.TextWrapWord
		head.Add(warn)
	}
	tabs := container.NewAppTabs(
		container.NewTabItem("Permissions", u.policyMatrix(d)),
		container.NewTabItem("Guards", u.guardsView(d)),
		container.NewTabItem("Data flow", u.flowView(d)),
		container.NewTabItem("Connect an agent", u.setupView(d.Name, d.URL, token)),
	)
	return container.NewBorder(head, nil, nil, nil, tabs)
}

func (u *UI) rotate(id string) {
	var tok string
	u.do(func() (err error) { tok, err = u.cfg.API.RotateToken(context.Background(), id); return err },
		func() { u.revealed[id] = tok })
}

// setupView shows the ready-to-paste setup for each client.
func (u *UI) setupView(vault, url, token string) fyne.CanvasObject {
	text := widget.NewMultiLineEntry()
	text.Wrapping = fyne.TextWrapBreak
	where := widget.NewLabel("")
	runNote := widget.NewLabel("Or start it contained, with the vault its only way to tools:")
	run := readOnlyEntry("")
	show := func(client string) {
		s := u.cfg.API.ClientSetup(context.Background(), client, api.SetupVault{Vault: vault, URL: url, Token: token, Program: u.cfg.Program, Data: u.cfg.DataDir}) // text, made here
		where.SetText(s.Where)
		text.SetText(s.Text)
		run.SetText(s.Run)
		runNote.Hidden, run.Hidden = s.Run == "", s.Run == ""
		runNote.Refresh()
		run.Refresh()
	}
	names := u.snap.clients
	clients := widget.NewSelect(names, show)
	clients.SetSelected(names[0])
	copyBtn := widget.NewButtonWithIcon("Copy", theme.ContentCopyIcon(), func() { u.app.Clipboard().SetContent(text.Text) })
	note := widget.NewLabel("")
	if token == tokenPlaceholder {
		note.SetText("Replace " + tokenPlaceholder + " with the vault's token.")
	}
	return container.NewBorder(container.NewVBox(container.NewHBox(widget.NewLabel("Agent"), clients, copyBtn), where, note), container.NewVBox(runNote, run), nil, nil, text)
}

// policyMatrix lists every tool of every service of the vault with its
// decision, grouped by service, with one-click presets.
func (u *UI) policyMatrix(d api.VaultDetail) fyne.CanvasObject {
	presets := container.NewHBox(widget.NewLabel("Presets:"))
	for _, p := range policy.Presets {
		presets.Add(widget.NewButton(presetLabel(p.Name), func() {
			u.do(func() error { return u.cfg.API.ApplyPreset(context.Background(), d.ID, p.Name) })
		}))
	}
	if len(d.Tools) == 0 {
		return container.NewVBox(widget.NewLabel("This vault's services offer no tools yet."))
	}
	rows := container.NewVBox()
	var service string
	var grid *fyne.Container
	for _, t := range d.Tools {
		if t.Service != service {
			service = t.Service
			// One two-column grid per service keeps the choices aligned.
			grid = container.New(layout.NewFormLayout())
			rows.Add(bold(service))
			rows.Add(grid)
		}
		grid.Add(widget.NewLabel(t.Name))
		grid.Add(u.policyChoice(d.ID, t))
	}
	return container.NewBorder(presets, nil, nil, nil, container.NewVScroll(rows))
}

// policyChoice is one tool's decision and why it has it.
func (u *UI) policyChoice(vault string, t policy.ToolDecision) fyne.CanvasObject {
	choice := widget.NewRadioGroup(decisionOptions, nil)
	choice.Horizontal = true
	choice.Required = true
	choice.SetSelected(decisionLabels[t.Decision])
	choice.OnChanged = func(label string) {
		d, ok := labelDecisions[label]
		if !ok || d == t.Decision {
			return
		}
		u.do(func() error {
			_, err := u.cfg.API.SetRule(context.Background(), vault, api.RuleSpec{Pattern: t.Name, Decision: d})
			return err
		})
	}
	why := widget.NewButton(ruleText(t), func() { u.explain(vault, t.Name) })
	why.Importance = widget.LowImportance
	return container.NewBorder(nil, nil, nil, why, choice)
}

// ruleText says why a tool has its decision.
func ruleText(t policy.ToolDecision) string {
	switch {
	case t.Rule == "default:read-only":
		return "default (read-only)"
	case t.Rule == "default:destructive":
		return "default (destructive)"
	case t.Rule == "default:write":
		return "default (changes things)"
	case strings.Contains(t.Rule, "*"):
		return "rule " + t.Rule
	default:
		return "set for this tool"
	}
}

func errorView(err error) fyne.CanvasObject {
	l := widget.NewLabel(userMessage(err))
	l.Wrapping = fyne.TextWrapWord
	return container.NewCenter(l)
}

// timeouts are the approval timeouts the window offers.
var timeouts = []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute, 10 * time.Minute}

// timeoutChoice picks how long the vault's calls wait for approval.
func (u *UI) timeoutChoice(vault string, current time.Duration) fyne.CanvasObject {
	if current == 0 {
		current = api.DefaultApprovalTimeout
	}
	var labels []string
	for _, t := range timeouts {
		labels = append(labels, t.String())
	}
	sel := widget.NewSelect(labels, nil)
	sel.SetSelected(current.String())
	sel.OnChanged = func(label string) {
		d, err := time.ParseDuration(label)
		if err == nil && d != current {
			u.do(func() error { return u.cfg.API.SetApprovalTimeout(context.Background(), vault, d) })
		}
	}
	return sel
}
