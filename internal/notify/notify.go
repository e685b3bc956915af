// Package notify asks for approvals through actionable desktop notifications
// (org.freedesktop.Notifications over D-Bus): each pending call becomes a
// critical, resident notification with Approve and Deny buttons, closed again
// when the call is settled elsewhere. A notification has room for little:
// Approve is offered only when the whole call fits (Budget); otherwise the
// notification says what it leaves out and offers Review, which opens a
// prompt that shows everything, and Deny.
//
// Signals are trusted only from the current owner of the notification
// service's name, and a failure to notify never blocks a call: the other
// channels still apply.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/agentvault/agentvault/internal/approval"
)

const (
	busName   = "org.freedesktop.Notifications"
	objPath   = dbus.ObjectPath("/org/freedesktop/Notifications")
	iface     = "org.freedesktop.Notifications"
	appName   = "AgentVault"
	callLimit = 5 * time.Second // also how long the session bus may take to answer
	maxEarly  = 64              // early button presses remembered
)

// Notification actions.
const (
	actionApprove = "approve"
	actionDeny    = "deny"
	actionReview  = "review"
)

// What a notification's body may hold of a call's arguments: more is left
// to a channel that shows all of it.
const (
	BudgetLines = 6
	BudgetChars = 300
)

// Channel is an approval.Channel on a D-Bus session bus.
type Channel struct {
	conn *dbus.Conn
	obj  dbus.BusObject
	log  *slog.Logger

	markup bool // the server reads the body as markup: escape it

	mu     sync.Mutex
	review func(approval.Pending)                     // opens a prompt showing the whole call; nil: none
	open   map[uint32]func(action string) (done bool) // notification id → what a button does
	// early holds button presses that arrived before Notify's reply told us
	// the notification's id (a server may signal first).
	early map[uint32]string
	done  chan struct{}
}

var _ approval.Channel = (*Channel)(nil)

// ErrNoActions means the notification server cannot show buttons.
var ErrNoActions = errors.New("the notification server does not support buttons")

// New starts listening for notification signals on conn. It fails when no
// notification server runs or it cannot show buttons; conn stays the
// caller's.
func New(conn *dbus.Conn, logger *slog.Logger) (*Channel, error) {
	if logger == nil {
		logger = slog.Default()
	}
	c := &Channel{conn: conn, obj: conn.Object(busName, objPath), log: logger,
		open: map[uint32]func(string) bool{}, early: map[uint32]string{}, done: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	var caps []string
	if err := c.obj.CallWithContext(ctx, iface+".GetCapabilities", 0).Store(&caps); err != nil {
		return nil, fmt.Errorf("no desktop notification server: %w", err)
	}
	if !slices.Contains(caps, "actions") {
		return nil, ErrNoActions
	}
	c.markup = slices.Contains(caps, "body-markup")
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchObjectPath(objPath), dbus.WithMatchInterface(iface)); err != nil {
		return nil, err
	}
	signals := make(chan *dbus.Signal, 32)
	conn.Signal(signals)
	go c.listen(signals)
	return c, nil
}

// Close stops listening; open notifications stay until withdrawn.
func (c *Channel) Close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	select {
	case <-c.done:
	default:
		close(c.done)
	}
}

// Name implements approval.Channel.
func (c *Channel) Name() string { return "notification" }

// SetReview makes the Review button of a call too large to show call
// open, which should show the whole call where it can be answered (the
// desktop app's prompt). Without it the notification names the command
// that shows the call.
func (c *Channel) SetReview(open func(approval.Pending)) {
	c.mu.Lock()
	c.review = open
	c.mu.Unlock()
}

// Open implements approval.Channel: it shows p and returns at once.
func (c *Channel) Open(p approval.Pending, answer func(approval.Answer) error) func() {
	var (
		mu        sync.Mutex
		id        uint32
		withdrawn bool
	)
	c.mu.Lock()
	review := c.review
	c.mu.Unlock()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), callLimit)
		defer cancel()
		title, body, whole := Text(p, review != nil)
		if c.markup { // only the body is read as markup
			body = escapeMarkup(body)
		}
		actions := []string{actionApprove, "Approve", actionDeny, "Deny"}
		if !whole {
			actions = []string{actionDeny, "Deny"}
			if review != nil {
				actions = []string{actionReview, "Review", actionDeny, "Deny"}
			}
		}
		hints := map[string]dbus.Variant{
			"urgency":  dbus.MakeVariant(byte(2)), // critical: stays until answered
			"resident": dbus.MakeVariant(true),
			"category": dbus.MakeVariant("x-agentvault.approval"),
		}
		expire := int32(time.Until(p.Deadline).Milliseconds())
		var got uint32
		err := c.obj.CallWithContext(ctx, iface+".Notify", 0, appName, uint32(0), "dialog-password", title, body, actions, hints, expire).Store(&got)
		if err != nil {
			c.log.Warn("desktop notification failed", "err", err)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if withdrawn {
			c.closeNotification(got)
			return
		}
		id = got
		respond := func(action string) (done bool) {
			switch {
			case action == actionReview && review != nil:
				review(p)
				return false // the call stays open here too
			case action == actionReview, action == actionApprove && !whole:
				return false // a button this notification never offered
			}
			a := approval.Answer{Approve: action == actionApprove, Scope: approval.Once, ArgsDigest: p.ArgsDigest, WholeCall: &whole}
			if !a.Approve {
				a.Reason = "the user denied this call from the desktop notification"
			}
			if err := answer(a); err != nil {
				c.log.Info("notification answer refused", "approval", p.ID, "err", err)
			}
			return true
		}
		c.mu.Lock()
		action, pressed := c.early[id]
		delete(c.early, id)
		if !pressed {
			c.open[id] = respond
		}
		c.mu.Unlock()
		if pressed {
			go func() {
				if !respond(action) {
					c.mu.Lock()
					c.open[id] = respond
					c.mu.Unlock()
				}
			}()
		}
	}()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		withdrawn = true
		if id != 0 {
			c.mu.Lock()
			delete(c.open, id)
			c.mu.Unlock()
			c.closeNotification(id)
		}
	}
}

