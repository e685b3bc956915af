package notify

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/dbustest"
	"github.com/agentvault/agentvault/mcpserver"
)

// fakeServer is a notification server on the test bus that records what it
// is asked and can press buttons.
type fakeServer struct {
	conn    *dbus.Conn
	caps    []string
	mu      sync.Mutex
	next    uint32
	shown   map[uint32][]string // id → [summary, body, actions…]
	closed  []uint32
	notices chan uint32
}

func (f *fakeServer) GetCapabilities() ([]string, *dbus.Error) { return f.caps, nil }

func (f *fakeServer) Notify(app string, replaces uint32, icon, summary, body string, actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	f.mu.Lock()
	f.next++
	id := f.next
	f.shown[id] = append([]string{summary, body}, actions...)
	f.mu.Unlock()
	if len(actions) > 0 { // approval prompts with buttons must be critical
		if u, ok := hints["urgency"].Value().(byte); !ok || u != 2 {
			return 0, dbus.MakeFailedError(fmt.Errorf("urgency hint %v, want critical", hints["urgency"]))
		}
	}
	f.notices <- id
	return id, nil
}

func (f *fakeServer) CloseNotification(id uint32) *dbus.Error {
	f.mu.Lock()
	f.closed = append(f.closed, id)
	f.mu.Unlock()
	f.conn.Emit(objPath, iface+".NotificationClosed", id, uint32(3))
	return nil
}

func (f *fakeServer) press(id uint32, action string) {
	f.conn.Emit(objPath, iface+".ActionInvoked", id, action)
}

func startFake(t *testing.T, caps ...string) (*dbustest.Bus, *fakeServer) {
	t.Helper()
	bus, err := dbustest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bus.Stop)
	conn, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	f := &fakeServer{conn: conn, caps: caps, shown: map[uint32][]string{}, notices: make(chan uint32, 8)}
	if err := conn.Export(f, objPath, iface); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(busName, dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning %s: %v %v", busName, reply, err)
	}
	return bus, f
}

func newChannel(t *testing.T, bus *dbustest.Bus) *Channel {
	t.Helper()
	conn, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	ch, err := New(conn, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ch.Close)
	return ch
}

var call = mcpserver.ApprovalRequest{VaultID: "v1", Vault: "work", Client: "Claude Code 2.0", Session: "s", Tool: "github_create_issue", ArgsDigest: "d", Summary: `repo="acme/api"`}

func waitNotice(t *testing.T, f *fakeServer) uint32 {
	t.Helper()
	select {
	case id := <-f.notices:
		return id
	case <-time.After(5 * time.Second):
		t.Fatal("no notification shown")
		return 0
	}
}

func TestButtonsAnswerTheCall(t *testing.T) {
	bus, f := startFake(t, "actions", "body")
	b := approval.New(approval.Config{Channels: []approval.Channel{newChannel(t, bus)}})
	for _, tc := range []struct {
		action  string
		approve bool
	}{{actionApprove, true}, {actionDeny, false}} {
		verdict := make(chan mcpserver.Verdict, 1)
		go func() { verdict <- b.Approve(context.Background(), call) }()
		id := waitNotice(t, f)
		f.mu.Lock()
		shown := f.shown[id]
		f.mu.Unlock()
		pending := b.Pending()
		if len(pending) != 1 {
			t.Fatalf("pending %+v", pending)
		}
		if shown[0] != "Claude Code 2.0 (vault work) wants github_create_issue" || shown[1] != `repo="acme/api"`+"\nCode "+pending[0].Code {
			t.Fatalf("notification text %q", shown[:2])
		}
		if len(shown) != 6 || shown[2] != "approve" || shown[4] != "deny" {
			t.Fatalf("actions %q", shown[2:])
		}
		f.press(id, tc.action)
		select {
		case v := <-verdict:
			if v.Approved != tc.approve || v.Channel != "notification" {
				t.Fatalf("%s: verdict %+v", tc.action, v)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: pressing the button did not answer the call", tc.action)
		}
	}
}

func TestWithdrawClosesTheNotification(t *testing.T) {
	bus, f := startFake(t, "actions")
	b := approval.New(approval.Config{Channels: []approval.Channel{newChannel(t, bus)}})
	verdict := make(chan mcpserver.Verdict, 1)
	go func() { verdict <- b.Approve(context.Background(), call) }()
	id := waitNotice(t, f)
	if err := b.Answer(b.Pending()[0].ID, approval.Answer{Approve: true, Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	if v := <-verdict; v.Channel != "cli" {
		t.Fatalf("verdict %+v", v)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		closed := append([]uint32(nil), f.closed...)
		f.mu.Unlock()
		if len(closed) == 1 && closed[0] == id {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("closed %v, want [%d]", closed, id)
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.press(id, actionDeny) // a late press changes nothing
	if h := b.History(); len(h) != 1 || h[0].Outcome != "approved" {
		t.Fatalf("history %+v", h)
	}
}

func TestSignalsFromOthersAreIgnored(t *testing.T) {
	bus, f := startFake(t, "actions")
	b := approval.New(approval.Config{Channels: []approval.Channel{newChannel(t, bus)}, DefaultTimeout: 300 * time.Millisecond})
	verdict := make(chan mcpserver.Verdict, 1)
	go func() { verdict <- b.Approve(context.Background(), call) }()
	id := waitNotice(t, f)
	intruder, err := bus.Connect()
	if err != nil {
		t.Fatal(err)
	}
	defer intruder.Close()
	intruder.Emit(objPath, iface+".ActionInvoked", id, actionApprove)
	if v := <-verdict; v.Approved || v.Outcome != "timeout" {
		t.Fatalf("a spoofed button press decided the call: %+v", v)
	}
}

func TestServerWithoutButtonsIsRefused(t *testing.T) {
	bus, _ := startFake(t, "body")
	conn, _ := bus.Connect()
	defer conn.Close()
	if _, err := New(conn, nil); err != ErrNoActions {
		t.Fatalf("New without the actions capability: %v", err)
	}
}

// TestPlainNotificationNamesTheWayToAnswer sends a buttonless notification
// through beeep to the notification server of a private bus.
func TestPlainNotificationNamesTheWayToAnswer(t *testing.T) {
	bus, f := startFake(t, "body") // no "actions"
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", bus.Address)
	b := approval.New(approval.Config{Channels: []approval.Channel{Plain{}}, DefaultTimeout: 2 * time.Second})
	verdict := make(chan mcpserver.Verdict, 1)
	go func() { verdict <- b.Approve(context.Background(), call) }()
	id := waitNotice(t, f)
	f.mu.Lock()
	shown := f.shown[id]
	f.mu.Unlock()
	p := b.Pending()
	if len(p) != 1 || !strings.Contains(shown[1], "agentvault approvals approve "+p[0].ID) || !strings.Contains(shown[1], p[0].Code) {
		t.Fatalf("plain notification %q for %+v", shown, p)
	}
	if err := b.Answer(p[0].ID, approval.Answer{Approve: true, Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	if v := <-verdict; !v.Approved || v.Channel != "cli" {
		t.Fatalf("verdict %+v", v)
	}
}
