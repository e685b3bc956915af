//go:build cgo

package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"sync/atomic"

	"fyne.io/fyne/v2"
	fyneapp "fyne.io/fyne/v2/app"

	"github.com/gen2brain/beeep"

	"github.com/agentvault/agentvault/app"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/cli"
	"github.com/agentvault/agentvault/internal/notify"
)

// guiBuilt says this build can show the desktop app.
const guiBuilt = true

// runGUI runs the desktop app: the server in the background, the tray, and
// the window when asked for. It returns when the user quits or ctx ends.
func runGUI(ctx context.Context, dir, listen string, stdout, stderr io.Writer) error {
	logger, closeLog, err := newLogger(dir, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	s, err := startServer(dir, listen, stdout, logger)
	if err != nil {
		return err
	}
	logger = s.co.Logger() // the window's messages are redacted too
	a := fyneapp.NewWithID("dev.agentvault.app")
	a.SetIcon(app.Icon)
	self, _ := os.Executable()
	cfg := app.Config{API: s.co, Changes: s.co.Subscribe, DataDir: dir, Program: self, Logger: logger, NoTray: notify.TrayMissing(),
		Notify: func(title, body string) {
			if err := beeep.Notify(title, body, ""); err != nil {
				logger.Info(title+": "+body, "notification", err)
			}
		}}
	if p, err := cli.UserPlaces(); err == nil {
		cfg.Places = p
	}
	if auto, err := app.NewXDGAutostart(); err == nil {
		cfg.Autostart = auto
	}
	ui := app.New(a, cfg)
	defer ui.Stop()
	if s.notifier == nil {
		// Notifications cannot carry buttons here: ask in a window instead.
		s.co.Broker().AddChannel(promptChannel{ui})
	} else {
		// A call too large for a notification is reviewed in a prompt.
		s.notifier.SetReview(ui.Review)
	}
	// Without a session bus systray would panic on quit: no tray then. With
	// one it is installed even where nothing shows it yet, and appears once
	// a tray host does; meanwhile the window is the app.
	ui.Start(runtime.GOOS == "darwin" || runtime.GOOS == "windows" || os.Getenv("DBUS_SESSION_BUS_ADDRESS") != "")
	show := func() { fyne.Do(ui.Show) } // a second start opens the window
	s.window.Store(&show)
	if cfg.NoTray != "" {
		ui.Show()
	}
	ctx, stop := context.WithCancel(ctx)
	var quitting atomic.Bool
	served := make(chan error, 1)
	go func() {
		served <- s.wait(ctx)
		if !quitting.Load() { // serving stopped on its own (a signal, a failure)
			fyne.Do(a.Quit)
		}
	}()
	a.Run()
	quitting.Store(true)
	stop()
	return <-served
}

// promptChannel asks for approvals in the window's prompts: the approval
// channel where notifications cannot carry buttons.
type promptChannel struct{ ui *app.UI }

var _ approval.Channel = promptChannel{}

// Name implements approval.Channel; answers count as the in-app queue.
func (promptChannel) Name() string { return app.QueueChannel }

// Open implements approval.Channel: the prompt answers through the API.
func (c promptChannel) Open(p approval.Pending, _ func(approval.Answer) error) func() {
	return c.ui.Prompt(p)
}
