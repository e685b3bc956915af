package signin

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	slackClientID = "2141029472.691202649728"
	slackCode     = "4724469134.4644010092847.232b4e6d"
)

// fakeSlack answers like slack.com/api as Slack documents it: oauth.v2.access
// for a PKCE public client (the user token in authed_user; a refresh answers
// at the top level with token_type "user" and rotates the refresh token),
// and auth.test (scopes in the x-oauth-scopes header). Errors are HTTP 200
// with ok:false.
type fakeSlack struct {
	*httptest.Server

	mu       sync.Mutex
	current  string              // the only refresh token that works
	tokens   map[string]struct{} // access tokens auth.test accepts
	issued   int
	requests []url.Values
	auth     []string // Authorization headers received by oauth.v2.access
}

func newFakeSlack(t *testing.T) *fakeSlack {
	f := &fakeSlack{tokens: map[string]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/oauth.v2.access", f.access)
	mux.HandleFunc("POST /api/auth.test", f.authTest)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeSlack) config() Slack {
	return Slack{ClientID: slackClientID, UserScopes: []string{"search:read", "chat:write"}, AuthURL: f.URL + "/oauth/v2/authorize", APIURL: f.URL + "/api/"}
}

// issue makes a new access and refresh token pair.
func (f *fakeSlack) issue() (at, rt string) {
	f.issued++
	at, rt = fmt.Sprintf("xoxe.xoxp-1-%d", f.issued), fmt.Sprintf("xoxe-1-%d", f.issued)
	f.current = rt
	f.tokens[at] = struct{}{}
	return at, rt
}

func (f *fakeSlack) access(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, r.PostForm)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	fail := func(code string) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": code, "received": r.PostForm.Encode()})
	}
	switch {
	case r.PostForm.Get("client_id") != slackClientID:
		fail("invalid_client_id")
	case r.PostForm.Has("client_secret"):
		fail("bad_client_secret") // a PKCE app is a public client
	case r.PostForm.Get("grant_type") == "refresh_token":
		if r.PostForm.Get("refresh_token") != f.current {
			fail("invalid_refresh_token")
			return
		}
		at, rt := f.issue()
		writeJSON(w, http.StatusOK, map[string]any{
			"ok": true, "app_id": "A0KRD7HC3", "access_token": at, "token_type": "user", "scope": "search:read,chat:write",
			"expires_in": 43200, "refresh_token": rt, "team": map[string]string{"id": "T9TK3CUKW", "name": "Slack Softball Team"},
			"enterprise": nil, "is_enterprise_install": false,
		})
	case r.PostForm.Get("code") != slackCode || r.PostForm.Get("code_verifier") == "":
		fail("invalid_code")
	default:
		at, rt := f.issue()
		writeJSON(w, http.StatusOK, map[string]any{
			"ok": true, "app_id": "A0KRD7HC3",
			"authed_user": map[string]any{"id": "U1234", "scope": "search:read,chat:write", "access_token": at, "token_type": "user", "refresh_token": rt, "expires_in": 43200},
			"team":        map[string]string{"id": "T9TK3CUKW", "name": "Slack Softball Team"}, "enterprise": nil, "is_enterprise_install": false,
		})
	}
}

func (f *fakeSlack) authTest(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	token := r.PostForm.Get("token")
	if token == "" {
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	f.mu.Lock()
	_, ok := f.tokens[token]
	f.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "error": "invalid_auth", "received": token})
		return
	}
	w.Header().Set("X-OAuth-Scopes", "search:read,chat:write")
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": true, "url": "https://softball.slack.com/", "team": "Slack Softball Team", "user": "grace",
		"team_id": "T9TK3CUKW", "user_id": "U1234",
	})
}

