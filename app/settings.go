package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

// Autostart turns starting at login on and off.
type Autostart interface {
	Enabled() bool
	SetEnabled(on bool) error
}

// XDGAutostart is Autostart on Linux desktops: a desktop entry in
// $XDG_CONFIG_HOME/autostart.
type XDGAutostart struct {
	// Dir is the autostart folder; Exec the command to start.
	Dir, Exec string
}

// NewXDGAutostart uses the user's autostart folder and this executable.
func NewXDGAutostart() (XDGAutostart, error) {
	cfg, err := os.UserConfigDir()
	if err != nil {
		return XDGAutostart{}, err
	}
	exe, err := os.Executable()
	if err != nil {
		return XDGAutostart{}, err
	}
	return XDGAutostart{Dir: filepath.Join(cfg, "autostart"), Exec: exe}, nil
}

func (x XDGAutostart) path() string { return filepath.Join(x.Dir, "agentvault.desktop") }

// Enabled implements Autostart.
func (x XDGAutostart) Enabled() bool {
	_, err := os.Stat(x.path())
	return err == nil
}

// SetEnabled implements Autostart.
func (x XDGAutostart) SetEnabled(on bool) error {
	if !on {
		if err := os.Remove(x.path()); err != nil && !os.IsNotExist(err) {
			return err
		}
		return nil
	}
	if err := os.MkdirAll(x.Dir, 0o700); err != nil {
		return err
	}
	return os.WriteFile(x.path(), []byte(DesktopEntry(x.Exec)), 0o600)
}

// DesktopEntry is the freedesktop entry that starts AgentVault.
func DesktopEntry(exec string) string {
	if strings.ContainsAny(exec, " \t\"'\\") {
		exec = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(exec) + `"`
	}
	return fmt.Sprintf(`[Desktop Entry]
Type=Application
Name=AgentVault
Comment=Permissions, approvals and audit for your AI agents
Exec=%s
Icon=agentvault
Terminal=false
Categories=Utility;Security;
X-GNOME-Autostart-enabled=true
`, exec)
}

func (u *UI) settingsView() fyne.CanvasObject {
	items := []*widget.FormItem{widget.NewFormItem("Data folder", widget.NewLabel(u.cfg.DataDir))}
	if a := u.cfg.Autostart; a != nil {
		login := widget.NewCheck("Start AgentVault when I log in", nil)
		login.SetChecked(a.Enabled())
		login.OnChanged = func(on bool) { u.do(func() error { return a.SetEnabled(on) }) }
		items = append(items, widget.NewFormItem("Login", login))
	}
	st, err := u.snap.status, u.snap.statusErr
	if err == nil {
		pause := widget.NewCheck("Pause all agents (refuse every tool call)", nil)
		pause.SetChecked(st.Paused)
		pause.OnChanged = func(on bool) { u.do(func() error { return u.cfg.API.SetPaused(context.Background(), on) }) }
		items = append(items, widget.NewFormItem("Agents", pause))
	}
	timeout := widget.NewLabel(fmt.Sprintf("Calls wait %s for approval unless their vault sets its own timeout (Vaults → Approvals wait).", durationText(api.DefaultApprovalTimeout)))
	timeout.Wrapping = fyne.TextWrapWord
	items = append(items, widget.NewFormItem("Approvals", timeout))
	if u.snap.limitsErr == nil {
		items = append(items, u.limitItems(u.snap.limits)...)
	}
	return container.NewVBox(widget.NewForm(items...))
}

// limitItems edit the limits that keep one agent from starving the others.
func (u *UI) limitItems(l api.Limits) []*widget.FormItem {
	pending, sessions, body := widget.NewEntry(), widget.NewEntry(), widget.NewEntry()
	pending.SetText(strconv.Itoa(l.MaxPending))
	sessions.SetText(strconv.Itoa(l.MaxSessions))
	body.SetText(l.BodyTimeout.String())
	save := widget.NewButton("Save limits", func() {
		u.do(func() error {
			var next api.Limits
			var err error
			if next.MaxPending, err = strconv.Atoi(pending.Text); err != nil {
				return fmt.Errorf("calls waiting for approval: %q is not a number", pending.Text)
			}
			if next.MaxSessions, err = strconv.Atoi(sessions.Text); err != nil {
				return fmt.Errorf("open sessions: %q is not a number", sessions.Text)
			}
			if next.BodyTimeout, err = time.ParseDuration(body.Text); err != nil {
				return fmt.Errorf("time to send a request: %q is not a duration like 30s", body.Text)
			}
			return u.cfg.API.SetLimits(context.Background(), next)
		})
	})
	return []*widget.FormItem{
		widget.NewFormItem("Per vault: calls waiting", pending),
		widget.NewFormItem("Per vault: open sessions", sessions),
		widget.NewFormItem("Time to send a request", body),
		widget.NewFormItem("", save),
	}
}
