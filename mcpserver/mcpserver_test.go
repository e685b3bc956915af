package mcpserver

import (
	"context"
	"errors"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/approval"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/vaulttoken"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
	"github.com/agentvault/agentvault/providers/upstream"
)

type catalog map[string]providers.Provider

func (c catalog) Provider(name string) (providers.Provider, bool) { p, ok := c[name]; return p, ok }

// memAuditor keeps records in memory; fail makes every write fail.
type memAuditor struct {
	mu      sync.Mutex
	recs    []audit.Record
	durable []bool // per record: appended with Record rather than RecordWritten
	fail    atomic.Bool
	// stall, when set before a call, holds its durable appends until it is
	// closed, as a stalled disk would; stalled hears of each first.
	stall, stalled chan struct{}
}

func (m *memAuditor) Record(r audit.Record) (uint64, error) {
	if m.stall != nil {
		m.stalled <- struct{}{}
		<-m.stall
	}
	return m.append(r, true)
}

func (m *memAuditor) RecordWritten(r audit.Record) (uint64, error) { return m.append(r, false) }

func (m *memAuditor) append(r audit.Record, durable bool) (uint64, error) {
	if m.fail.Load() {
		return 0, errors.New("injected audit failure")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs, m.durable = append(m.recs, r), append(m.durable, durable)
	return uint64(len(m.recs)), nil
}

// wasDurable reports whether the i-th record was appended durably.
func (m *memAuditor) wasDurable(i int) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.durable[i]
}
func (m *memAuditor) Digest(any) string { return "digest" }
func (m *memAuditor) records() []audit.Record {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.recs)
}

type fixture struct {
	srv   *Server
	url   string
	rec   *providertest.Recorder
	audit *memAuditor
}

// newFixture serves an echo upstream (over real HTTP, through the upstream
// provider) as service "echo", behind a vault server on httptest; configure
// may change the server's configuration.
func newFixture(t *testing.T, approver Approver, configure ...func(*Config)) *fixture {
	t.Helper()
	rec := providertest.NewRecorder()
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(rec)))
	t.Cleanup(up.Close)
	var srv *Server
	p, err := upstream.New(upstream.Config{Name: "echo", URL: up.URL + "/mcp", OnToolsChanged: func() { srv.ServiceChanged("echo") }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	aud := &memAuditor{}
	cfg := Config{Catalog: catalog{"echo": p}, Auditor: aud, Approver: approver}
	for _, c := range configure {
		c(&cfg)
	}
	srv = New(cfg)
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	t.Cleanup(srv.Close)
	return &fixture{srv: srv, url: hs.URL, rec: rec, audit: aud}
}

func (f *fixture) vault(t *testing.T, id string, rules ...policy.Rule) string {
	t.Helper()
	tok, digest := vaulttoken.New()
	f.srv.PutVault(Vault{ID: id, Name: id, TokenDigest: digest, Services: []string{"echo"}, Policy: policy.Policy{Rules: rules}})
	return tok
}

// The two protocol revisions every endpoint serves.
const (
	legacy = mcp.ProtocolVersion20251125 // initialize handshake and sessions
	modern = mcp.ProtocolVersion20260728 // stateless
)

// connect opens a client on vault id speaking protocol version proto.
func (f *fixture) connect(t testing.TB, id, token, proto string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	return f.connectAs(t, "test-agent", id, token, proto, opts...)
}

// connectAs is connect for a client called name.
func (f *fixture) connectAs(t testing.TB, name, id, token, proto string, opts ...transport.StreamableHTTPCOption) *client.Client {
	t.Helper()
	opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	tr, err := transport.NewStreamableHTTP(f.url+"/v/"+id+"/mcp", opts...)
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(proto))
	t.Cleanup(func() { c.Close() })
	if err := c.Start(t.Context()); err != nil {
		t.Fatal(err)
	}
	if proto == legacy && c.GetSessionId() != "" {
		t.Fatal("session before initialize")
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = proto
	init.Params.ClientInfo = mcp.Implementation{Name: name, Version: "0.1"}
	if _, err := c.Initialize(t.Context(), init); err != nil {
		t.Fatalf("initialize: %v", err)
	}
	if (c.GetSessionId() != "") != (proto == legacy) {
		t.Fatalf("protocol %s: session id %q", proto, c.GetSessionId())
	}
	return c
}

func toolNames(t *testing.T, c *client.Client) []string {
	t.Helper()
	res, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range res.Tools {
		names = append(names, tl.Name)
	}
	return names
}

func callTool(ctx context.Context, c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	return c.CallTool(ctx, req)
}

func TestVaultsSeeOnlyTheirToolsAndBlockedToolsDoNotExist(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) { testVaultsSeeOnlyTheirTools(t, proto) })
	}
}

