package app

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/providertest"
)

// realCore is a core on a temporary folder with service "echo" (the fake
// upstream over HTTP).
func realCore(t *testing.T) *core.Core {
	t.Helper()
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close)
	co, err := core.Open(core.Config{DataDir: t.TempDir(), Secrets: &secretstest.Memory{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.Close() })
	if _, err := co.AddService(context.Background(), api.ServiceSpec{Name: "echo", URL: up.URL + "/mcp"}); err != nil {
		t.Fatal(err)
	}
	return co
}

// find returns the first object under o of type T that ok accepts.
func find[T fyne.CanvasObject](t *testing.T, o fyne.CanvasObject, ok func(T) bool) T {
	t.Helper()
	for _, obj := range test.LaidOutObjects(o) {
		if v, is := obj.(T); is && ok(v) {
			return v
		}
	}
	var zero T
	t.Fatalf("no %T found", zero)
	return zero
}

// findAll reports whether o shows an object of type T that ok accepts.
func findAll[T fyne.CanvasObject](o fyne.CanvasObject, ok func(T) bool) bool {
	for _, obj := range test.LaidOutObjects(o) {
		if v, is := obj.(T); is && ok(v) {
			return true
		}
	}
	return false
}

func button(t *testing.T, u *UI, text string) *widget.Button {
	t.Helper()
	return find(t, u.Window().Content(), func(b *widget.Button) bool { return b.Text == text })
}

func TestWizardCreatesAVaultWithThePreset(t *testing.T) {
	co := realCore(t)
	u := window(t, co)
	test.Tap(button(t, u, "New vault"))
	name := find(t, u.Window().Content(), func(e *widget.Entry) bool { return e.PlaceHolder == "e.g. claude-work" })
	test.Type(name, "reviewer")
	test.Tap(button(t, u, "Next"))
	find(t, u.Window().Content(), func(*widget.CheckGroup) bool { return true }).SetSelected([]string{"echo"})
	test.Tap(button(t, u, "Next"))
	presets := find(t, u.Window().Content(), func(r *widget.RadioGroup) bool {
		return slices.ContainsFunc(r.Options, func(o string) bool { return strings.HasPrefix(o, "Read-only — ") })
	})
	for _, o := range presets.Options {
		if strings.HasPrefix(o, "Read-only — ") {
			presets.SetSelected(o)
		}
	}
	test.Tap(button(t, u, "Create vault"))

	vaults, _ := co.Vaults(context.Background())
	if len(vaults) != 1 || vaults[0].Name != "reviewer" {
		t.Fatalf("vaults after the wizard: %+v", vaults)
	}
	d, err := co.Vault(t.Context(), "reviewer")
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range d.Tools {
		want := policy.Block
		if tool.Default == policy.Allow {
			want = policy.Allow
		}
		if tool.Decision != want {
			t.Errorf("%s: %s after the read-only preset, want %s", tool.Name, tool.Decision, want)
		}
	}
	token := find(t, u.Window().Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.Text, "avt_") })
	if token.Text == "" {
		t.Fatal("the wizard did not show the token")
	}
	test.Tap(button(t, u, "Done"))
	if u.wizard != nil {
		t.Fatal("Done did not close the wizard")
	}
}

func TestWizardRefusesAnEmptyStep(t *testing.T) {
	u := window(t, realCore(t))
	u.startWizard()
	test.Tap(button(t, u, "Next"))
	if u.wizard.step != 0 || u.wizard.err == "" {
		t.Fatalf("step %d, error %q: an empty name was accepted", u.wizard.step, u.wizard.err)
	}
}

