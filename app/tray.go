package app

import (
	"context"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/driver/desktop"

	"github.com/agentvault/agentvault/internal/api"
)

// trayAction is what a tray item does.
type trayAction int

const (
	trayNone trayAction = iota
	trayOpen
	trayApprovals
	trayPause
	trayResume
	trayQuit
)

// trayItem is one line of the tray menu; a zero item is a separator.
type trayItem struct {
	Label    string
	Disabled bool
	Action   trayAction
}

// maxTrayApprovals bounds the pending calls listed in the tray.
const maxTrayApprovals = 5

// trayItems is the tray menu for a status and the pending calls: a pure
// function, so the menu is tested without a tray.
func trayItems(s api.Status, pending []api.Pending) []trayItem {
	items := []trayItem{{Label: statusLine(s), Disabled: true}}
	for i, p := range pending {
		if i == maxTrayApprovals {
			items = append(items, trayItem{Label: api.Plural(len(pending)-i, "more approval") + "…", Action: trayApprovals})
			break
		}
		items = append(items, trayItem{Label: "Approve? " + p.Tool + " (" + p.Vault + ") " + p.Code, Action: trayApprovals})
	}
	items = append(items, trayItem{}, trayItem{Label: "Open AgentVault", Action: trayOpen})
	if s.Paused {
		items = append(items, trayItem{Label: "Resume all agents", Action: trayResume})
	} else {
		items = append(items, trayItem{Label: "Pause all agents", Action: trayPause})
	}
	return append(items, trayItem{}, trayItem{Label: "Quit", Action: trayQuit})
}

func (u *UI) installTray() {
	d, ok := u.app.(desktop.App)
	if !ok {
		return
	}
	u.tray = true
	u.refreshTray()
	d.SetSystemTrayIcon(TrayIcon)
}

// refreshTray rebuilds the tray menu from the core's state.
func (u *UI) refreshTray() {
	d, ok := u.app.(desktop.App)
	if !ok || !u.tray {
		return
	}
	if u.snap.statusErr != nil || u.snap.approvalsErr != nil {
		return
	}
	d.SetSystemTrayMenu(u.trayMenu(trayItems(u.snap.status, u.snap.approvals.Pending)))
}

func (u *UI) trayMenu(items []trayItem) *fyne.Menu {
	var menu []*fyne.MenuItem
	for _, it := range items {
		if it.Label == "" {
			menu = append(menu, fyne.NewMenuItemSeparator())
			continue
		}
		mi := fyne.NewMenuItem(it.Label, u.trayHandler(it.Action))
		mi.Disabled = it.Disabled
		if it.Action == trayQuit {
			mi.IsQuit = true
		}
		menu = append(menu, mi)
	}
	return fyne.NewMenu("AgentVault", menu...)
}

func (u *UI) trayHandler(a trayAction) func() {
	switch a {
	case trayOpen:
		return u.Show
	case trayApprovals:
		return func() { u.ShowTab("Approvals") }
	case trayPause:
		return func() { u.do(func() error { return u.cfg.API.SetPaused(context.Background(), true) }) }
	case trayResume:
		return func() { u.do(func() error { return u.cfg.API.SetPaused(context.Background(), false) }) }
	case trayQuit:
		return u.cfg.Quit
	}
	return nil
}