func testVaultsSeeOnlyTheirTools(t *testing.T, proto string) {
	f := newFixture(t, nil)
	a := f.connect(t, "a", f.vault(t, "a"), proto)
	b := f.connect(t, "b", f.vault(t, "b", policy.Rule{Pattern: "echo_*", Decision: policy.Block}, policy.Rule{Pattern: "echo_echo", Decision: policy.Allow}), proto)

	want := []string{"echo_echo", "echo_fail", "echo_rich", "echo_slow", "echo_write_note"}
	if got := toolNames(t, a); !slices.Equal(got, want) {
		t.Fatalf("vault a tools %v, want %v (delete_note is destructive: blocked by default)", got, want)
	}
	if got := toolNames(t, b); !slices.Equal(got, []string{"echo_echo"}) {
		t.Fatalf("vault b tools %v, want only echo_echo", got)
	}

	res, err := callTool(t.Context(), a, "echo_rich", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Content) != 4 {
		t.Fatalf("rich result has %d contents, want 4", len(res.Content))
	}
	if img, ok := res.Content[1].(mcp.ImageContent); !ok || img.Data != providertest.PNG || img.MIMEType != "image/png" {
		t.Fatalf("image content changed in transit: %#v", res.Content[1])
	}
	if _, ok := res.Content[2].(mcp.AudioContent); !ok {
		t.Fatalf("audio content changed in transit: %#v", res.Content[2])
	}
	if er, ok := res.Content[3].(mcp.EmbeddedResource); !ok || er.Resource.(mcp.TextResourceContents).Text != "embedded" {
		t.Fatalf("embedded resource changed in transit: %#v", res.Content[3])
	}
	res, err = callTool(t.Context(), b, "echo_echo", map[string]any{"message": "hi"})
	if err != nil || res.IsError || res.StructuredContent.(map[string]any)["message"] != "hi" {
		t.Fatalf("echo = %+v, %v", res, err)
	}
	if res, err := callTool(t.Context(), a, "echo_fail", nil); err != nil || !res.IsError {
		t.Fatalf("isError did not pass through: %+v, %v", res, err)
	}

	_, blockedErr := callTool(t.Context(), b, "echo_write_note", nil)
	_, unknownErr := callTool(t.Context(), b, "echo_no_such_tool", nil)
	if blockedErr == nil || unknownErr == nil {
		t.Fatal("blocked or unknown tool was callable")
	}
	if strings.ReplaceAll(blockedErr.Error(), "echo_write_note", "X") != strings.ReplaceAll(unknownErr.Error(), "echo_no_such_tool", "X") {
		t.Fatalf("blocked tool distinguishable from unknown:\n%v\n%v", blockedErr, unknownErr)
	}
	if _, err := callTool(t.Context(), a, "echo_delete_note", nil); err == nil {
		t.Fatal("destructive tool callable by default")
	}
	if slices.Contains(f.rec.Calls(), "write_note") || slices.Contains(f.rec.Calls(), "delete_note") {
		t.Fatalf("upstream received a blocked call: %v", f.rec.Calls())
	}

	var blocked, intents, outcomes int
	for i, r := range f.audit.records() {
		switch {
		case r.Outcome == audit.Blocked:
			blocked++
		case r.Phase == audit.Intent:
			intents++
			if !f.audit.wasDurable(i) {
				t.Error("an intent record was not on disk before the call ran")
			}
		case r.Phase == audit.Outcome && r.Outcome == audit.Executed:
			outcomes++
			if r.Client != "test-agent 0.1" {
				t.Errorf("audit client %q", r.Client)
			}
		}
	}
	if blocked != 2 || intents != 3 || outcomes != 3 {
		t.Fatalf("audit: %d blocked, %d intents, %d executed outcomes; want 2, 3, 3", blocked, intents, outcomes)
	}
}