func (c *Channel) closeNotification(id uint32) {
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	if err := c.obj.CallWithContext(ctx, iface+".CloseNotification", 0, id).Err; err != nil {
		c.log.Debug("closing notification failed", "id", id, "err", err)
	}
}

// owner is the unique bus name that currently owns the notification service.
func (c *Channel) owner() string {
	var name string
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	if err := c.conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.GetNameOwner", 0, busName).Store(&name); err != nil {
		return ""
	}
	return name
}

func (c *Channel) listen(signals chan *dbus.Signal) {
	for {
		select {
		case <-c.done:
			c.conn.RemoveSignal(signals)
			return
		case sig, ok := <-signals:
			if !ok {
				return
			}
			c.handle(sig)
		}
	}
}

func (c *Channel) handle(sig *dbus.Signal) {
	if sig.Path != objPath || len(sig.Body) < 2 {
		return
	}
	id, ok := sig.Body[0].(uint32)
	if !ok {
		return
	}
	switch sig.Name {
	case iface + ".ActionInvoked":
		action, _ := sig.Body[1].(string)
		if action != actionApprove && action != actionDeny && action != actionReview {
			return
		}
		// Only the notification server may press our buttons.
		if owner := c.owner(); owner == "" || sig.Sender != owner {
			c.log.Warn("ignoring notification action from a sender that does not own the notification service", "sender", sig.Sender)
			return
		}
		c.mu.Lock()
		press := c.open[id]
		if press == nil && len(c.early) < maxEarly {
			c.early[id] = action
		}
		c.mu.Unlock()
		if press != nil && press(action) {
			c.mu.Lock()
			delete(c.open, id)
			c.mu.Unlock()
		}
	case iface + ".NotificationClosed":
		// Dismissed without an answer: the call stays pending elsewhere.
		c.mu.Lock()
		delete(c.open, id)
		c.mu.Unlock()
	}
}

// Text is the notification's title and body for p, shared with other
// channels that show the same prompt, and whether the body shows the whole
// call: at most BudgetLines fields and BudgetChars characters of them. What
// does not fit is counted, and the body says where to see it: the app's
// prompt (review) or the CLI.
func Text(p approval.Pending, review bool) (title, body string, whole bool) {
	title = p.Title()
	shown, missing := p.Budget(BudgetLines, BudgetChars)
	lines := slices.Concat(p.About(), shown)
	if len(p.Fields()) == 0 {
		lines = append(lines, "No arguments.")
	}
	if missing > 0 {
		more := fmt.Sprintf("%d more field%s", missing, map[bool]string{true: "s"}[missing > 1])
		if len(shown) == 0 {
			more = fmt.Sprintf("%d field%s too long to show here", missing, map[bool]string{true: "s"}[missing > 1])
		}
		where := "review in AgentVault"
		if !review {
			where = "see them with: agentvault approvals show " + p.Code
		}
		lines = append(lines, more+" — "+where)
	}
	return title, strings.Join(append(lines, "Code "+p.Code), "\n"), missing == 0
}

// escapeMarkup keeps text from a call (anything an agent sent) from
// becoming markup in a server that reads bodies as markup, where a tag
// could hide part of what the approver should read.
func escapeMarkup(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

// SessionBus connects to the user's session bus, but only one that is
// announced in the environment: it never auto-launches a bus. A bus that
// accepts the connection but does not answer within callLimit is an error,
// not a start-up that never ends.
func SessionBus() (*dbus.Conn, error) {
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		return nil, errors.New("no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
	}
	// The connection lives as long as its context: cancelling it closes a
	// connection stuck in its handshake; once connected, it is left alone.
	ctx, cancel := context.WithCancel(context.Background())
	stuck := time.AfterFunc(callLimit, cancel)
	conn, err := dbus.ConnectSessionBus(dbus.WithContext(ctx))
	if !stuck.Stop() {
		if err == nil {
			conn.Close()
		}
		return nil, fmt.Errorf("the session bus did not answer within %s", callLimit)
	}
	return conn, err
}
