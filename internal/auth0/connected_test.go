package auth0

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
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
)

// fakeMyAccount is a tenant's token endpoint and My Account API as
// AUTH0.md documents them ("Connecting a provider account"). It records
// what it received and plays Auth0's connect page: GET /connect?ticket=…
// redirects to the redirect_uri with a connect_code and the state.
type fakeMyAccount struct {
	*httptest.Server
	t *testing.T

	mu        sync.Mutex
	grants    []url.Values     // refresh-token grants
	connects  []map[string]any // /connect bodies, as sent
	completes []map[string]any // /complete bodies, as sent
	deleted   []string
	accounts  []ConnectedAccount
	pageSize  int // accounts per list page; 0: all
	// fail, when set, answers the next My Account API request.
	fail func(w http.ResponseWriter)
	// tokenError, when set, answers the refresh-token grant.
	tokenError string
	expiresIn  int
	minted     int
}

const (
	fakeRefreshToken = "rt-secret-7f3k"
	fakeTicket       = "tkt-1"
	fakeSession      = "as-1"
	fakeConnectCode  = "cc-1"
)

func newFakeMyAccount(t *testing.T) *fakeMyAccount {
	f := &fakeMyAccount{t: t, expiresIn: 300}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": f.URL + "/", "authorization_endpoint": f.URL + "/authorize",
			"token_endpoint": f.URL + "/oauth/token"})
	})
	mux.HandleFunc("POST /oauth/token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.grants = append(f.grants, r.PostForm)
		if f.tokenError != "" {
			w.WriteHeader(http.StatusForbidden)
			json.NewEncoder(w).Encode(map[string]string{"error": f.tokenError, "error_description": "no"})
			return
		}
		if r.PostForm.Get("refresh_token") != fakeRefreshToken {
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant"})
			return
		}
		f.minted++
		json.NewEncoder(w).Encode(map[string]any{"access_token": fmt.Sprintf("ma-%d", f.minted), "token_type": "Bearer",
			"expires_in": 600, "scope": r.PostForm.Get("scope")})
	})
	api := func(h func(w http.ResponseWriter, r *http.Request, body map[string]any)) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if !strings.HasPrefix(r.Header.Get("Authorization"), "Bearer ma-") {
				problem(401, "Unauthorized", "Invalid token")(w)
				return
			}
			var body map[string]any
			if r.Method == http.MethodPost {
				if r.Header.Get("Content-Type") != "application/json" {
					problem(415, "Unsupported Media Type", "")(w)
					return
				}
				if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
					problem(400, "Bad Request", "invalid JSON")(w)
					return
				}
			}
			f.mu.Lock()
			fail := f.fail
			f.fail = nil
			f.mu.Unlock()
			if fail != nil {
				fail(w)
				return
			}
			h(w, r, body)
		}
	}
	mux.HandleFunc("POST /me/v1/connected-accounts/connect", api(func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		f.mu.Lock()
		f.connects = append(f.connects, body)
		f.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(map[string]any{"connect_uri": f.URL + "/connect", "connect_params": map[string]string{"ticket": fakeTicket},
			"auth_session": fakeSession, "expires_in": f.expiresIn})
	}))
	// Auth0's page: the provider's consent happens here, then back to the app.
	mux.HandleFunc("GET /connect", func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		last := f.connects[len(f.connects)-1]
		f.mu.Unlock()
		if r.URL.Query().Get("ticket") != fakeTicket {
			http.Error(w, "bad ticket", http.StatusBadRequest)
			return
		}
		back := fmt.Sprintf("%s?connect_code=%s&state=%s", last["redirect_uri"], fakeConnectCode, url.QueryEscape(last["state"].(string)))
		http.Redirect(w, r, back, http.StatusFound)
	})
	mux.HandleFunc("POST /me/v1/connected-accounts/complete", api(func(w http.ResponseWriter, r *http.Request, body map[string]any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		f.completes = append(f.completes, body)
		conn := f.connects[len(f.connects)-1]
		verifier, _ := body["code_verifier"].(string)
		sum := sha256.Sum256([]byte(verifier))
		if body["auth_session"] != fakeSession || body["connect_code"] != fakeConnectCode || body["redirect_uri"] != conn["redirect_uri"] ||
			base64.RawURLEncoding.EncodeToString(sum[:]) != conn["code_challenge"] {
			problem(400, "Bad Request", "invalid connect_code or code_verifier")(w)
			return
		}
		a := ConnectedAccount{ID: fmt.Sprintf("cac_%d", len(f.accounts)+1), Connection: conn["connection"].(string), AccessType: "offline",
			CreatedAt: "2026-01-02T03:04:05.000Z"}
		f.accounts = append(f.accounts, a)
		w.WriteHeader(http.StatusCreated)
		json.NewEncoder(w).Encode(a)
	}))
	mux.HandleFunc("GET /me/v1/connected-accounts/accounts", api(func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		start := 0
		fmt.Sscan(r.URL.Query().Get("from"), &start)
		end := len(f.accounts)
		if f.pageSize > 0 {
			end = min(end, start+f.pageSize)
		}
		out := map[string]any{"accounts": f.accounts[start:end]}
		if end < len(f.accounts) {
			out["next"] = fmt.Sprint(end)
		}
		json.NewEncoder(w).Encode(out)
	}))
	mux.HandleFunc("DELETE /me/v1/connected-accounts/accounts/{id}", api(func(w http.ResponseWriter, r *http.Request, _ map[string]any) {
		f.mu.Lock()
		defer f.mu.Unlock()
		id := r.PathValue("id")
		f.deleted = append(f.deleted, id)
		i := slices.IndexFunc(f.accounts, func(a ConnectedAccount) bool { return a.ID == id })
		if i < 0 {
			problem(404, "Not Found", "connected account not found")(w)
			return
		}
		f.accounts = slices.Delete(f.accounts, i, i+1)
		w.WriteHeader(http.StatusNoContent)
	}))
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeMyAccount) lastGrant() url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants[len(f.grants)-1]
}