func TestApproveToolIsRefusedWithoutApprover(t *testing.T) {
	f := newFixture(t, nil)
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	res, err := callTool(t.Context(), c, "echo_write_note", map[string]any{"text": "x"})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "requires approval") {
		t.Fatalf("approve tool result %+v, want a clear denial", res)
	}
	if slices.Contains(f.rec.Calls(), "write_note") {
		t.Fatal("upstream ran an unapproved call")
	}
	recs := f.audit.records()
	if len(recs) != 1 || recs[0].Outcome != audit.Denied || recs[0].Decision != "approve" {
		t.Fatalf("audit %+v, want one denied record", recs)
	}
}

type approveAll struct{}

func (approveAll) Approve(context.Context, approval.Request) approval.Verdict {
	return approval.Verdict{Approved: true, Channel: "test"}
}

func TestApprovedCallRunsAndRecordsChannel(t *testing.T) {
	f := newFixture(t, approveAll{})
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	res, err := callTool(t.Context(), c, "echo_write_note", nil)
	if err != nil || res.IsError {
		t.Fatalf("approved call: %+v, %v", res, err)
	}
	recs := f.audit.records()
	if len(recs) != 2 || recs[0].Channel != "test" || recs[1].Outcome != audit.Executed {
		t.Fatalf("audit %+v", recs)
	}
}

func TestFailedAuditRefusesCallBeforeUpstream(t *testing.T) {
	f := newFixture(t, nil)
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	f.audit.fail.Store(true)
	_, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "x"})
	if err == nil || !strings.Contains(err.Error(), "audit log") {
		t.Fatalf("call with failing audit: %v", err)
	}
	if len(f.rec.Calls()) != 0 {
		t.Fatalf("upstream received %v while the audit log was failing", f.rec.Calls())
	}
	f.audit.fail.Store(false)
	if _, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "x"}); err != nil {
		t.Fatalf("no recovery once the audit log works again: %v", err)
	}
}

// An agent that gives up while its intent is being made durable (a slow or
// stalled disk) must not have the call run once the disk comes back.
func TestCallDoesNotRunIfTheAgentLeftDuringItsIntent(t *testing.T) {
	f := newFixture(t, nil)
	f.connect(t, "a", f.vault(t, "a"), modern)
	f.audit.stall, f.audit.stalled = make(chan struct{}), make(chan struct{}, 1)
	ctx, cancel := context.WithCancel(t.Context())
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": "x"}
	done := make(chan error, 1)
	go func() {
		_, err := f.srv.endpoint("a").call(ctx, req)
		done <- err
	}()
	<-f.audit.stalled
	cancel()
	close(f.audit.stall)
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("call whose agent left: %v", err)
	}
	if calls := f.rec.Calls(); len(calls) != 0 {
		t.Fatalf("the upstream received %v after the agent had left", calls)
	}
	recs := f.audit.records()
	if len(recs) != 2 || recs[0].Phase != audit.Intent || recs[1].Outcome != audit.Cancelled {
		t.Fatalf("audit %+v, want the intent and a cancelled outcome", recs)
	}
}

func TestPolicyChangeNotifiesConnectedAgents(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) { testPolicyChangeNotifies(t, proto) })
	}
}

func testPolicyChangeNotifies(t *testing.T, proto string) {
	f := newFixture(t, nil)
	tok := f.vault(t, "a")
	var opts []transport.StreamableHTTPCOption
	if proto == legacy {
		opts = append(opts, transport.WithContinuousListening()) // the standalone GET stream
	}
	c := f.connect(t, "a", tok, proto, opts...)
	changed := make(chan struct{}, 4)
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationToolsListChanged) {
			changed <- struct{}{}
		}
	})
	if proto == modern {
		stop, err := c.ListenAsync(t.Context(), mcp.SubscriptionFilter{ToolsListChanged: true}, func(err error) { t.Error(err) })
		if err != nil {
			t.Fatal(err)
		}
		defer stop()
	}
	if !slices.Contains(toolNames(t, c), "echo_echo") {
		t.Fatal("echo_echo missing before the change")
	}
	time.Sleep(100 * time.Millisecond) // let the listening GET stream open
	f.srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: vaulttoken.Digest(tok), Services: []string{"echo"},
		Policy: policy.Policy{Rules: []policy.Rule{{Pattern: "echo_echo", Decision: policy.Block}}}})
	select {
	case <-changed:
	case <-time.After(5 * time.Second):
		t.Fatal("no tools/list_changed after a policy change")
	}
	if slices.Contains(toolNames(t, c), "echo_echo") {
		t.Fatal("blocked tool still listed after the change")
	}
}

