package notify

import (
	"log/slog"

	"github.com/gen2brain/beeep"

	"github.com/agentvault/agentvault/internal/approval"
)

// Plain announces pending calls with a notification that has no buttons:
// where the notification server cannot show them, and on macOS and Windows.
// It never answers; the person answers in the app's prompt window, its
// queue, or the CLI, which the notification names.
type Plain struct {
	// Notify shows a notification; nil: beeep's (D-Bus, notify-send,
	// osascript or the Windows toast API).
	Notify func(title, body string) error
	Logger *slog.Logger
}

var _ approval.Channel = Plain{}

// Name implements approval.Channel.
func (Plain) Name() string { return "notification" }

// Open implements approval.Channel: it shows p and returns at once; a
// notification without buttons has nothing to withdraw.
func (p Plain) Open(pending approval.Pending, _ func(approval.Answer) error) func() {
	notifyFn, log := p.Notify, p.Logger
	if notifyFn == nil {
		notifyFn = func(title, body string) error { return beeep.Notify(title, body, "") }
	}
	if log == nil {
		log = slog.Default()
	}
	title, body, _ := Text(pending, false)
	body += "\nAnswer in AgentVault, or see it with: agentvault approvals show " + pending.Code
	go func() {
		if err := notifyFn(title, body); err != nil {
			log.Warn("desktop notification failed", "err", err)
		}
	}()
	return func() {}
}