func problem(status int, title, detail string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]any{"type": "https://auth0.com/api-errors/A0E-" + fmt.Sprint(status), "title": title,
			"status": status, "detail": detail})
	}
}

func (f *fakeMyAccount) client(t *testing.T) *Client {
	c, err := New(Config{Domain: f.URL, ClientID: "av-client", ClientSecret: "av-secret"})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func connectCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestConnectLinksAnAccountTheWayAuth0Documents(t *testing.T) {
	f := newFakeMyAccount(t)
	c := f.client(t)
	var opened string
	open := func(u string) error { opened = u; return browser(t)(u) }
	if err := c.Connect(connectCtx(t), fakeRefreshToken, "github", nil, nil, open); err != nil {
		t.Fatalf("Connect: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	g := f.grants[0]
	want := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {fakeRefreshToken}, "audience": {f.URL + "/me/"},
		"scope": {"create:me:connected_accounts read:me:connected_accounts"}, "client_id": {"av-client"}, "client_secret": {"av-secret"}}
	for k := range want {
		if g.Get(k) != want.Get(k) {
			t.Errorf("refresh grant %s = %q, want %q", k, g.Get(k), want.Get(k))
		}
	}

	conn := f.connects[0]
	redirect, _ := conn["redirect_uri"].(string)
	ru, err := url.Parse(redirect)
	if err != nil || ru.Scheme != "http" || ru.Hostname() != "127.0.0.1" || ru.Path != "/callback" {
		t.Errorf("redirect_uri %q: want the loopback callback", redirect)
	}
	if conn["connection"] != "github" || conn["code_challenge_method"] != "S256" || len(conn["code_challenge"].(string)) != 43 || conn["state"] == "" {
		t.Errorf("connect body %v", conn)
	}
	if _, ok := conn["scopes"]; ok {
		t.Errorf("connect body has scopes %v with none asked for: omit the key", conn["scopes"])
	}
	if opened != f.URL+"/connect?ticket="+fakeTicket {
		t.Errorf("opened %q, want connect_uri?ticket=", opened)
	}

	done := f.completes[0]
	if done["auth_session"] != fakeSession || done["connect_code"] != fakeConnectCode || done["redirect_uri"] != redirect || done["code_verifier"] == "" {
		t.Errorf("complete body %v", done)
	}
	if len(f.accounts) != 1 {
		t.Fatalf("the fake did not complete the link: %v", f.accounts)
	}
}

func TestConnectSendsScopesWhenAsked(t *testing.T) {
	f := newFakeMyAccount(t)
	c := f.client(t)
	if err := c.Connect(connectCtx(t), fakeRefreshToken, "jira-oauth", []string{"read:jira-work", "offline_access"}, nil, browser(t)); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	got, _ := json.Marshal(f.connects[0]["scopes"])
	if string(got) != `["read:jira-work","offline_access"]` {
		t.Fatalf("scopes sent %s", got)
	}
}

func TestConnectRefusesAForgedCallback(t *testing.T) {
	f := newFakeMyAccount(t)
	c := f.client(t)
	err := c.Connect(connectCtx(t), fakeRefreshToken, "github", nil, nil, func(string) error {
		f.mu.Lock()
		redirect := f.connects[0]["redirect_uri"].(string)
		f.mu.Unlock()
		go http.Get(redirect + "?connect_code=stolen&state=guessed")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("forged callback: %v", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.completes) != 0 {
		t.Fatalf("completed a forged link: %v", f.completes)
	}
}

func TestConnectEndsWhenTheTicketExpires(t *testing.T) {
	f := newFakeMyAccount(t)
	f.expiresIn = 1
	c := f.client(t)
	err := c.Connect(connectCtx(t), fakeRefreshToken, "github", nil, nil, func(string) error { return nil })
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired ticket: %v", err)
	}
}

func TestListAndDisconnectAccounts(t *testing.T) {
	f := newFakeMyAccount(t)
	f.pageSize = 2
	f.accounts = []ConnectedAccount{{ID: "cac_1", Connection: "github"}, {ID: "cac_2", Connection: "google-oauth2", Scopes: []string{"openid"}},
		{ID: "cac/3", Connection: "sign-in-with-slack"}}
	c := f.client(t)
	got, err := c.ConnectedAccounts(t.Context(), fakeRefreshToken)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1].Connection != "google-oauth2" || !slices.Equal(got[1].Scopes, []string{"openid"}) || got[2].ID != "cac/3" {
		t.Fatalf("accounts over two pages: %+v", got)
	}
	if s := f.lastGrant().Get("scope"); s != "read:me:connected_accounts" {
		t.Errorf("listing asked for scope %q", s)
	}
	if err := c.Disconnect(t.Context(), fakeRefreshToken, "cac/3"); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	deleted, left := slices.Clone(f.deleted), len(f.accounts)
	f.mu.Unlock()
	if !slices.Equal(deleted, []string{"cac/3"}) || left != 2 {
		t.Fatalf("deleted %v, %d left (the id must be path-escaped)", deleted, left)
	}
	if s := f.lastGrant().Get("scope"); s != "delete:me:connected_accounts" {
		t.Errorf("unlinking asked for scope %q", s)
	}
	if err := c.Disconnect(t.Context(), fakeRefreshToken, "cac_9"); err == nil || !strings.Contains(err.Error(), "connected account not found") {
		t.Fatalf("unknown id: %v", err)
	}
}

func TestMyAccountErrorsSayWhatToDo(t *testing.T) {
	for _, tc := range []struct {
		name   string
		setup  func(f *fakeMyAccount)
		rt     string
		want   error
		inText string
	}{
		{name: "fail/session ended", rt: "expired-rt", want: ErrLoginAgain},
		{name: "fail/tenant setting missing", setup: func(f *fakeMyAccount) { f.tokenError = "access_denied" }, want: ErrMyAccountNotAllowed,
			inText: "Multi-Resource Refresh Token"},
		{name: "fail/scope missing on the API", setup: func(f *fakeMyAccount) { f.fail = problem(403, "Forbidden", "Insufficient scope") },
			want: ErrMyAccountNotAllowed, inText: "Insufficient scope"},
		{name: "fail/unknown connection", setup: func(f *fakeMyAccount) { f.fail = problem(404, "Not Found", "connection not found") },
			inText: "Connected Accounts for Token Vault is on"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMyAccount(t)
			if tc.setup != nil {
				tc.setup(f)
			}
			rt := fakeRefreshToken
			if tc.rt != "" {
				rt = tc.rt
			}
			err := f.client(t).Connect(connectCtx(t), rt, "jira", nil, nil, browser(t))
			if err == nil || tc.want != nil && !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.inText) {
				t.Fatalf("error %v, want %v containing %q", err, tc.want, tc.inText)
			}
			for _, secret := range []string{rt, "ma-1", "av-secret", fakeTicket} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q reveals %q", err, secret)
				}
			}
		})
	}
}

func TestConnectLinkKeepsTheQueryAndRefusesOtherSchemes(t *testing.T) {
	for _, tc := range []struct{ uri, want string }{
		{"https://acme.eu.auth0.com/connect", "https://acme.eu.auth0.com/connect?ticket=a+b%26c"},
		{"https://acme.eu.auth0.com/connect?lang=en", "https://acme.eu.auth0.com/connect?lang=en&ticket=a+b%26c"},
		{"http://127.0.0.1:4000/connect", "http://127.0.0.1:4000/connect?ticket=a+b%26c"},
		{"http://acme.eu.auth0.com/connect", ""},
		{"javascript:alert(1)", ""},
		{"", ""},
	} {
		got, err := connectLink(tc.uri, "a b&c")
		if got != tc.want || (err != nil) != (tc.want == "") {
			t.Errorf("connectLink(%q) = %q, %v; want %q", tc.uri, got, err, tc.want)
		}
	}
}