func TestRotationRejectsOldTokenAndEndsSessions(t *testing.T) {
	f := newFixture(t, nil)
	old := f.vault(t, "a")
	c := f.connect(t, "a", old, legacy)
	newTok, digest := vaulttoken.New()
	f.srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"}})
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("old token still works after rotation")
	}
	if got := post(t, f.url+"/v/a/mcp", newTok, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Mcp-Session-Id": c.GetSessionId()}); got.StatusCode != http.StatusNotFound {
		t.Fatalf("old session with the new token: %d, want 404 (session ended)", got.StatusCode)
	}
	f.connect(t, "a", newTok, modern)
	f.srv.RemoveVault("a")
	if got := post(t, f.url+"/v/a/mcp", newTok, initialize, nil); got.StatusCode != http.StatusUnauthorized {
		t.Fatalf("deleted vault: %d, want 401 (as any unknown vault)", got.StatusCode)
	}
}

func TestProgressIsRelayed(t *testing.T) {
	f := newFixture(t, nil)
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	var mu sync.Mutex
	var progress []float64
	c.OnNotification(func(n mcp.JSONRPCNotification) {
		if n.Method == string(mcp.MethodNotificationProgress) && n.Params.AdditionalFields["progressToken"] == "tok-1" {
			mu.Lock()
			progress = append(progress, n.Params.AdditionalFields["progress"].(float64))
			mu.Unlock()
		}
	})
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = "echo_slow", map[string]any{"steps": 3}
	req.Params.Meta = &mcp.Meta{ProgressToken: "tok-1"}
	if _, err := c.CallTool(t.Context(), req); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	// mcp-go may drop a notification that races the final response, so the
	// agent must see an increasing run of the upstream's steps, not all of them.
	if len(progress) < 2 || progress[0] != 1 || !slices.IsSorted(progress) || progress[len(progress)-1] > 3 {
		t.Fatalf("progress seen by the agent: %v, want steps of [1 2 3] under the agent's own token", progress)
	}
}

