package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/services"

	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/auth0/auth0test"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
)

func TestAuth0SetupLoginAndPhoneApprovals(t *testing.T) {
	p := auth0test.Start(t, "github")
	dir := t.TempDir()
	sec := &secretstest.Memory{}
	c, err := Open(Config{DataDir: dir, Secrets: sec, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if st, _ := c.Auth0Status(t.Context()); st.Configured {
		t.Fatal("configured before setup")
	}
	if err := c.Auth0Setup(t.Context(), p.Base, auth0test.ClientID, auth0test.ClientSecret); err != nil {
		t.Fatal(err)
	}
	st, _ := c.Auth0Status(t.Context())
	if !st.Configured || st.LoggedIn || st.Domain != p.Base {
		t.Fatalf("status after setup %+v", st)
	}

	// The CLI's part: log in in its own process with the secret from the keychain.
	client, err := services.Auth0Client(st, sec)
	if err != nil {
		t.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar, Timeout: 30 * time.Second}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	sess, err := client.Login(ctx, []int{p.CallbackPort}, func(url string) error {
		go func() {
			if resp, err := browser.Get(url); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Auth0SaveSession(t.Context(), sess.Subject, sess.RefreshToken); err != nil {
		t.Fatal(err)
	}
	st, _ = c.Auth0Status(t.Context())
	if !st.LoggedIn || st.Subject != auth0test.User || !st.PhoneApprovals {
		t.Fatalf("status after login %+v", st)
	}

	// A call needing approval now also asks on the phone; the phone answers.
	verdict := make(chan approval.Verdict, 1)
	go func() {
		verdict <- c.Broker().Approve(context.Background(), approval.Request{VaultID: "v", Vault: "work", Tool: "github_create_issue", ArgsDigest: "d", Timeout: 30 * time.Second})
	}()
	for len(c.Broker().Pending()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	p.AnswerOnPhone(t, auth0.BindingMessage(c.Broker().Pending()[0]), "approve")
	if v := <-verdict; !v.Approved || v.Channel != "ciba" || v.Approver != auth0test.User {
		t.Fatalf("verdict %+v", v)
	}

	// A GitHub service through Token Vault: each call carries a provider
	// token exchanged from the Auth0 session; AgentVault stores none.
	var seen []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"number":1,"title":"t","state":"open","user":{"login":"octocat"}}`)
	}))
	defer gh.Close()
	if _, err := c.ConnectService(t.Context(), api.ConnectSpec{Kind: "github", Auth: "auth0", APIURL: gh.URL}); err != nil {
		t.Fatal(err)
	}
	ghp, _ := c.Provider("github")
	args := map[string]any{"owner": "acme", "repo": "w", "issue_number": 1.0}
	for range 2 {
		if res, err := ghp.Call(t.Context(), "get_issue", args, nil); err != nil || res.IsError {
			t.Fatalf("call through Token Vault: %+v %v", res, err)
		}
	}
	if len(seen) != 2 || !strings.HasPrefix(seen[0], "Bearer github-token-") || seen[1] != seen[0] {
		t.Fatalf("GitHub saw %q: want one cached Token Vault token", seen)
	}
	if _, err := sec.Get("service/github/token"); err == nil {
		t.Fatal("a Token Vault service kept a provider token")
	}
	// A connection the user never linked: the agent hears what to do.
	if _, err := c.ConnectService(t.Context(), api.ConnectSpec{Kind: "slack", Auth: "auth0", APIURL: gh.URL}); err != nil {
		t.Fatal(err)
	}
	sl, _ := c.Provider("slack")
	res, err := sl.Call(t.Context(), "get_user", map[string]any{"user": "U0123ABCD"}, nil)
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "reconnect") {
		t.Fatalf("unlinked Token Vault connection: %+v %v", res, err)
	}
	// …and the user sees it in the service list.
	list, _ := c.Services(t.Context())
	for _, s := range list {
		if want := s.Name == "slack"; strings.Contains(s.Status, "reconnect Slack") != want {
			t.Fatalf("%s status %q", s.Name, s.Status)
		}
	}

	// Secrets stay in the keychain: not in the store, not in the status.
	raw, _ := json.Marshal(st)
	file, _ := os.ReadFile(c.store.Path())
	for _, secret := range []string{auth0test.ClientSecret, sess.RefreshToken} {
		if bytes.Contains(file, []byte(secret)) || strings.Contains(string(raw), secret) {
			t.Fatalf("a secret leaked into the store or the status")
		}
	}

	if err := c.Auth0Logout(t.Context()); err != nil {
		t.Fatal(err)
	}
	if st, _ := c.Auth0Status(t.Context()); st.LoggedIn || st.PhoneApprovals {
		t.Fatalf("status after logout %+v", st)
	}
	if _, err := sec.Get(services.KeyAuth0Refresh); err == nil {
		t.Fatal("logout left the refresh token in the keychain")
	}
	// After logout no token of the old session is used, cached or not.
	if res, err := ghp.Call(t.Context(), "get_issue", args, nil); err != nil || !res.IsError || len(seen) != 2 {
		t.Fatalf("call after logout: %+v %v (GitHub saw %d requests)", res, err, len(seen))
	}
}
