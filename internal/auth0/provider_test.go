package auth0

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/mcpserver"
)

// provider is a real OpenID provider (npm oidc-provider, see
// e2e/oidc/provider.mjs) configured like an Auth0 tenant with Token Vault
// and CIBA.
type provider struct {
	base   string
	port   int // the login callback port registered for the client
	client *Client
}

const testSecret = "canary-client-secret-7f3k"

func startProvider(t *testing.T) *provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command("node", "../../e2e/oidc/provider.mjs")
	cmd.Env = append(os.Environ(), "PORT=0", "CLIENT_ID=agentvault", "CLIENT_SECRET="+testSecret,
		fmt.Sprintf("REDIRECT_URIS=http://127.0.0.1:%d/callback", port), "CONNECTED=github")
	cmd.Stderr = os.Stderr
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == "READY" {
				ready <- f[1]
			}
		}
		close(ready)
	}()
	var base string
	select {
	case base = <-ready:
	case <-time.After(30 * time.Second):
	}
	if base == "" {
		t.Fatal("the OpenID provider did not start (run `npm ci` in e2e/)")
	}
	c, err := New(Config{Domain: base, ClientID: "agentvault", ClientSecret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &provider{base: base, port: port, client: c}
}

// browser follows the login redirects the way a browser would.
func browser(t *testing.T) func(string) error {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	return func(url string) error {
		go func() {
			resp, err := hc.Get(url)
			if err != nil {
				t.Errorf("browser: %v", err)
				return
			}
			resp.Body.Close()
		}()
		return nil
	}
}

func (p *provider) login(t *testing.T) Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	s, err := p.client.Login(ctx, []int{p.port}, browser(t))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return s
}

func TestLoginWithPKCEGivesARefreshTokenAndTheSubject(t *testing.T) {
	p := startProvider(t)
	s := p.login(t)
	if s.RefreshToken == "" || s.Subject != "auth0|tester" {
		t.Fatalf("session %+v", s)
	}
}

func TestLoginRejectsAForgedCallback(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := p.client.Login(ctx, []int{p.port}, func(string) error {
		go http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?code=stolen&state=guessed", p.port))
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("forged callback: %v", err)
	}
}

func TestTokenVaultExchange(t *testing.T) {
	p := startProvider(t)
	s := p.login(t)
	tok, err := p.client.ProviderToken(t.Context(), s.RefreshToken, "github", "")
	if err != nil || !strings.HasPrefix(tok.AccessToken, "github-token-") || time.Until(tok.Expiry) < 50*time.Minute {
		t.Fatalf("github token %+v, %v", tok, err)
	}
	if _, err := p.client.ProviderToken(t.Context(), s.RefreshToken, "sign-in-with-slack", ""); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("unconnected account: %v, want ErrNotConnected", err)
	}
	if _, err := p.client.ProviderToken(t.Context(), "not-a-refresh-token", "github", ""); !errors.Is(err, ErrLoginAgain) {
		t.Fatalf("bad refresh token: %v, want ErrLoginAgain", err)
	}
	reads := 0
	src := &TokenSource{Client: p.client, Connection: "github", RefreshToken: func() (string, error) { reads++; return s.RefreshToken, nil }}
	a, err := src.Token(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := src.Token(t.Context())
	if a != b || reads != 1 {
		t.Fatalf("token not cached until expiry: %q %q after %d exchanges", a, b, reads)
	}
}

type pendingCIBA struct {
	ID      string `json:"auth_req_id"`
	Binding string `json:"binding_message"`
	Sub     string `json:"login_hint_sub"`
}

// answerOnPhone waits for the push with binding message and answers it.
func (p *provider) answerOnPhone(t *testing.T, binding, action string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.base + "/test/ciba")
		if err != nil {
			t.Fatal(err)
		}
		var list []pendingCIBA
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, r := range list {
			if r.Binding == binding && r.Sub == "auth0|tester" {
				resp, err := http.Post(p.base+"/test/ciba/"+r.ID+"/"+action, "application/json", nil)
				if err != nil || resp.StatusCode != 200 {
					t.Fatalf("%s on the phone: %v %v", action, resp.Status, err)
				}
				return
			}
		}
	}
	t.Fatalf("no push with binding message %q reached the phone", binding)
}

func fastSleep(ctx context.Context, _ time.Duration) error { return RealSleep(ctx, 20*time.Millisecond) }

func TestPhoneApprovalThroughTheBroker(t *testing.T) {
	p := startProvider(t)
	ch := &Channel{Client: p.client, Subject: "auth0|tester", Sleep: fastSleep}
	b := approval.New(approval.Config{Channels: []approval.Channel{ch}})
	req := mcpserver.ApprovalRequest{VaultID: "v", Vault: "work", Tool: "github_create_issue", ArgsDigest: "d", Timeout: 20 * time.Second}

	for _, tc := range []struct {
		action  string
		approve bool
	}{{"approve", true}, {"deny", false}} {
		verdict := make(chan mcpserver.Verdict, 1)
		go func() { verdict <- b.Approve(context.Background(), req) }()
		var pending approval.Pending
		for len(b.Pending()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		pending = b.Pending()[0]
		p.answerOnPhone(t, pending.Code+":github_create_issue", tc.action)
		v := <-verdict
		if v.Approved != tc.approve || v.Channel != "ciba" || v.Approver != "auth0|tester" && tc.approve {
			t.Fatalf("%s on the phone: verdict %+v", tc.action, v)
		}
	}
}

func TestPhoneRequestThatExpiresIsATimeout(t *testing.T) {
	p := startProvider(t)
	ch := &Channel{Client: p.client, Subject: "auth0|tester", Sleep: fastSleep}
	b := approval.New(approval.Config{Channels: []approval.Channel{ch}})
	v := b.Approve(context.Background(), mcpserver.ApprovalRequest{VaultID: "v", Tool: "github_merge", ArgsDigest: "d", Timeout: 2 * time.Second})
	if v.Approved || v.Outcome != "timeout" {
		t.Fatalf("expired push: %+v", v)
	}
}

func TestWithdrawStopsPolling(t *testing.T) {
	p := startProvider(t)
	var polls atomic.Int64
	ch := &Channel{Client: p.client, Subject: "auth0|tester", Sleep: func(ctx context.Context, d time.Duration) error {
		polls.Add(1)
		return fastSleep(ctx, d)
	}}
	answered := make(chan struct{}, 1)
	withdraw := ch.Open(approval.Pending{ID: "x", Code: "AV-WXYZ", ApprovalRequest: mcpserver.ApprovalRequest{Tool: "t"}, Deadline: time.Now().Add(30 * time.Second)},
		func(approval.Answer) error { answered <- struct{}{}; return nil })
	time.Sleep(300 * time.Millisecond)
	withdraw()
	time.Sleep(100 * time.Millisecond)
	before := polls.Load()
	time.Sleep(300 * time.Millisecond)
	if after := polls.Load(); after != before {
		t.Fatalf("still polling after withdrawal: %d → %d", before, after)
	}
	select {
	case <-answered:
		t.Fatal("a withdrawn push answered")
	default:
	}
}
