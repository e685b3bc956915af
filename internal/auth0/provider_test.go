package auth0

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/auth0/auth0test"
)

type provider struct {
	*auth0test.Provider
	client *Client
}

func startProvider(t *testing.T) *provider {
	t.Helper()
	p := auth0test.Start(t, "github")
	c, err := New(Config{Domain: p.Base, ClientID: auth0test.ClientID, ClientSecret: auth0test.ClientSecret})
	if err != nil {
		t.Fatal(err)
	}
	return &provider{Provider: p, client: c}
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
	s, err := p.client.Login(ctx, []int{p.CallbackPort}, browser(t))
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return s
}

func TestLoginWithPKCEGivesARefreshTokenAndTheSubject(t *testing.T) {
	p := startProvider(t)
	s := p.login(t)
	if s.RefreshToken == "" || s.Subject != auth0test.User {
		t.Fatalf("session %+v", s)
	}
}

func TestLoginRejectsAForgedCallback(t *testing.T) {
	p := startProvider(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	_, err := p.client.Login(ctx, []int{p.CallbackPort}, func(string) error {
		go http.Get(fmt.Sprintf("http://127.0.0.1:%d/callback?code=stolen&state=guessed", p.CallbackPort))
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

func fastSleep(ctx context.Context, _ time.Duration) error {
	return RealSleep(ctx, 20*time.Millisecond)
}

func TestPhoneApprovalThroughTheBroker(t *testing.T) {
	p := startProvider(t)
	ch := &Channel{Client: p.client, Subject: auth0test.User, Sleep: fastSleep}
	b := approval.New(approval.Config{Channels: []approval.Channel{ch}})
	req := approval.Request{VaultID: "v", Vault: "work", Tool: "github_create_issue", ArgsDigest: "d", Timeout: 20 * time.Second}

	for _, tc := range []struct {
		action  string
		approve bool
	}{{"approve", true}, {"deny", false}} {
		verdict := make(chan approval.Verdict, 1)
		go func() { verdict <- b.Approve(context.Background(), req) }()
		var pending approval.Pending
		for len(b.Pending()) == 0 {
			time.Sleep(5 * time.Millisecond)
		}
		pending = b.Pending()[0]
		p.AnswerOnPhone(t, pending.Code+":github_create_issue", tc.action)
		v := <-verdict
		if v.Approved != tc.approve || v.Channel != "ciba" || v.Approver != auth0test.User && tc.approve {
			t.Fatalf("%s on the phone: verdict %+v", tc.action, v)
		}
	}
}

func TestPhoneRequestThatExpiresIsATimeout(t *testing.T) {
	p := startProvider(t)
	ch := &Channel{Client: p.client, Subject: auth0test.User, Sleep: fastSleep}
	b := approval.New(approval.Config{Channels: []approval.Channel{ch}})
	v := b.Approve(context.Background(), approval.Request{VaultID: "v", Tool: "github_merge", ArgsDigest: "d", Timeout: 2 * time.Second})
	if v.Approved || v.Outcome != "timeout" {
		t.Fatalf("expired push: %+v", v)
	}
}

func TestWithdrawStopsPolling(t *testing.T) {
	p := startProvider(t)
	var polls atomic.Int64
	ch := &Channel{Client: p.client, Subject: auth0test.User, Sleep: func(ctx context.Context, d time.Duration) error {
		polls.Add(1)
		return fastSleep(ctx, d)
	}}
	answered := make(chan struct{}, 1)
	withdraw := ch.Open(approval.Pending{ID: "x", Code: "AV-WXYZ", Request: approval.Request{Tool: "t"}, Deadline: time.Now().Add(30 * time.Second)},
		func(approval.Answer) error { answered <- struct{}{}; return nil })
	for polls.Load() < 2 {
		time.Sleep(10 * time.Millisecond)
	}
	withdraw()
	// Polling must come to rest: no new poll over a quiet period.
	for deadline := time.Now().Add(5 * time.Second); ; {
		before := polls.Load()
		time.Sleep(200 * time.Millisecond)
		if polls.Load() == before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("still polling after withdrawal")
		}
	}
	select {
	case <-answered:
		t.Fatal("a withdrawn push answered")
	default:
	}
}