func TestFlippingAPolicyChangesTheCore(t *testing.T) {
	co := realCore(t)
	if _, err := co.CreateVault(context.Background(), api.VaultSpec{Name: "work", Services: []string{"echo"}}); err != nil {
		t.Fatal(err)
	}
	u := window(t, co)
	grid := find(t, u.Window().Content(), func(c *fyne.Container) bool {
		return slices.ContainsFunc(c.Objects, func(o fyne.CanvasObject) bool {
			l, ok := o.(*widget.Label)
			return ok && l.Text == "echo_write_note"
		})
	})
	// The form grid holds name, choice pairs.
	for i, o := range grid.Objects {
		if l, ok := o.(*widget.Label); ok && l.Text == "echo_write_note" {
			find(t, grid.Objects[i+1], func(*widget.RadioGroup) bool { return true }).SetSelected("Block")
		}
	}
	d, _ := co.Vault(t.Context(), "work")
	for _, tool := range d.Tools {
		if tool.Name == "echo_write_note" && (tool.Decision != policy.Block || tool.Rule != "echo_write_note") {
			t.Fatalf("echo_write_note is %+v after choosing Block", tool)
		}
	}
	guard := policy.Guard{Kind: policy.Path, Allow: []string{"/srv"}}
	if err := co.SetGuard(context.Background(), "work", guard); err != nil {
		t.Fatal(err)
	}
	test.Tap(button(t, u, "Full access"))
	d, _ = co.Vault(t.Context(), "work")
	if len(d.Guards) != 1 || d.Guards[0].Allow[0] != "/srv" {
		t.Fatalf("a preset dropped the vault's guards: %+v", d.Guards)
	}
	for _, tool := range d.Tools {
		if tool.Decision != policy.Allow {
			t.Fatalf("%s is %s after the full-access preset", tool.Name, tool.Decision)
		}
	}
}