func TestCancellationReachesUpstreamAndIsAudited(t *testing.T) {
	f := newFixture(t, nil)
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if _, err := callTool(ctx, c, "echo_slow", map[string]any{"steps": 100}); err == nil {
		t.Fatal("cancelled call succeeded")
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, r := range f.audit.records() {
			if r.Phase == audit.Outcome && r.Outcome == audit.Cancelled {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no cancelled outcome in the audit log: %+v", f.audit.records())
}

const initialize = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}`

func post(t *testing.T, url, token, body string, headers map[string]string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestRequestsAreRejectedBeforeTheVault(t *testing.T) {
	f := newFixture(t, nil)
	tokA := f.vault(t, "a")
	tokB := f.vault(t, "b")
	rotated := f.vault(t, "c")
	_, newDigest := vaulttoken.New()
	f.srv.PutVault(Vault{ID: "c", Name: "c", TokenDigest: newDigest, Services: []string{"echo"}})
	url := f.url + "/v/a/mcp"
	tests := []struct {
		name    string
		url     string
		token   string
		headers map[string]string
		want    int
	}{
		{"auth/no token", url, "", nil, 401},
		{"auth/wrong token", url, "avt_wrong", nil, 401},
		{"auth/other vault's token", url, tokB, nil, 401},
		{"auth/rotated token", f.url + "/v/c/mcp", rotated, nil, 401},
		{"auth/basic scheme", url, "", map[string]string{"Authorization": "Basic " + tokA}, 401},
		{"auth/token in query", url + "?token=" + tokA, "", nil, 401},
		{"browser/foreign origin", url, tokA, map[string]string{"Origin": "http://evil.example"}, 403},
		{"browser/null origin", url, tokA, map[string]string{"Origin": "null"}, 403},
		{"network/foreign host", url, tokA, map[string]string{"Host": "evil.example"}, 403},
		{"network/rebinding host with port", url, tokA, map[string]string{"Host": "evil.example:80"}, 403},
		{"route/unknown vault answers as a wrong token", f.url + "/v/nope/mcp", tokA, nil, 401},
		{"route/no vault", f.url + "/v//mcp", tokA, nil, 404},
		{"ok/loopback origin", url, tokA, map[string]string{"Origin": "http://localhost:3000"}, 200},
		{"ok/localhost host", url, tokA, map[string]string{"Host": "localhost:1"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp := post(t, tt.url, tt.token, initialize, tt.headers)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Fatal("CORS header sent")
			}
		})
	}
	if len(f.rec.Calls()) != 0 || len(f.audit.records()) != 0 {
		t.Fatal("a rejected request reached the upstream or the audit log")
	}
}

func TestBadInputGetsProtocolErrors(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.vault(t, "a")
	c := f.connect(t, "a", tok, legacy)
	url := f.url + "/v/a/mcp"
	session := map[string]string{"Mcp-Session-Id": c.GetSessionId(), "MCP-Protocol-Version": "2025-11-25"}

	big := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"` + strings.Repeat("x", 10<<20) + `"}}}`
	if resp := post(t, url, tok, big, session); resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("10 MB body: %d, want 413", resp.StatusCode)
	}
	for _, body := range []string{`{not json`, `[]`, `{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":7}}`} {
		req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		req.Header.Set("Authorization", "Bearer "+tok)
		for k, v := range session {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !strings.Contains(string(raw), `"error"`) {
			t.Errorf("body %q: response %d %s has no JSON-RPC error", body, resp.StatusCode, raw)
		}
	}
	res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": 42})
	if err != nil || !res.IsError {
		t.Fatalf("wrong argument type: %+v, %v; want an isError result from the upstream", res, err)
	}
	if _, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "still serving"}); err != nil {
		t.Fatalf("server stopped serving after bad input: %v", err)
	}
}

func TestHealthzNeedsNoAuthAndSaysNothing(t *testing.T) {
	f := newFixture(t, nil)
	f.vault(t, "a")
	resp, err := http.Get(f.url + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(body) != "ok\n" {
		t.Fatalf("healthz: %d %q", resp.StatusCode, body)
	}
	req, _ := http.NewRequest(http.MethodGet, f.url+"/healthz", nil)
	req.Host = "evil.example"
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusForbidden {
		t.Fatalf("healthz with a foreign Host: %v %v", resp.StatusCode, err)
	}
}

// idleAfter makes sessions expire after d.
func idleAfter(d time.Duration) func(*Config) {
	return func(c *Config) { c.SessionIdleTimeout = d }
}

func TestIdleSessionsExpire(t *testing.T) {
	f := newFixture(t, nil, idleAfter(time.Second))
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	e := f.srv.endpoint("a")
	if e.ids.count() != 1 {
		t.Fatalf("%d live sessions after connecting, want 1", e.ids.count())
	}
	deadline := time.Now().Add(5 * time.Second)
	for e.ids.count() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle session never expired")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.ListTools(t.Context(), mcp.ListToolsRequest{}); err == nil {
		t.Fatal("expired session still answers")
	}
}

func TestPauseRefusesEveryCall(t *testing.T) {
	f := newFixture(t, approveAll{})
	c := f.connect(t, "a", f.vault(t, "a"), legacy)
	f.srv.SetPaused(true)
	res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "x"})
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "paused") {
		t.Fatalf("call while paused: %+v, %v", res, err)
	}
	if len(f.rec.Calls()) != 0 {
		t.Fatal("a call reached the upstream while paused")
	}
	if recs := f.audit.records(); len(recs) != 1 || recs[0].Outcome != audit.Denied {
		t.Fatalf("audit while paused: %+v", recs)
	}
	f.srv.SetPaused(false)
	if res, err := callTool(t.Context(), c, "echo_echo", map[string]any{"message": "x"}); err != nil || res.IsError {
		t.Fatalf("call after resuming: %+v, %v", res, err)
	}
	if n := f.srv.Sessions(); !maps.Equal(n, map[string]int{"a": 1}) {
		t.Fatalf("Sessions() = %v, want a: 1", n)
	}
}

