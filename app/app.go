package app

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

// Config holds what the UI needs.
type Config struct {
	// API is the core; required.
	API api.API
	// Changes subscribes to the core's changes; the window and the tray
	// redraw on each. Nil: they redraw only on their own commands.
	Changes func() (<-chan api.Change, func())
	// DataDir is shown in the settings; with Program (the agentvault
	// program) it starts the stdio bridge in clients' setups.
	DataDir, Program string
	// Places are where the user's MCP clients keep their configs, to find
	// servers that skip AgentVault; zero: not looked for.
	Places api.Places
	// Autostart manages starting at login; nil hides the setting.
	Autostart Autostart
	// Quit ends the application (tray "Quit"); nil: fyne's Quit.
	Quit func()
	// Run runs work that may wait on the core (a command, reading what the
	// window shows) off the UI thread, then then on it; nil: a goroutine,
	// then OnUI. Tests run both at once.
	Run func(work, then func())
	// OnUI runs f on the UI thread; nil: fyne.Do.
	OnUI func(f func())
	// Now; nil: time.Now.
	Now func() time.Time
	// Logger; nil: slog.Default().
	Logger *slog.Logger
	// NoTray says why the desktop shows no tray icon ("": it shows one).
	// Then the window is the app: it says so, and closing it says once that
	// AgentVault keeps running.
	NoTray string
	// Notify shows a desktop notification; nil: none.
	Notify func(title, body string)
}

// UI is the tray and the window.
type UI struct {
	app fyne.App
	cfg Config

	win  fyne.Window // nil until first shown
	tabs *container.AppTabs
	// Each tab is a stack whose single child is rebuilt on refresh.
	vaultsTab, approvalsTab, servicesTab, auditTab, settingsTab *fyne.Container

	tray        bool     // the tray menu is installed
	toldRunning bool     // the window was closed without a tray, and the user told
	snap        snapshot // what the views show
	refreshing  bool     // a snapshot is being read
	again       bool     // and another was asked for meanwhile
	selected    string   // id of the vault shown in detail
	revealed    map[string]string
	wizard      *wizard
	auditFilter auditFilter
	stop        func()
}

// New builds the UI; nothing is shown until Start or Show.
func New(a fyne.App, cfg Config) *UI {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Quit == nil {
		cfg.Quit = a.Quit
	}
	if cfg.OnUI == nil {
		cfg.OnUI = fyne.Do
	}
	if cfg.Run == nil {
		onUI := cfg.OnUI
		cfg.Run = func(work, then func()) {
			go func() {
				work()
				onUI(then)
			}()
		}
	}
	return &UI{app: a, cfg: cfg, revealed: map[string]string{}}
}

// Start installs the tray menu (where the app can have one) and follows
// the core's approval events.
func (u *UI) Start(withTray bool) {
	if withTray {
		u.installTray()
	}
	if u.cfg.Changes == nil {
		return
	}
	events, stop := u.cfg.Changes()
	u.stop = stop
	go func() {
		for range events {
			u.cfg.OnUI(u.refreshLater)
		}
	}()
}

// Stop ends the event subscription.
func (u *UI) Stop() {
	if u.stop != nil {
		u.stop()
	}
}

// Show opens the window, creating it on first use. Closing it only hides
// it: the tray and the server keep running.
func (u *UI) Show() {
	if u.win == nil {
		u.win = u.app.NewWindow("AgentVault")
		u.win.Resize(fyne.NewSize(980, 660))
		u.win.SetCloseIntercept(u.hideWindow)
		u.vaultsTab = container.NewStack()
		u.approvalsTab = container.NewStack()
		u.servicesTab = container.NewStack()
		u.auditTab = container.NewStack()
		u.settingsTab = container.NewStack()
		u.tabs = container.NewAppTabs(
			container.NewTabItem("Vaults", u.vaultsTab),
			container.NewTabItem("Approvals", u.approvalsTab),
			container.NewTabItem("Services", u.servicesTab),
			container.NewTabItem("Audit log", u.auditTab),
			container.NewTabItem("Settings", u.settingsTab),
		)
		var content fyne.CanvasObject = u.tabs
		if u.cfg.NoTray != "" {
			note := widget.NewLabel("AgentVault has no tray icon here: " + u.cfg.NoTray + ". It lives in this window; " +
				"closing it keeps AgentVault and its agents running, and starting AgentVault again opens it.")
			note.Wrapping = fyne.TextWrapWord
			note.Importance = widget.WarningImportance
			content = container.NewBorder(note, nil, nil, nil, u.tabs)
		}
		u.win.SetContent(content)
		u.redraw()
		u.refreshLater()
	}
	u.win.Show()
	u.win.RequestFocus()
}

// hideWindow closes the window; AgentVault keeps running. Without a tray
// nothing shows that, so the first time a notification says it.
func (u *UI) hideWindow() {
	u.win.Hide()
	if u.cfg.NoTray != "" && !u.toldRunning && u.cfg.Notify != nil {
		u.toldRunning = true
		u.cfg.Notify("AgentVault is still running", "Its agents keep working. Start AgentVault again to open its window.")
	}
}

// ShowTab opens the window on the named tab.
func (u *UI) ShowTab(name string) {
	u.Show()
	for _, t := range u.tabs.Items {
		if t.Text == name {
			u.tabs.Select(t)
		}
	}
}

// Window is the main window, or nil before it was first shown.
func (u *UI) Window() fyne.Window { return u.win }

func set(c *fyne.Container, o fyne.CanvasObject) {
	c.Objects = []fyne.CanvasObject{o}
	c.Refresh()
}

// do runs one command against the core off the UI thread; then it shows
// the error in words from the core, or runs then (on the UI thread), and
// redraws.
func (u *UI) do(cmd func() error, then ...func()) {
	var err error
	u.cfg.Run(func() { err = cmd() }, func() {
		if err != nil {
			u.showError(err)
		} else {
			for _, f := range then {
				f()
			}
		}
		u.refreshLater()
	})
}

func (u *UI) showError(err error) {
	if u.win == nil {
		u.cfg.Logger.Error("AgentVault", "err", err)
		return
	}
	dialog.ShowError(errors.New(userMessage(err)), u.win)
}

// userMessage drops Go error plumbing a user cannot act on.
func userMessage(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "AgentVault did not answer in time; try again"
	}
	return err.Error()
}