func TestApproveFromTheQueue(t *testing.T) {
	co := realCore(t)
	u := window(t, co)
	verdict := make(chan approval.Verdict, 1)
	go func() {
		verdict <- co.Broker().Approve(context.Background(), approval.Request{VaultID: "v", Vault: "work", Tool: "echo_write_note", ArgsDigest: "d"})
	}()
	for len(co.Broker().Pending()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	// In the app a broker event triggers this refresh on the UI thread.
	u.Refresh()
	u.ShowTab("Approvals")
	test.Tap(button(t, u, "Approve "+api.SessionLabel))
	select {
	case v := <-verdict:
		if !v.Approved || v.Channel != "queue" {
			t.Fatalf("verdict %+v", v)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the queue's button did not answer the call")
	}
	if h := co.Broker().History(); len(h) != 1 || h[0].Answer.Scope != api.Session {
		t.Fatalf("history %+v", h)
	}
}

// promptSignal asks in the window's prompts, as the root wires them, and
// tells the test when one is shown.
type promptSignal struct {
	u      *UI
	opened chan struct{}
}

func (promptSignal) Name() string { return QueueChannel }

func (o promptSignal) Open(p api.Pending, _ func(api.Answer) error) func() {
	withdraw := o.u.Prompt(p)
	close(o.opened)
	return withdraw
}

func TestDenyFromAPromptWindowPassesTheReason(t *testing.T) {
	co := realCore(t)
	u := window(t, co)
	opened := make(chan struct{})
	co.Broker().AddChannel(promptSignal{u, opened})
	verdict := make(chan approval.Verdict, 1)
	go func() {
		verdict <- co.Broker().Approve(context.Background(), approval.Request{VaultID: "v", Vault: "work", Tool: "echo_write_note", ArgsDigest: "d"})
	}()
	<-opened
	var prompt fyne.Window
	for _, w := range fyne.CurrentApp().Driver().AllWindows() {
		if strings.HasPrefix(w.Title(), "Approve? AV-") {
			prompt = w
		}
	}
	if prompt == nil {
		t.Fatal("no prompt window")
	}
	reason := find(t, prompt.Content(), func(e *widget.Entry) bool { return strings.HasPrefix(e.PlaceHolder, "Reason") })
	test.Type(reason, "wrong repo")
	test.Tap(find(t, prompt.Content(), func(b *widget.Button) bool { return b.Text == "Deny" }))
	if v := <-verdict; v.Approved || v.Reason != "wrong repo" || v.Channel != "queue" {
		t.Fatalf("verdict %+v", v)
	}
}

func TestExportWritesTheAuditLog(t *testing.T) {
	co := realCore(t)
	co.Audit().Record(api.AuditRecord{Phase: audit.Outcome, VaultID: "v", Tool: "echo_echo", Outcome: api.Executed})
	u := window(t, co)
	var jsonl, csv bytes.Buffer
	if err := u.exportTo(&jsonl, "log.jsonl"); err != nil {
		t.Fatal(err)
	}
	if err := u.exportTo(&csv, "LOG.CSV"); err != nil {
		t.Fatal(err)
	}
	var r api.AuditRecord
	if err := json.Unmarshal(jsonl.Bytes(), &r); err != nil || r.Tool != "echo_echo" {
		t.Fatalf("jsonl export %q: %v", jsonl.String(), err)
	}
	if !strings.HasPrefix(csv.String(), "time,seq,") || !strings.Contains(csv.String(), "echo_echo") {
		t.Fatalf("csv export %q", csv.String())
	}
}

func TestTrayPauseAndQuit(t *testing.T) {
	co := realCore(t)
	quit := make(chan struct{}, 1)
	a := test.NewTempApp(t)
	u := New(a, Config{API: co, Quit: func() { quit <- struct{}{} }, Run: atOnce})
	u.trayHandler(trayPause)()
	if st, _ := co.Status(context.Background()); !st.Paused {
		t.Fatal("Pause all agents did not pause")
	}
	u.trayHandler(trayResume)()
	if st, _ := co.Status(context.Background()); st.Paused {
		t.Fatal("Resume did not resume")
	}
	u.trayHandler(trayOpen)()
	if u.Window() == nil {
		t.Fatal("Open AgentVault opened no window")
	}
	u.Window().Close() // only hides
	u.trayHandler(trayQuit)()
	<-quit
}

func TestTrayItems(t *testing.T) {
	pending := func(n int) []api.Pending {
		var out []api.Pending
		for i := range n {
			out = append(out, api.Pending{Code: "AV-000" + string(rune('0'+i)), Request: approval.Request{Vault: "work", Tool: "gh_x"}})
		}
		return out
	}
	labels := func(items []trayItem) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.Label)
		}
		return out
	}
	tests := []struct {
		name    string
		status  api.Status
		pending []api.Pending
		want    []string
	}{
		{"idle", api.Status{Vaults: 1}, nil,
			[]string{"1 vault · 0 connected agents · 0 pending approvals", "", "Open AgentVault", "Pause all agents", "", "Quit"}},
		{"pending", api.Status{Vaults: 2, Sessions: 3, Pending: 1}, pending(1),
			[]string{"2 vaults · 3 connected agents · 1 pending approval", "Approve? gh_x (work) AV-0000", "", "Open AgentVault", "Pause all agents", "", "Quit"}},
		{"paused", api.Status{Paused: true}, nil,
			[]string{"Paused: every tool call is refused", "", "Open AgentVault", "Resume all agents", "", "Quit"}},
		{"many pending", api.Status{Pending: 7}, pending(7), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := trayItems(tt.status, tt.pending)
			if tt.want != nil && !slices.Equal(labels(got), tt.want) {
				t.Fatalf("tray %q, want %q", labels(got), tt.want)
			}
			if !got[0].Disabled {
				t.Fatal("the status line is clickable")
			}
			if tt.name == "many pending" && (len(got) != 1+maxTrayApprovals+1+5 || got[maxTrayApprovals+1].Label != "2 more approvals…") {
				t.Fatalf("tray with 7 pending: %q", labels(got))
			}
		})
	}
}