func TestExpiredVaultStopsOpening(t *testing.T) {
	rec := providertest.NewRecorder()
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(rec)))
	defer up.Close()
	p, _ := upstream.New(upstream.Config{Name: "echo", URL: up.URL + "/mcp"})
	defer p.Close()
	var now atomic.Int64
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	srv := New(Config{Catalog: catalog{"echo": p}, Auditor: &memAuditor{}, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	tok, digest := vaulttoken.New()
	v := Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"}, Expires: start.Add(2 * time.Hour)}
	srv.PutVault(v)
	url := hs.URL + "/v/a/mcp"
	if resp := post(t, url, tok, initialize, nil); resp.StatusCode != 200 {
		t.Fatalf("before expiry: %d", resp.StatusCode)
	}
	now.Store(start.Add(2 * time.Hour).UnixNano())
	if resp := post(t, url, tok, initialize, nil); resp.StatusCode != 401 {
		t.Fatalf("at expiry: %d, want 401", resp.StatusCode)
	}
	v.Expires = start.Add(26 * time.Hour) // renewed
	srv.PutVault(v)
	if resp := post(t, url, tok, initialize, nil); resp.StatusCode != 200 {
		t.Fatalf("after renewal: %d", resp.StatusCode)
	}
}

func TestRateLimitsWithAnInjectedClock(t *testing.T) {
	rec := providertest.NewRecorder()
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(rec)))
	defer up.Close()
	p, _ := upstream.New(upstream.Config{Name: "echo", URL: up.URL + "/mcp"})
	defer p.Close()
	var now atomic.Int64
	start := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	now.Store(start.UnixNano())
	aud := &memAuditor{}
	srv := New(Config{Catalog: catalog{"echo": p}, Auditor: aud, Now: func() time.Time { return time.Unix(0, now.Load()) }})
	defer srv.Close()
	hs := httptest.NewServer(srv)
	defer hs.Close()
	perTool, _ := policy.ParseRateLimit("echo_echo", "2/min")
	vault, _ := policy.ParseRateLimit("*", "3/hour")
	tok, digest := vaulttoken.New()
	srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: digest, Services: []string{"echo"}, RateLimits: []policy.RateLimit{perTool, vault}})
	f := &fixture{srv: srv, url: hs.URL}
	c := f.connect(t, "a", tok, legacy)
	call := func(tool string) string {
		res, err := callTool(t.Context(), c, tool, map[string]any{"message": "x"})
		if err != nil {
			t.Fatal(err)
		}
		if res.IsError {
			return res.Content[0].(mcp.TextContent).Text
		}
		return ""
	}
	if call("echo_echo") != "" || call("echo_echo") != "" {
		t.Fatal("calls within the limit were refused")
	}
	now.Add(int64(20 * time.Second))
	if msg := call("echo_echo"); !strings.Contains(msg, "rate limit 2/min reached for echo_echo; retry in 40s") {
		t.Fatalf("third call in a minute: %q", msg)
	}
	if msg := call("echo_rich"); msg != "" { // other tools are not limited per tool…
		t.Fatalf("another tool was limited: %q", msg)
	}
	if msg := call("echo_rich"); !strings.Contains(msg, "rate limit 3/hour reached for this vault") { // …but the vault is
		t.Fatalf("fourth call in an hour: %q", msg)
	}
	now.Add(int64(time.Hour))
	if call("echo_echo") != "" {
		t.Fatal("the window did not slide")
	}
	limited := 0
	for _, r := range aud.records() {
		if r.Outcome == audit.RateLimited {
			limited++
		}
	}
	if limited != 2 || len(rec.Calls()) != 4 {
		t.Fatalf("%d rate_limited records, %d upstream calls; want 2 and 4", limited, len(rec.Calls()))
	}
}
