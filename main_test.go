package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers/providertest"
)

// noKeychain keeps the processes tests start away from the developer's own
// keychain: a test that wants one starts a private one and names its bus.
const noKeychain = "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/agentvault-test-bus"

// The test binary doubles as the agentvault binary and as a stdio upstream,
// so these tests run real processes without a separate build.
const roleEnv = "AGENTVAULT_TEST_ROLE"

// platformRoles are the roles defined by tests of one platform only.
var platformRoles = map[string]func(args []string) (exitCode int){}

func TestMain(m *testing.M) {
	if role, ok := platformRoles[os.Getenv(roleEnv)]; ok {
		os.Exit(role(os.Args[1:]))
	}
	switch os.Getenv(roleEnv) {
	case "agentvault":
		main()
		os.Exit(0)
	case "upstream":
		rec := providertest.NewRecorder()
		if err := server.ServeStdio(providertest.NewEchoServer(rec)); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// env is a data folder with a stdio echo upstream configured as service "echo".
type env struct {
	t    *testing.T
	data string
	// environ is added to every command's environment.
	environ []string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	dir := t.TempDir()
	e := &env{t: t, data: filepath.Join(dir, "data")}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	// The upstream is this binary in its "upstream" role.
	e.cli("service", "add-mcp", "echo", "--command",
		fmt.Sprintf("env %s=upstream %s", roleEnv, self))
	return e
}

func (e *env) cmd(args ...string) *exec.Cmd {
	self, _ := os.Executable()
	cmd := exec.Command(self, append(args, "--data", e.data)...)
	cmd.Env = append(append(os.Environ(), roleEnv+"=agentvault", noKeychain), e.environ...)
	return cmd
}

// cli runs one CLI command and returns its standard output.
func (e *env) cli(args ...string) string {
	e.t.Helper()
	out, err := e.cmd(args...).Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		e.t.Fatalf("agentvault %s: %v\n%s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

func (e *env) cliJSON(v any, args ...string) {
	e.t.Helper()
	if err := json.Unmarshal([]byte(e.cli(append(args, "--json")...)), v); err != nil {
		e.t.Fatal(err)
	}
}

type newVault struct{ ID, URL, Token string }

var servingLine = regexp.MustCompile(`serving on http://([0-9.:]+)`)

// serve starts `serve` on a free port and returns the process and address.
func (e *env) serve() (*exec.Cmd, string) {
	e.t.Helper()
	cmd := e.cmd("serve", "--listen", "127.0.0.1:0")
	stdout, _ := cmd.StdoutPipe()
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	lines := bufio.NewScanner(stdout)
	found := make(chan string, 1)
	go func() {
		for lines.Scan() {
			if m := servingLine.FindStringSubmatch(lines.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	select {
	case addr := <-found:
		return cmd, addr
	case <-time.After(20 * time.Second):
		e.t.Fatalf("serve did not start: %s", stderr.String())
		return nil, ""
	}
}

func dial(t *testing.T, url, token string) *client.Client {
	t.Helper()
	return dialAs(t, url, token, mcp.LATEST_PROTOCOL_VERSION)
}

// dialAs is dial speaking protocol revision version; 2025-11-25 and
// earlier keep a session and listen for the server's notifications.
func dialAs(t *testing.T, url, token, version string) *client.Client {
	t.Helper()
	opts := []transport.StreamableHTTPCOption{transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token})}
	if version <= mcp.ProtocolVersion20251125 {
		opts = append(opts, transport.WithContinuousListening())
	}
	tr, err := transport.NewStreamableHTTP(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(version))
	t.Cleanup(func() { c.Close() })
	if err := c.Start(t.Context()); err != nil { // the listening stream lives as long as this context
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = version
	init.Params.ClientInfo = mcp.Implementation{Name: "go-e2e", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestSecondServeExitsWithClearMessage(t *testing.T) {
	e := newEnv(t)
	first, addr := e.serve()
	out, err := e.cmd("serve", "--listen", "127.0.0.1:0").CombinedOutput()
	if err == nil {
		t.Fatal("second serve on the same data folder succeeded")
	}
	want := fmt.Sprintf("already running with data folder %s (pid %d, serving http://%s)", e.data, first.Process.Pid, addr)
	if !strings.Contains(string(out), want) {
		t.Fatalf("second serve said %q, want it to contain %q", out, want)
	}
}

func TestCLIChangesReachTheRunningServer(t *testing.T) {
	e := newEnv(t)
	var v newVault
	e.cliJSON(&v, "vault", "create", "offline", "--service", "echo") // no server yet: direct store access
	_, addr := e.serve()
	c := dial(t, "http://"+addr+"/v/"+v.ID+"/mcp", v.Token)
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil {
		t.Fatalf("vault created offline does not work once served: %v", err)
	}
	e.cli("vault", "policy", "offline", "echo_echo", "block") // through the control socket
	var show struct {
		URL   string
		Tools []struct{ Name, Decision, Rule string }
	}
	e.cliJSON(&show, "vault", "show", v.ID)
	if !strings.Contains(show.URL, addr) {
		t.Fatalf("vault URL %s does not name the running server %s", show.URL, addr)
	}
	for _, tl := range show.Tools {
		if tl.Name == "echo_echo" && (tl.Decision != "block" || tl.Rule != "echo_echo") {
			t.Fatalf("echo_echo shows %+v after the policy change", tl)
		}
	}
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": "x"}
	if _, err := c.CallTool(t.Context(), req); err == nil {
		t.Fatal("a tool blocked through the CLI is still callable")
	}
	var rotated struct{ Token string }
	e.cliJSON(&rotated, "vault", "rotate", "offline")
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("the old token works after rotation through the CLI")
	}
	dial(t, "http://"+addr+"/v/"+v.ID+"/mcp", rotated.Token)
	if out, err := e.cmd("vault", "show", "nope").CombinedOutput(); err == nil || !strings.Contains(string(out), `vault "nope": not found`) {
		t.Fatalf("unknown vault: %v %s", err, out)
	}
}

// A vault's services change from the CLI, and deleting a vault its agents
// are connected to asks first: without a terminal it takes --force.
func TestVaultServicesAndDeletingAVaultInUse(t *testing.T) {
	e := newEnv(t)
	var v newVault
	if out := e.cli("vault", "create", "later"); !strings.Contains(out, `agentvault vault services "later" add SERVICE`) {
		t.Fatalf("creating a vault without services says:\n%s", out)
	}
	e.cliJSON(&v, "vault", "create", "work")
	_, addr := e.serve()
	c := dialAs(t, "http://"+addr+"/v/"+v.ID+"/mcp", v.Token, mcp.ProtocolVersion20251125)
	if tools, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil || len(tools.Tools) != 0 {
		t.Fatalf("a vault without services lists %v, %v", tools, err)
	}
	changed := make(chan struct{}, 1)
	time.Sleep(100 * time.Millisecond) // let the listening GET stream open
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationToolsListChanged) {
			changed <- struct{}{}
		}
	})
	if out := e.cli("vault", "services", "work", "add", "echo"); !strings.Contains(out, "offers the tools of: echo") {
		t.Fatalf("vault services add: %s", out)
	}
	select {
	case <-changed:
	case <-time.After(20 * time.Second):
		t.Fatal("the connected agent never heard that its tools changed")
	}
	if tools, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err != nil || len(tools.Tools) == 0 {
		t.Fatalf("after adding echo the connected agent lists %v, %v", tools, err)
	}
	for _, bad := range [][]string{{"work", "add", "echo"}, {"work", "add", "nope"}, {"work", "remove", "nope"}, {"work", "swap", "echo"}} {
		if out, err := e.cmd(append([]string{"vault", "services"}, bad...)...).CombinedOutput(); err == nil {
			t.Errorf("vault services %v succeeded: %s", bad, out)
		}
	}
	out, err := e.cmd("vault", "delete", "work").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "vault work has 1 connected agent") || !strings.Contains(string(out), "--force") {
		t.Fatalf("deleting a vault in use without a terminal: %v\n%s", err, out)
	}
	e.cli("vault", "delete", "work", "--force")
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("the deleted vault still answers its agent")
	}
	e.cli("vault", "delete", "later") // nobody connected: no question
}

// The running server's log is kept in the data folder, private; logs prints
// its end and, with -f, what is written next.
func TestLogsCommand(t *testing.T) {
	e := newEnv(t)
	if out, err := e.cmd("logs").CombinedOutput(); err == nil || !strings.Contains(string(out), "no log yet") {
		t.Fatalf("logs before any run: %v %s", err, out)
	}
	e.serve()
	var followed syncBuffer
	follow := e.cmd("logs", "-f", "--lines", "0")
	follow.Stdout = &followed
	if err := follow.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { follow.Process.Kill(); follow.Wait() })
	time.Sleep(300 * time.Millisecond) // it has read the log's end
	self, _ := os.Executable()
	e.cli("service", "add-mcp", "second", "--command", fmt.Sprintf("env %s=upstream %s", roleEnv, self))
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(followed.String(), `msg="service connected" service=second`) {
		if time.Now().After(deadline) {
			t.Fatalf("logs -f did not show the new line; it showed %q", followed.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if strings.Contains(followed.String(), "desktop notifications") {
		t.Fatalf("logs -f --lines 0 repeated older lines: %q", followed.String())
	}
	if out := e.cli("logs", "--lines", "1"); strings.Count(out, "\n") != 1 || !strings.Contains(out, "service=second") {
		t.Fatalf("logs --lines 1: %q", out)
	}
	if fi, err := os.Stat(filepath.Join(e.data, "agentvault.log")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v, %v", fi.Mode(), err)
	}
}

// syncBuffer is a buffer a process writes to while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A user's Cursor starts an MCP server directly. clients scan sees it,
// clients import moves it behind a vault (its credential into the secret
// store, Cursor's config pointed at the vault), the tools are served through
// the vault, and clients undo gives Cursor its server back, keeping what the
// user added by hand since.
func TestClientsScanImportUndo(t *testing.T) {
	home := t.TempDir()
	self, _ := os.Executable()
	cursor := filepath.Join(home, ".cursor", "mcp.json")
	os.MkdirAll(filepath.Dir(cursor), 0o700)
	orig := fmt.Sprintf(`{
  "mcpServers": {
    "files": {
      "command": "env",
      "args": [%q, %q],
      "env": {"FILES_API_KEY": "canary-files-key-4417"}
    }
  }
}
`, roleEnv+"=upstream", self)
	os.WriteFile(cursor, []byte(orig), 0o600)
	e := newEnv(t)
	e.environ = []string{"HOME=" + home, "AGENTVAULT_PASSPHRASE=pw", "XDG_CONFIG_HOME=", "CODEX_HOME="}

	var scan []struct {
		Client, Config string
		Servers        []struct {
			Name              string
			ThroughAgentVault bool `json:"through_agentvault"`
		}
	}
	e.cliJSON(&scan, "clients", "scan")
	if len(scan) != 1 || scan[0].Client != "cursor" || scan[0].Config != cursor || len(scan[0].Servers) != 1 || scan[0].Servers[0].ThroughAgentVault {
		t.Fatalf("scan: %+v", scan)
	}
	if out := e.cli("clients", "scan"); !strings.Contains(out, "Cursor reaches files directly") {
		t.Fatalf("scan does not warn of the bypass:\n%s", out)
	}
	_, addr := e.serve()
	if out := e.cli("status"); !strings.Contains(out, "Warning: Cursor reaches files directly") {
		t.Fatalf("status does not warn of the bypass:\n%s", out)
	}
	out := e.cli("clients", "import", "cursor")
	if !strings.Contains(out, "Moved files behind vault cursor") || !strings.Contains(out, "agentvault clients undo cursor") {
		t.Fatalf("import said:\n%s", out)
	}
	var edited struct {
		MCPServers map[string]struct {
			URL     string
			Headers map[string]string
		}
	}
	raw, _ := os.ReadFile(cursor)
	json.Unmarshal(raw, &edited)
	entry, ok := edited.MCPServers["cursor"]
	if !ok || len(edited.MCPServers) != 1 || !strings.Contains(entry.URL, addr) || strings.Contains(string(raw), "canary-files-key") {
		t.Fatalf("Cursor's config after the import:\n%s", raw)
	}
	c := dial(t, entry.URL, strings.TrimPrefix(entry.Headers["Authorization"], "Bearer "))
	tools, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil || len(tools.Tools) == 0 || !strings.HasPrefix(tools.Tools[0].Name, "files_") {
		t.Fatalf("the vault Cursor now reaches lists %+v, %v", tools, err)
	}

	mine := strings.Replace(string(raw), `"mcpServers": {`, `"mcpServers": {
    "mine": {"command": "my-mcp"},`, 1)
	os.WriteFile(cursor, []byte(mine), 0o600)
	e.cli("clients", "undo", "cursor")
	back, _ := os.ReadFile(cursor)
	for _, want := range []string{`"files"`, "canary-files-key-4417", `"mine"`} {
		if !strings.Contains(string(back), want) {
			t.Errorf("after undo Cursor's config lacks %s:\n%s", want, back)
		}
	}
	if strings.Contains(string(back), addr) {
		t.Errorf("after undo Cursor still reaches the vault:\n%s", back)
	}
	filepath.WalkDir(e.data, func(path string, d os.DirEntry, err error) error {
		if raw, _ := os.ReadFile(path); err == nil && !d.IsDir() && bytes.Contains(raw, []byte("canary-files-key")) {
			t.Errorf("the server's credential is in %s", path)
		}
		return nil
	})
}

func TestServeListensOnLoopbackOnly(t *testing.T) {
	e := newEnv(t)
	for _, addr := range []string{"0.0.0.0:0", "[::]:0", "192.0.2.1:0", "example.com:0"} {
		if out, err := e.cmd("serve", "--listen", addr).CombinedOutput(); err == nil || !strings.Contains(string(out), "loopback") {
			t.Errorf("serve --listen %s: %v %s", addr, err, out)
		}
	}
	_, addr := e.serve()
	_, port, _ := net.SplitHostPort(addr)
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		ip, _, _ := net.ParseCIDR(a.String())
		if ip == nil || ip.IsLoopback() {
			continue
		}
		if conn, err := net.DialTimeout("tcp", net.JoinHostPort(ip.String(), port), time.Second); err == nil {
			conn.Close()
			t.Fatalf("serve answers on %s", ip)
		}
	}
}

func TestVaultTemplateThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	e.cli("vault", "create", "work", "--service", "echo", "--approval-timeout", "45s")
	e.cli("vault", "policy", "work", "echo_*", "block")
	tpl := filepath.Join(t.TempDir(), "work.json")
	os.WriteFile(tpl, []byte(e.cli("vault", "export", "work")), 0o600)
	var nv newVault
	e.cliJSON(&nv, "vault", "import", tpl, "--name", "copy")
	if nv.Token == "" {
		t.Fatal("import gave no token")
	}
	if a, b := e.cli("vault", "export", "work"), e.cli("vault", "export", "copy"); strings.Replace(a, `"work"`, `"copy"`, 1) != b {
		t.Fatalf("export → import changed the vault:\n%s\n%s", a, b)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"kind":"agentvault-vault-template","version":1,"name":"x","services":["echo"],"rules":[{"pattern":"*","decision":"yes"}]}`), 0o600)
	out, err := e.cmd("vault", "import", bad).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "rules[0].decision") {
		t.Fatalf("malformed template: %v %s", err, out)
	}
}

func TestExpiringVaultThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	e.cli("vault", "create", "temp", "--service", "echo", "--expires", "2h")
	if out := e.cli("vault", "show", "temp"); !strings.Contains(out, "Expires: ") || strings.Contains(out, "never") {
		t.Fatalf("show: %s", out)
	}
	for _, args := range [][]string{
		{"vault", "renew", "temp"},
		{"vault", "renew", "temp", "--expires", "1h", "--never"},
		{"vault", "renew", "temp", "--until", "2001-01-01T00:00:00Z"},
		{"vault", "create", "x", "--service", "echo", "--until", "tomorrow"},
	} {
		if out, err := e.cmd(args...).CombinedOutput(); err == nil {
			t.Errorf("%v accepted: %s", args, out)
		}
	}
	e.cli("vault", "renew", "temp", "--never")
	if out := e.cli("vault", "show", "temp"); !strings.Contains(out, "Expires: never") {
		t.Fatalf("after renew --never: %s", out)
	}
}

func TestRateLimitThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	e.cli("vault", "create", "work", "--service", "echo")
	e.cli("vault", "limit", "work", "*", "60/min")
	if out := e.cli("vault", "show", "work"); !strings.Contains(out, "Rate limit: 60/min on *") {
		t.Fatalf("show: %s", out)
	}
	if out, err := e.cmd("vault", "limit", "work", "*", "60/fortnight").CombinedOutput(); err == nil || !strings.Contains(string(out), "COUNT/UNIT") {
		t.Fatalf("bad limit: %v %s", err, out)
	}
	e.cli("vault", "limit", "work", "*", "off")
	if out := e.cli("vault", "show", "work"); strings.Contains(out, "Rate limit") {
		t.Fatalf("limit still shown after off: %s", out)
	}
}

func TestClientSetupThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	var v newVault
	e.cliJSON(&v, "vault", "create", "work", "--service", "echo")
	if out := e.cli("client", "setup", "claude-code", "work"); !strings.Contains(out, "claude mcp add --transport http work "+v.URL) || !strings.Contains(out, "<TOKEN>") {
		t.Fatalf("print: %s", out)
	}
	cfg := filepath.Join(t.TempDir(), "mcp.json")
	orig := `{"mcpServers":{"other":{"command":"x"}}}`
	os.WriteFile(cfg, []byte(orig), 0o600)
	if out, err := e.cmd("client", "setup", "cursor", "work", "--write", "--config", cfg).CombinedOutput(); err == nil {
		t.Fatalf("--write without a token succeeded: %s", out)
	}
	cmd := e.cmd("client", "setup", "cursor", "work", "--write", "--config", cfg)
	cmd.Env = append(cmd.Env, "AGENTVAULT_TOKEN="+v.Token)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("--write: %v %s", err, out)
	}
	written, _ := os.ReadFile(cfg)
	if !strings.Contains(string(written), v.URL) || !strings.Contains(string(written), `"other"`) {
		t.Fatalf("config after --write: %s", written)
	}
	e.cli("client", "setup", "cursor", "work", "--undo", "--config", cfg)
	if back, _ := os.ReadFile(cfg); string(back) != orig {
		t.Fatalf("--undo gave %s", back)
	}
}

func TestPresetsThroughTheCLI(t *testing.T) {
	e := newEnv(t)
	e.cli("vault", "create", "dev", "--service", "echo", "--preset", "developer")
	var show struct {
		Tools []struct{ Name, Decision string }
	}
	e.cliJSON(&show, "vault", "show", "dev")
	got := map[string]string{}
	for _, tl := range show.Tools {
		got[tl.Name] = tl.Decision
	}
	if got["echo_echo"] != "allow" || got["echo_write_note"] != "allow" || got["echo_delete_note"] != "approve" {
		t.Fatalf("developer preset: %v", got)
	}
	e.cli("vault", "preset", "dev", "public-bot")
	var bot struct {
		Tools      []struct{ Name, Decision string }
		RateLimits []struct{ Pattern string } `json:"rate_limits"`
	}
	e.cliJSON(&bot, "vault", "show", "dev")
	for _, tl := range bot.Tools {
		if tl.Name == "echo_write_note" && tl.Decision != "block" {
			t.Fatalf("public-bot preset left write_note %s", tl.Decision)
		}
	}
	if len(bot.RateLimits) != 2 {
		t.Fatalf("public-bot preset limits: %+v", bot.RateLimits)
	}
	if out, err := e.cmd("vault", "create", "x", "--service", "echo", "--preset", "yolo").CombinedOutput(); err == nil || !strings.Contains(string(out), "unknown preset") {
		t.Fatalf("unknown preset: %v %s", err, out)
	}
	if out := e.cli("vault", "list"); strings.Contains(out, " x ") {
		t.Fatalf("a vault with a failed preset was left behind: %s", out)
	}
}

// TestInitFirstRun answers the guided first run the way a person pressing
// Enter mostly would.
func TestInitFirstRun(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	self, _ := os.Executable()
	answers := strings.Join([]string{
		"sh -c 'echo missing --root >&2; exit 2'", // a command that fails the check
		"", // name: fs
		fmt.Sprintf("env %s=upstream %s", roleEnv, self), // the server's command
		"2", // agent: Cursor
		"",  // vault name: cursor
		"3", // permissions: developer
		"",  // don't write the config
	}, "\n") + "\n"
	cmd := exec.Command(self, "init", "--data", data)
	cmd.Env = append(os.Environ(), roleEnv+"=agentvault", noKeychain, "HOME="+dir)
	cmd.Stdin = strings.NewReader(answers)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	for _, want := range []string{"That did not work", "missing --root", "Added service fs: connected, 6 tools.", "Created vault cursor with the developer permissions.", "Token: avt_", "Add to ~/.cursor/mcp.json", `"mcpServers"`} {
		if !strings.Contains(string(out), want) {
			t.Errorf("init output lacks %q:\n%s", want, out)
		}
	}
	e := &env{t: t, data: data}
	var show struct {
		Tools []struct{ Name, Decision string }
	}
	e.cliJSON(&show, "vault", "show", "cursor")
	for _, tl := range show.Tools {
		if tl.Name == "fs_write_note" && tl.Decision != "allow" {
			t.Fatalf("the developer preset was not applied: %+v", show.Tools)
		}
	}
	if len(show.Tools) == 0 {
		t.Fatal("the vault offers no tools")
	}
}

// TestPassphraseSecretStore runs without a keychain: credentials go to an
// encrypted file in the data folder, readable only with the passphrase.
func TestPassphraseSecretStore(t *testing.T) {
	e := newEnv(t)
	const canary = "canary-header-value-31d7"
	run := func(pass string, args ...string) (string, error) {
		cmd := e.cmd(args...)
		cmd.Env = append(cmd.Env, "AGENTVAULT_PASSPHRASE="+pass, "DBUS_SESSION_BUS_ADDRESS=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("pw", "service", "add-mcp", "remote", "--url", "http://127.0.0.1:1/mcp", "--no-check", "--header", "Authorization: Bearer "+canary); err != nil {
		t.Fatalf("add with a passphrase: %v %s", err, out)
	}
	enc, err := os.ReadFile(filepath.Join(e.data, "secrets.enc"))
	if err != nil || bytes.Contains(enc, []byte(canary)) {
		t.Fatalf("secrets file: %v, plaintext inside: %v", err, bytes.Contains(enc, []byte(canary)))
	}
	db, _ := os.ReadFile(filepath.Join(e.data, store.FileName))
	if bytes.Contains(db, []byte(canary)) {
		t.Fatal("the header value reached the store")
	}
	out, _ := run("pw", "service", "list")
	if !strings.Contains(out, "starts when an agent first needs it") {
		t.Fatalf("with the passphrase: %s", out)
	}
	for _, args := range [][]string{{"service", "list"}, {"vault", "create", "w"}, {"client", "setup", "cursor", "w"}, {"serve", "--listen", "127.0.0.1:0"}} {
		out, err := run("wrong", args...)
		if err == nil || !strings.Contains(out, "AGENTVAULT_PASSPHRASE: the secrets file cannot be opened with this passphrase") || strings.Contains(out, canary) {
			t.Errorf("%v with a wrong passphrase: %v\n%s", args, err, out)
		}
	}
}

// Without a keychain and without a passphrase, a new vault's token cannot
// be kept: creating it says so and how to fix it, and client setup says the
// placeholder must be filled in.
func TestNoKeychainNoPassphrase(t *testing.T) {
	e := newEnv(t)
	run := func(args ...string) (string, error) {
		cmd := e.cmd(args...)
		cmd.Env = append(cmd.Env, "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent", "AGENTVAULT_PASSPHRASE=")
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	out, err := run("vault", "create", "w", "--service", "echo")
	if err != nil || !strings.Contains(out, "the token could not be kept (no keychain service is running") || !strings.Contains(out, "set AGENTVAULT_PASSPHRASE") {
		t.Fatalf("vault create without a keychain: %v\n%s", err, out)
	}
	out, err = run("client", "setup", "cursor", "w")
	if err != nil || !strings.Contains(out, "Bearer <TOKEN>") || !strings.Contains(out, "put it in place of <TOKEN>") {
		t.Fatalf("client setup without a kept token: %v\n%s", err, out)
	}
	out, err = run("service", "add-mcp", "remote", "--url", "http://127.0.0.1:1/mcp", "--no-check", "--header", "Authorization: Bearer x")
	if err == nil || !strings.Contains(out, "no keychain service is running") || !strings.Contains(out, "AGENTVAULT_PASSPHRASE") {
		t.Fatalf("a header without a keychain: %v\n%s", err, out)
	}
}

// Under the plain C locale with a character set (servers, containers) no
// command prints the GUI toolkit's locale error, and what AgentVault starts
// still sees the locale the user set.
func TestNoLocaleNoise(t *testing.T) {
	for _, env := range [][]string{{"LANG=C.UTF-8"}, {"LANG=C"}, {"LC_ALL=C.UTF-8"}} {
		cmd := exec.Command(os.Args[0], "version")
		cmd.Env = append(os.Environ(), roleEnv+"=agentvault", "LC_ALL=", "LC_MESSAGES=", "LANGUAGE=")
		cmd.Env = append(cmd.Env, env...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if out, err := cmd.Output(); err != nil || !strings.HasPrefix(string(out), "agentvault ") || stderr.Len() > 0 {
			t.Errorf("%v: %q %v, stderr %q", env, out, err, stderr.String())
		}
	}
}