func TestFilterRecords(t *testing.T) {
	recs := populated().records
	recs = append(recs, api.AuditRecord{Seq: 4, Time: t0.Add(-2 * time.Hour), Vault: "claude-work", Service: "github", Outcome: "denied"})
	tests := []struct {
		name string
		f    auditFilter
		want []uint64
	}{
		{"all, newest first", auditFilter{}, []uint64{4, 3, 2, 1}},
		{"vault", auditFilter{vault: "reviewer"}, []uint64{3}},
		{"service", auditFilter{service: "github"}, []uint64{4}},
		{"outcome", auditFilter{outcome: "approved"}, []uint64{2}},
		{"running", auditFilter{outcome: "running"}, []uint64{1}},
		{"last hour", auditFilter{since: time.Hour}, []uint64{3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []uint64
			for _, r := range filterRecords(recs, tt.f, t0) {
				got = append(got, r.Seq)
			}
			if !slices.Equal(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestXDGAutostart(t *testing.T) {
	x := XDGAutostart{Dir: filepath.Join(t.TempDir(), "autostart"), Exec: "/opt/Agent Vault/agentvault"}
	if x.Enabled() {
		t.Fatal("enabled before anything was written")
	}
	if err := x.SetEnabled(true); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(filepath.Join(x.Dir, "agentvault.desktop"))
	if !x.Enabled() || !strings.Contains(string(raw), `Exec="/opt/Agent Vault/agentvault"`) {
		t.Fatalf("desktop entry %q", raw)
	}
	if err := x.SetEnabled(false); err != nil || x.Enabled() {
		t.Fatalf("disable: %v", err)
	}
	if err := x.SetEnabled(false); err != nil {
		t.Fatalf("disabling twice: %v", err)
	}
}

func TestRemoveAServiceFromTheWindow(t *testing.T) {
	co := realCore(t)
	u := window(t, co)
	u.ShowTab("Services")
	test.Tap(button(t, u, "Remove"))
	yes := find(t, u.Window().Canvas().Overlays().Top(), func(b *widget.Button) bool { return b.Text == "Yes" })
	test.Tap(yes)
	if svcs, _ := co.Services(context.Background()); len(svcs) != 0 {
		t.Fatalf("services after Remove: %+v", svcs)
	}
}

func TestSetAGuardFromTheWindow(t *testing.T) {
	co := realCore(t)
	if _, err := co.CreateVault(context.Background(), api.VaultSpec{Name: "work", Services: []string{"echo"}}); err != nil {
		t.Fatal(err)
	}
	u := window(t, co)
	tabs := find(t, u.Window().Content(), func(a *container.AppTabs) bool {
		return slices.ContainsFunc(a.Items, func(i *container.TabItem) bool { return i.Text == "Guards" })
	})
	for _, item := range tabs.Items {
		if item.Text == "Guards" {
			tabs.Select(item)
		}
	}
	paths := find(t, u.Window().Content(), func(e *widget.Entry) bool { return e.PlaceHolder == "/home/me/project" })
	row := find(t, u.Window().Content(), func(c *fyne.Container) bool { return slices.Contains(c.Objects, fyne.CanvasObject(paths)) })
	paths.SetText("/srv/a, /srv/b")
	test.Tap(find(t, row, func(b *widget.Button) bool { return b.Text == "Save" }))

	d, _ := co.Vault(t.Context(), "work")
	if len(d.Guards) != 1 || d.Guards[0].Kind != policy.Path || !slices.Equal(d.Guards[0].Allow, []string{"/srv/a", "/srv/b"}) {
		t.Fatalf("guards after saving: %+v", d.Guards)
	}
}

// A change made elsewhere (the CLI, through the core) shows in an open
// window within a second, read off the UI thread (here the test's
// goroutine, which runs what is queued for it).
func TestChangesElsewhereShowWithinASecond(t *testing.T) {
	co := realCore(t)
	a := test.NewTempApp(t)
	ui := make(chan func(), 64)
	u := New(a, Config{API: co, Changes: co.Subscribe, OnUI: func(f func()) { ui <- f }})
	u.Start(false)
	t.Cleanup(u.Stop)
	u.Show()
	t.Cleanup(func() { u.Window().Close() })
	if _, err := co.CreateVault(t.Context(), api.VaultSpec{Name: "made-in-the-cli", Services: []string{"echo"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Second)
	for {
		if findAll(u.Window().Content(), func(l *widget.Label) bool { return l.Text == "made-in-the-cli" }) {
			return
		}
		select {
		case f := <-ui:
			f()
		case <-deadline:
			t.Fatal("the window did not show a vault made elsewhere within a second")
		}
	}
}

// The window adds a server only after it listed its tools: one that fails
// is refused with its reason and nothing is added.
func TestAddAServerFromTheWindowChecksIt(t *testing.T) {
	co := realCore(t)
	u := window(t, co)
	u.ShowTab("Services")
	form := find(t, u.Window().Content(), func(f *widget.Form) bool { return f.SubmitText == "Add MCP server" })
	entries := map[string]*widget.Entry{}
	for _, item := range form.Items {
		if e, ok := item.Widget.(*widget.Entry); ok {
			entries[item.Text] = e
		}
	}
	test.Type(entries["Name"], "broken")
	test.Type(entries["Command or URL"], "sh -c 'echo no root folder given >&2; exit 1'")
	form.OnSubmit()
	dialog := u.Window().Canvas().Overlays().Top()
	if dialog == nil || !findAll(dialog, func(l *widget.Label) bool { return strings.Contains(l.Text, "no root folder given") }) {
		t.Fatal("no error naming the server's own message")
	}
	if svcs, _ := co.Services(context.Background()); len(svcs) != 1 {
		t.Fatalf("a server that failed its check was added: %+v", svcs)
	}
}

// Without a tray icon the window is the app: it says so, and closing it
// says once, in a notification, that AgentVault keeps running.
func TestWithoutATrayTheWindowSaysItIsTheApp(t *testing.T) {
	co := realCore(t)
	var told []string
	a := test.NewTempApp(t)
	u := New(a, Config{API: co, Run: atOnce, NoTray: "this desktop shows no tray icons",
		Notify: func(title, body string) { told = append(told, title+": "+body) }})
	u.Show()
	if !findAll(u.Window().Content(), func(l *widget.Label) bool {
		return strings.Contains(l.Text, "this desktop shows no tray icons") && strings.Contains(l.Text, "starting AgentVault again opens it")
	}) {
		t.Fatal("the window does not say it is the app")
	}
	u.hideWindow()
	u.Show()
	u.hideWindow()
	if len(told) != 1 || !strings.Contains(told[0], "still running") {
		t.Fatalf("notifications on closing the window twice: %q", told)
	}

	withTray := New(test.NewTempApp(t), Config{API: co, Run: atOnce, Notify: func(title, _ string) { told = append(told, title) }})
	withTray.Show()
	withTray.hideWindow()
	if len(told) != 1 || findAll(withTray.Window().Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, "no tray icon") }) {
		t.Fatal("with a tray the window spoke of its absence")
	}
}

// The Services tab lists what the user's clients start, warns of servers
// that skip AgentVault, and its button moves them behind a vault.
func TestFoundOnThisComputer(t *testing.T) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close) // after the core, whose client holds a stream open
	co := realCore(t)
	home := t.TempDir()
	cursor := filepath.Join(home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(cursor), 0o700)
	os.WriteFile(cursor, []byte(`{"mcpServers": {"notes": {"url": "`+up.URL+`/mcp"}}}`), 0o600)
	u := New(test.NewTempApp(t), Config{API: co, Run: atOnce, Places: api.Places{Home: home, OS: "linux"}, Program: "/usr/bin/agentvault"})
	u.ShowTab("Services")
	content := u.Window().Content()
	if !findAll(content, func(l *widget.Label) bool { return strings.Contains(l.Text, "Cursor starts notes directly") }) {
		t.Fatal("no warning of the server that skips AgentVault")
	}
	test.Tap(find(t, content, func(b *widget.Button) bool { return b.Text == "Import into a vault" }))
	if d, err := co.Vault(context.Background(), "cursor"); err != nil || len(d.Services) != 1 {
		t.Fatalf("the import made no vault with the server: %+v, %v", d, err)
	}
	if raw, _ := os.ReadFile(cursor); strings.Contains(string(raw), up.URL) {
		t.Fatalf("Cursor still reaches the server directly:\n%s", raw)
	}
	u.Refresh()
	if findAll(u.Window().Content(), func(l *widget.Label) bool { return strings.Contains(l.Text, "directly") }) {
		t.Fatal("the warning stayed after the import")
	}
}

func selectTab(t *testing.T, u *UI, name string) {
	t.Helper()
	tabs := find(t, u.Window().Content(), func(a *container.AppTabs) bool {
		return slices.ContainsFunc(a.Items, func(i *container.TabItem) bool { return i.Text == name })
	})
	for _, item := range tabs.Items {
		if item.Text == name {
			tabs.Select(item)
		}
	}
}

// The Data flow tab turns protection on and marks a tool as a source.
func TestDataFlowFromTheWindow(t *testing.T) {
	co := realCore(t)
	if _, err := co.CreateVault(context.Background(), api.VaultSpec{Name: "work", Services: []string{"echo"}}); err != nil {
		t.Fatal(err)
	}
	u := window(t, co)
	selectTab(t, u, "Data flow")
	protect := find(t, u.Window().Content(), func(c *widget.Check) bool { return c.Text == "Protect this vault's data flow" })
	grid := find(t, u.Window().Content(), func(c *fyne.Container) bool {
		_, checks := c.Objects[len(c.Objects)-1].(*widget.Label) // the flow grid: tool, source, sink, why
		return checks && slices.ContainsFunc(c.Objects, func(o fyne.CanvasObject) bool { _, ok := o.(*widget.Check); return ok }) &&
			slices.ContainsFunc(c.Objects, func(o fyne.CanvasObject) bool { l, ok := o.(*widget.Label); return ok && l.Text == "echo_echo" })
	})
	for i, o := range grid.Objects {
		if l, ok := o.(*widget.Label); ok && l.Text == "echo_echo" {
			grid.Objects[i+1].(*widget.Check).SetChecked(true) // its Source check
		}
	}
	protect.SetChecked(true)
	d, _ := co.Vault(t.Context(), "work")
	if !d.Flow.On {
		t.Fatal("the check did not turn data-flow protection on")
	}
	for _, tool := range d.Tools {
		if tool.Name == "echo_echo" && !tool.Flow.Source {
			t.Fatalf("echo_echo is %+v after checking Source (flow %+v)", tool.Flow, d.Flow)
		}
	}
}

// explainingServer stands in for the MCP server the root attaches.
type explainingServer struct{ x policy.Explanation }

func (*explainingServer) Changed(api.Change)       {}
func (*explainingServer) Sessions() map[string]int { return nil }
func (s *explainingServer) Explain(context.Context, string, string, api.ExplainSpec) (policy.Explanation, error) {
	return s.x, nil
}

// A tool's rule button explains its decision, reason by reason.
func TestWhyExplainsATool(t *testing.T) {
	co := realCore(t)
	if _, err := co.CreateVault(context.Background(), api.VaultSpec{Name: "work", Services: []string{"echo"}}); err != nil {
		t.Fatal(err)
	}
	x := policy.Explanation{Decision: policy.Block, Rule: "rate_limited"}
	x.Add("limit", policy.Block, "rate limit 1/min reached for this vault")
	defer co.Attach(&explainingServer{x})()
	u := window(t, co)
	test.Tap(find(t, u.Window().Content(), func(b *widget.Button) bool { return b.Text == "default (read-only)" }))
	overlay := u.Window().Canvas().Overlays().Top()
	if overlay == nil || !findAll(overlay, func(l *widget.Label) bool { return strings.Contains(l.Text, "limit — block: rate limit 1/min") }) {
		t.Fatal("no explanation shown")
	}
}
