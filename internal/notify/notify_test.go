package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/dbustest"
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

var call = approval.Request{VaultID: "v1", Vault: "work", Client: "Claude Code 2.0", Session: "s", Tool: "github_create_issue",
	ArgsDigest: "d", Summary: `repo="acme/api"`, Arguments: json.RawMessage(`{"repo":"acme/api"}`)}

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
		verdict := make(chan approval.Verdict, 1)
		go func() { verdict <- b.Approve(context.Background(), call) }()
		id := waitNotice(t, f)
		f.mu.Lock()
		shown := f.shown[id]
		f.mu.Unlock()
		pending := b.Pending()
		if len(pending) != 1 {
			t.Fatalf("pending %+v", pending)
		}
		if shown[0] != "github_create_issue — asked by Claude Code 2.0 (vault work)" || shown[1] != `repo: "acme/api"`+"\nCode "+pending[0].Code {
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
	verdict := make(chan approval.Verdict, 1)
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
	verdict := make(chan approval.Verdict, 1)
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
	verdict := make(chan approval.Verdict, 1)
	go func() { verdict <- b.Approve(context.Background(), call) }()
	id := waitNotice(t, f)
	f.mu.Lock()
	shown := f.shown[id]
	f.mu.Unlock()
	p := b.Pending()
	if len(p) != 1 || !strings.Contains(shown[1], "agentvault approvals show "+p[0].Code) || !strings.Contains(shown[1], p[0].Code) {
		t.Fatalf("plain notification %q for %+v", shown, p)
	}
	if err := b.Answer(p[0].ID, approval.Answer{Approve: true, Channel: "cli"}); err != nil {
		t.Fatal(err)
	}
	if v := <-verdict; !v.Approved || v.Channel != "cli" {
		t.Fatalf("verdict %+v", v)
	}
}

// A call too large for a notification gets no Approve button: the body says
// what it leaves out, Review opens the prompt that shows everything, and a
// forged "approve" action (never offered) answers nothing.
func TestLargeCallsAreReviewedNotApproved(t *testing.T) {
	bus, f := startFake(t, "actions", "body", "body-markup")
	ch := newChannel(t, bus)
	reviewed := make(chan approval.Pending, 1)
	ch.SetReview(func(p approval.Pending) { reviewed <- p })
	b := approval.New(approval.Config{Channels: []approval.Channel{ch}, DefaultTimeout: 3 * time.Second})
	big := call
	big.Arguments = json.RawMessage(`{"path":"/tmp/a","content":"` + strings.Repeat("x", 400) + `","mode":"<b>w</b>","a":1,"b":2,"c":3,"d":4}`)
	verdict := make(chan approval.Verdict, 1)
	go func() { verdict <- b.Approve(context.Background(), big) }()
	id := waitNotice(t, f)
	f.mu.Lock()
	shown := f.shown[id]
	f.mu.Unlock()
	if len(shown) != 6 || shown[2] != actionReview || shown[4] != actionDeny {
		t.Fatalf("actions %q, want review and deny only", shown[2:])
	}
	if !strings.Contains(shown[1], "more fields — review in AgentVault") || strings.Contains(shown[1], "xxxx") {
		t.Fatalf("body %q does not say what it leaves out, or shows part of a value", shown[1])
	}
	f.press(id, actionApprove)
	f.press(id, actionReview)
	select {
	case p := <-reviewed:
		if p.ArgsDigest != "d" {
			t.Fatalf("reviewed %+v", p)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Review did not open the prompt")
	}
	f.press(id, actionDeny)
	v := <-verdict
	if v.Approved || v.WholeCall == nil || *v.WholeCall {
		t.Fatalf("verdict %+v: want a denial that says the whole call was not shown", v)
	}
}

func TestTextEscapesMarkupAndCountsWhatItLeavesOut(t *testing.T) {
	for _, tc := range []struct {
		name, args string
		whole      bool
		want       string
	}{
		{"ok/fits", `{"a":"<i>x</i>","b":2}`, true, `a: "<i>x</i>"` + "\nb: 2\nCode AV-TEST"},
		{"ok/no-arguments", `{}`, true, "No arguments.\nCode AV-TEST"},
		{"fail/seven-fields", `{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6,"g":7}`, false, "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\nf: 6\n1 more field — see them with: agentvault approvals show AV-TEST\nCode AV-TEST"},
		{"fail/one-long-field", `{"t":"` + strings.Repeat("y", 300) + `"}`, false, "1 field too long to show here — see them with: agentvault approvals show AV-TEST\nCode AV-TEST"},
		{"ok/hidden-characters-are-shown", `{"p":"/home/me/` + "\u202e" + `txt.exe"}`, true, `p: "/home/me/\u202etxt.exe"` + "\nCode AV-TEST"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := approval.Pending{Code: "AV-TEST", Request: approval.Request{Tool: "t", Arguments: json.RawMessage(tc.args)}}
			_, body, whole := Text(p, false)
			if body != tc.want || whole != tc.whole {
				t.Fatalf("body %q whole %v, want %q %v", body, whole, tc.want, tc.whole)
			}
		})
	}
	if got := escapeMarkup(`<b>a&b</b>`); got != "&lt;b&gt;a&amp;b&lt;/b&gt;" {
		t.Fatalf("escaped %q", got)
	}
}

// A session bus that accepts connections but never answers makes
// SessionBus fail, instead of holding AgentVault's start-up forever.
func TestASilentSessionBusIsAnError(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go io.Copy(io.Discard, c) // reads, never answers
		}
	}()
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path="+sock)
	done := make(chan error, 1)
	go func() {
		conn, err := SessionBus()
		if err == nil {
			conn.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "did not answer") {
			t.Fatalf("a silent bus: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("SessionBus still waits for a silent bus")
	}
	if got := TrayMissing(); got == "" {
		t.Fatal("a silent bus hosts a tray")
	}
}