func TestSlackSignIn(t *testing.T) {
	f := newFakeSlack(t)
	var authorized url.Values
	tok, acct, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {slackCode}}))
	if err != nil {
		t.Fatal(err)
	}
	checkAuthorizeURL(t, authorized, slackClientID, map[string]string{"user_scope": "search:read,chat:write"})
	if authorized.Has("scope") {
		t.Errorf("the authorization URL asks for bot scopes: %q", authorized.Get("scope"))
	}
	got := f.requests[0]
	checkPKCE(t, authorized, got.Get("code_verifier"))
	if got.Get("code") != slackCode || got.Get("redirect_uri") != authorized.Get("redirect_uri") || got.Has("client_secret") || f.auth[0] != "" {
		t.Errorf("exchange request %v (Authorization %q)", got, f.auth[0])
	}
	if tok.AccessToken != "xoxe.xoxp-1-1" || tok.RefreshToken != "xoxe-1-1" || tok.Type() != "Bearer" || time.Until(tok.Expiry) < 11*time.Hour {
		t.Errorf("token %+v", tok)
	}
	want := SlackAccount{UserID: "U1234", User: "grace", TeamID: "T9TK3CUKW", Team: "Slack Softball Team", URL: "https://softball.slack.com/", Scopes: []string{"search:read", "chat:write"}}
	if !slices.Equal(acct.Scopes, want.Scopes) || acct.UserID != want.UserID || acct.User != want.User || acct.TeamID != want.TeamID || acct.Team != want.Team || acct.URL != want.URL {
		t.Errorf("account %+v, want %+v", acct, want)
	}
}

func TestSlackSignInFailures(t *testing.T) {
	tests := []struct {
		name    string
		answer  url.Values
		wantErr string
	}{
		{name: "fail/consent refused", answer: url.Values{"error": {"access_denied"}}, wantErr: "signing in to Slack: the sign-in was refused: access_denied"},
		{name: "fail/code refused", answer: url.Values{"code": {"forged"}}, wantErr: "signing in to Slack: exchanging the code: invalid_code"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeSlack(t)
			var authorized url.Values
			if tok, _, err := f.config().SignIn(t.Context(), browser(t, &authorized, tt.answer)); tok != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("SignIn = %v, %v; want %q", tok, err, tt.wantErr)
			}
		})
	}
}

func TestSlackRefreshRotates(t *testing.T) {
	f := newFakeSlack(t)
	store := newStore()
	f.mu.Lock()
	_, rt := f.issue()
	f.mu.Unlock()
	store.save(t, "slack", &oauth2.Token{AccessToken: "xoxe.xoxp-1-1", TokenType: "Bearer", RefreshToken: rt, Expiry: time.Now().Add(-time.Second)})
	ts := f.config().TokenSource(store, "slack")

	tok, err := ts.Token()
	if err != nil || tok.AccessToken != "xoxe.xoxp-1-2" || tok.Type() != "Bearer" {
		t.Fatalf("Token() = %+v, %v; want the refreshed token as a bearer token", tok, err)
	}
	if saved := store.token(t, "slack"); saved.RefreshToken != "xoxe-1-2" || saved.TokenType != "Bearer" {
		t.Fatalf("saved %+v", saved)
	}
	if got := f.requests[0]; got.Get("grant_type") != "refresh_token" || got.Get("refresh_token") != rt || got.Has("client_secret") {
		t.Errorf("refresh request %v", got)
	}

	store.save(t, "slack", &oauth2.Token{AccessToken: "x", RefreshToken: rt, Expiry: time.Now().Add(-time.Second)}) // the old, rotated one
	if tok, err := ts.Token(); tok != nil || !errors.Is(err, ErrReconnect) || !strings.Contains(err.Error(), "Slack refused the saved sign-in") {
		t.Fatalf("Token() with a rotated-out refresh token = %v, %v; want ErrReconnect", tok, err)
	}
}

func TestSlackCheckToken(t *testing.T) {
	f := newFakeSlack(t)
	f.tokens["xoxp-pasted"] = struct{}{}
	acct, err := f.config().CheckToken(t.Context(), "xoxp-pasted")
	if err != nil || acct.User != "grace" || acct.Team != "Slack Softball Team" || !slices.Equal(acct.Scopes, []string{"search:read", "chat:write"}) {
		t.Fatalf("CheckToken = %+v, %v", acct, err)
	}
	if _, err := f.config().CheckToken(t.Context(), "xoxp-wrong"); err == nil || err.Error() != "Slack does not accept this token: invalid_auth" {
		t.Fatalf("CheckToken(wrong) err = %v", err)
	}
}
