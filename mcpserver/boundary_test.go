package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/redact"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/providertest"
	"github.com/agentvault/agentvault/providers/upstream"
)

// The test binary doubles as a stdio echo upstream, for what only a server
// on this machine can show (paths through symbolic links).
func TestMain(m *testing.M) {
	if os.Getenv("MCPSERVER_TEST_ROLE") == "echo" {
		if err := server.ServeStdio(providertest.NewEchoServer(providertest.NewRecorder())); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A service that repeats its credential never gets it to the agent: not in
// a relayed result, not in one mcp-go answers after an approval, not in a
// tool error, a progress message or a protocol error.
func TestConfiguredSecretsNeverReachTheAgent(t *testing.T) {
	const secret = "s3cr3t-credential-0042"
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewLeakyServer()))
	t.Cleanup(up.Close)
	p, err := upstream.New(upstream.Config{Name: "leaky", URL: up.URL + "/mcp", Headers: map[string]string{"Authorization": "Bearer " + secret}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	set := &redact.Set{}
	set.Put("leaky", "Bearer "+secret)
	aud := &memAuditor{}
	srv := New(Config{Catalog: catalog{"leaky": p}, Auditor: aud, Approver: approveAll{}, Redactor: set})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, url: hs.URL, audit: aud}
	tok, digest := vaulttoken.New()
	// leak_error asks for approval, so mcp-go answers it; the rest are relayed.
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"leaky"},
		Policy: policy.Policy{Rules: []policy.Rule{{Pattern: "leaky_leak_error", Decision: policy.Approve}}}})

	for _, proto := range []string{legacy, modern} {
		c := f.connect(t, "a", tok, proto)
		var mu sync.Mutex
		var progress []string
		c.OnNotification(func(n mcp.JSONRPCNotification) {
			raw, _ := json.Marshal(n)
			mu.Lock()
			progress = append(progress, string(raw))
			mu.Unlock()
		})
		var seen []string
		for _, tool := range []string{"leaky_leak", "leaky_leak_error", "leaky_leak_failure", "leaky_leak_progress"} {
			req := mcp.CallToolRequest{}
			req.Params.Name = tool
			req.Params.Meta = &mcp.Meta{ProgressToken: "p-" + tool}
			res, err := c.CallTool(t.Context(), req)
			raw, _ := json.Marshal(res)
			seen = append(seen, tool+": "+string(raw)+" "+errString(err))
		}
		for deadline := time.Now().Add(2 * time.Second); proto == legacy; time.Sleep(10 * time.Millisecond) {
			mu.Lock()
			n := len(progress)
			mu.Unlock()
			if n > 0 || time.Now().After(deadline) {
				break
			}
		}
		mu.Lock()
		seen = append(seen, progress...)
		mu.Unlock()
		all := strings.Join(seen, "\n")
		if strings.Contains(all, secret) {
			t.Fatalf("%s: the credential reached the agent:\n%s", proto, all)
		}
		for _, want := range []string{"my credential is [redacted]", `\"[redacted]\"`, "refused for credential [redacted]"} {
			if !strings.Contains(all, want) {
				t.Errorf("%s: %q missing from what the agent got:\n%s", proto, want, all)
			}
		}
		if proto == legacy && !strings.Contains(all, "working with [redacted]") {
			t.Errorf("progress not relayed redacted:\n%s", all)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// The approver hears when a session ends, so that its grants end with it.
func TestSessionEndIsReported(t *testing.T) {
	ended := make(chan string, 4)
	f := newFixture(t, nil, func(c *Config) {
		c.OnSessionEnd = func(vault, session string) { ended <- vault + "/" + session }
	})
	tok := f.vault(t, "a")
	id := f.connect(t, "a", tok, legacy).GetSessionId()
	// mcp-go's client sends its DELETE without the vault's token; real
	// clients send it with.
	req, _ := http.NewRequest(http.MethodDelete, f.url+"/v/a/mcp", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set(server.HeaderKeySessionID, id)
	req.Header.Set(mcp.HeaderProtocolVersion, legacy)
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	resp.Body.Close()
	select {
	case got := <-ended:
		if got != "a/"+id {
			t.Fatalf("ended %q, want a/%s", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the end of the session was not reported")
	}
}

// For a server on this machine a path guard follows symbolic links: a link
// inside an allowed folder does not lead a call outside it, a dangling link
// (where a write would create the file) is followed too, an allowlist entry
// reached through a link allows what it led to when saved, and a link
// planted at an entry's place later widens nothing.
func TestPathGuardFollowsSymbolicLinksOfLocalServers(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	allowed, outside := filepath.Join(root, "allowed"), filepath.Join(root, "outside")
	os.Mkdir(allowed, 0o700)
	os.Mkdir(outside, 0o700)
	os.WriteFile(filepath.Join(outside, "secret.txt"), []byte("x"), 0o600)
	os.Symlink(outside, filepath.Join(allowed, "escape"))
	os.Symlink(filepath.Join(outside, "new.txt"), filepath.Join(allowed, "dangling"))
	os.Symlink(allowed, filepath.Join(root, "via-link"))

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := upstream.New(upstream.Config{Name: "echo", Command: []string{self}, Env: []string{"MCPSERVER_TEST_ROLE=echo"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	aud := &memAuditor{}
	srv := New(Config{Catalog: catalog{"echo": p}, Auditor: aud})
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close)
	f := &fixture{srv: srv, url: hs.URL, audit: aud}
	tok, digest := vaulttoken.New()
	planted := filepath.Join(root, "planted-later")
	// As core saves it: each entry with where it led then; planted-later
	// did not exist yet.
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"}, Policy: policy.Policy{
		Guards: []policy.Guard{{Kind: policy.Path, Allow: []string{filepath.Join(root, "via-link"), planted},
			Resolved: []string{allowed, planted}}}}})
	c := f.connect(t, "a", tok, legacy)
	os.Symlink("/", planted) // a link planted at an entry's place after it was saved

	for _, tc := range []struct {
		path, refusal string
	}{
		{filepath.Join(allowed, "notes.txt"), ""},
		{filepath.Join(root, "via-link", "notes.txt"), ""},
		{filepath.Join(allowed, "escape", "secret.txt"), "leads to " + filepath.Join(outside, "secret.txt") + " through a symbolic link"},
		{filepath.Join(allowed, "dangling"), "leads to " + filepath.Join(outside, "new.txt") + " through a symbolic link"},
		{filepath.Join(outside, "secret.txt"), "outside this vault's allowlist"},
		{filepath.Join(planted, "etc", "passwd"), "leads to /etc/passwd through a symbolic link"},
	} {
		res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "hi", "path": tc.path})
		if err != nil {
			t.Fatal(err)
		}
		text := providertest.ResultText(res)
		if tc.refusal == "" && res.IsError || tc.refusal != "" && (!res.IsError || !strings.Contains(text, tc.refusal)) {
			t.Errorf("%s: %q, want refusal %q", tc.path, text, tc.refusal)
		}
	}
	recs := aud.records()
	if last := recs[len(recs)-1]; last.Outcome != audit.Blocked || last.Rule != "guard:path" {
		t.Fatalf("refusal audited as %+v", last)
	}
}

// An unknown vault answers exactly as a known one with a wrong token.
func TestUnknownVaultIsAWrongToken(t *testing.T) {
	f := newFixture(t, nil)
	f.vault(t, "known")
	answer := func(id string) string {
		req, _ := http.NewRequest(http.MethodPost, f.url+"/v/"+id+"/mcp", strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
		req.Header.Set("Authorization", "Bearer avt_wrong")
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return fmt.Sprint(resp.StatusCode, resp.Header.Get("WWW-Authenticate"), string(body))
	}
	if known, unknown := answer("known"), answer("vnosuchvault"); known != unknown || !strings.HasPrefix(known, "401") {
		t.Fatalf("known vault, wrong token: %s\nunknown vault: %s", known, unknown)
	}
}

// waitingApprover holds every call until release is closed.
type waitingApprover struct {
	waiting chan struct{}
	release chan struct{}
}

func (a waitingApprover) Approve(ctx context.Context, _ approval.Request) approval.Verdict {
	a.waiting <- struct{}{}
	select {
	case <-a.release:
		return approval.Verdict{Approved: true, Channel: "test"}
	case <-ctx.Done():
		return approval.Verdict{Channel: "agent", Outcome: audit.Cancelled, Reason: "gone"}
	}
}

// A vault's agents cannot hold more than MaxPending calls waiting for
// approval: the next is refused at once, and audited.
func TestPendingApprovalsAreCapped(t *testing.T) {
	a := waitingApprover{waiting: make(chan struct{}, 8), release: make(chan struct{})}
	f := newFixture(t, a, func(c *Config) { c.Limits.MaxPending = 2 })
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	results := make(chan *mcp.CallToolResult, 2)
	for range 2 {
		go func() {
			res, _ := callTool(t.Context(), c, "echo_write_note", map[string]any{"text": "x"})
			results <- res
		}()
		<-a.waiting
	}
	res, err := callTool(t.Context(), c, "echo_write_note", map[string]any{"text": "x"})
	if err != nil || !res.IsError || !strings.Contains(providertest.ResultText(res), "2 calls of this vault already wait for approval") {
		t.Fatalf("third call: %+v %v", res, err)
	}
	recs := f.audit.records()
	if last := recs[len(recs)-1]; last.Outcome != audit.RateLimited {
		t.Fatalf("refusal audited as %+v", last)
	}
	close(a.release)
	for range 2 {
		if res := <-results; res == nil || res.IsError {
			t.Fatalf("a waiting call failed: %+v", res)
		}
	}
	if res, err := callTool(t.Context(), c, "echo_write_note", nil); err != nil || res.IsError {
		t.Fatalf("after the waiting calls were answered: %+v %v", res, err)
	}
}

// Beyond MaxSessions a new session ends the one idle longest.
func TestOpenSessionsAreCapped(t *testing.T) {
	ended := make(chan string, 8)
	f := newFixture(t, nil, func(c *Config) {
		c.Limits.MaxSessions = 2
		c.OnSessionEnd = func(_, session string) { ended <- session }
	})
	tok := f.vault(t, "a")
	first := f.connect(t, "a", tok, legacy)
	second := f.connect(t, "a", tok, legacy)
	toolNames(t, first) // first is now the more recently used
	third := f.connect(t, "a", tok, legacy)
	select {
	case id := <-ended:
		if id != second.GetSessionId() {
			t.Fatalf("ended %s, want the idle one %s", id, second.GetSessionId())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no session ended")
	}
	if _, err := second.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("the evicted session still works")
	}
	for _, c := range []*client.Client{first, third} {
		if len(toolNames(t, c)) == 0 {
			t.Fatal("a kept session lost its tools")
		}
	}
	if n := f.srv.Sessions()["a"]; n != 2 {
		t.Fatalf("%d sessions open, want 2", n)
	}
}

// A body that does not arrive within BodyTimeout ends the connection; a
// call whose body arrived may still wait for approval longer than that.
func TestSlowBodiesAreCutButApprovalWaitsAreNot(t *testing.T) {
	a := waitingApprover{waiting: make(chan struct{}, 1), release: make(chan struct{})}
	f := newFixture(t, a, func(c *Config) { c.Limits.BodyTimeout = 200 * time.Millisecond })
	tok := f.vault(t, "a")
	c := f.connect(t, "a", tok, legacy)
	done := make(chan *mcp.CallToolResult, 1)
	go func() {
		res, _ := callTool(t.Context(), c, "echo_write_note", map[string]any{"text": "x"})
		done <- res
	}()
	<-a.waiting
	time.Sleep(500 * time.Millisecond) // well past the body timeout
	close(a.release)
	if res := <-done; res == nil || res.IsError {
		t.Fatalf("a call waiting for approval was cut: %+v", res)
	}

	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v/a/mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"jsonrpc\":", tok)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(conn) // returns when the server gives up on the body
	if waited := time.Since(start); waited > 3*time.Second {
		t.Fatalf("the server waited %s for a body that never came", waited)
	}
}
