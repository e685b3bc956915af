package signin

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	atlClientID = "atl-client"
	atlSecret   = "atl-secret"
	atlCode     = "atl-code"
	atlEmail    = "ada@example.com"
	atlAPIToken = "atl-api-token"
)

// fakeAtlassian answers like auth.atlassian.com and api.atlassian.com as
// documented for OAuth 2.0 (3LO): a token endpoint taking JSON bodies that
// rotates the refresh token on every refresh, accessible-resources, and
// /rest/api/3/myself for API tokens. Like a careless server, its errors echo
// what it received.
type fakeAtlassian struct {
	*httptest.Server
	events *events

	mu        sync.Mutex
	secret    string // the client secret it accepts
	apiToken  string // the API token it accepts
	current   string // the only refresh token that works
	issued    int
	refreshes int
	requests  []map[string]string // token request bodies
	types     []string            // their Content-Type
	sites     []AtlassianSite
	broken    bool          // answer 500 to token requests
	delay     time.Duration // before answering a refresh
}

func newFakeAtlassian(t *testing.T) *fakeAtlassian {
	f := &fakeAtlassian{events: &events{}, secret: atlSecret, apiToken: atlAPIToken, sites: []AtlassianSite{
		{ID: "cloud-1", URL: "https://acme.atlassian.net", Name: "acme", Scopes: []string{"read:jira-work"}, AvatarURL: "https://example.com/a.png"},
		{ID: "cloud-2", URL: "https://beta.atlassian.net", Name: "beta", Scopes: []string{"read:jira-work"}},
	}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /oauth/token/accessible-resources", f.resources)
	mux.HandleFunc("GET /rest/api/3/myself", f.myself)
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAtlassian) config() Atlassian {
	return Atlassian{
		ClientID: atlClientID, ClientSecret: atlSecret, Scopes: []string{"read:jira-work"},
		AuthURL: f.URL + "/authorize", TokenURL: f.URL + "/oauth/token", APIURL: f.URL,
	}
}

func (f *fakeAtlassian) token(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	f.mu.Lock()
	defer f.mu.Unlock()
	var body map[string]string
	json.Unmarshal(raw, &body)
	f.requests = append(f.requests, body)
	f.types = append(f.types, r.Header.Get("Content-Type"))
	fail := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc, "received": string(raw)})
	}
	switch {
	case f.broken:
		http.Error(w, "internal error while handling "+string(raw), http.StatusInternalServerError)
		return
	case r.Header.Get("Content-Type") != "application/json" || body == nil:
		fail(http.StatusBadRequest, "invalid_request", "the body must be JSON")
		return
	case body["client_id"] != atlClientID || body["client_secret"] != f.secret:
		fail(http.StatusUnauthorized, "access_denied", "Unauthorized")
		return
	}
	switch body["grant_type"] {
	case "authorization_code":
		if body["code"] != atlCode || !strings.HasPrefix(body["redirect_uri"], "http://127.0.0.1:") {
			fail(http.StatusForbidden, "invalid_grant", "Invalid authorization code")
			return
		}
	case "refresh_token":
		f.refreshes++
		f.events.add("refresh")
		if body["refresh_token"] != f.current {
			fail(http.StatusForbidden, "invalid_grant", "Unknown or invalid refresh token.")
			return
		}
		time.Sleep(f.delay)
	default:
		fail(http.StatusBadRequest, "unsupported_grant_type", "")
		return
	}
	f.issued++
	f.current = fmt.Sprintf("atl-rt-%d", f.issued)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": fmt.Sprintf("atl-at-%d", f.issued), "expires_in": 3600, "token_type": "Bearer",
		"scope": "read:jira-work offline_access", "refresh_token": f.current,
	})
}

func (f *fakeAtlassian) resources(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Header.Get("Authorization") != fmt.Sprintf("Bearer atl-at-%d", f.issued) {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"code": 401, "message": "Unauthorized", "received": r.Header.Get("Authorization")})
		return
	}
	writeJSON(w, http.StatusOK, f.sites)
}

func (f *fakeAtlassian) myself(w http.ResponseWriter, r *http.Request) {
	email, token, ok := r.BasicAuth()
	if !ok || email != atlEmail || token != f.apiToken {
		http.Error(w, "Client must be authenticated to access this resource: "+r.Header.Get("Authorization"), http.StatusUnauthorized)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"accountId": "5b10ac8d82e05b22cc7d4ef5", "displayName": "Ada Lovelace", "active": true})
}

// seed makes rt the valid refresh token and stores an expired sign-in with it.
func (f *fakeAtlassian) seed(t *testing.T, store *memStore, key, rt string) {
	f.mu.Lock()
	f.current = rt
	f.mu.Unlock()
	store.save(t, key, &oauth2.Token{AccessToken: "atl-at-old", TokenType: "Bearer", RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)})
}

func TestAtlassianSignIn(t *testing.T) {
	f := newFakeAtlassian(t)
	var authorized url.Values
	tok, sites, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {atlCode}}))
	if err != nil {
		t.Fatal(err)
	}
	checkAuthorizeURL(t, authorized, atlClientID, map[string]string{
		"audience": "api.atlassian.com", "prompt": "consent", "scope": "read:jira-work offline_access",
	})
	if tok.AccessToken != "atl-at-1" || tok.RefreshToken != "atl-rt-1" || tok.Expiry.IsZero() {
		t.Errorf("token %+v", tok)
	}
	if len(sites) != 2 || sites[0].ID != "cloud-1" || sites[0].URL != "https://acme.atlassian.net" || sites[0].AvatarURL == "" ||
		!slices.Equal(sites[0].Scopes, []string{"read:jira-work"}) || sites[1].ID != "cloud-2" {
		t.Errorf("sites %+v", sites)
	}
	req := f.requests[0]
	want := map[string]string{"grant_type": "authorization_code", "client_id": atlClientID, "client_secret": atlSecret, "code": atlCode, "redirect_uri": authorized.Get("redirect_uri")}
	for k, v := range want {
		if req[k] != v {
			t.Errorf("token request %s = %q, want %q", k, req[k], v)
		}
	}
	if f.types[0] != "application/json" {
		t.Errorf("token request Content-Type %q, want application/json (Atlassian's documented body)", f.types[0])
	}
}

func TestAtlassianSignInFailures(t *testing.T) {
	tests := []struct {
		name    string
		answer  url.Values
		setup   func(*fakeAtlassian, *Atlassian)
		wantErr string
	}{
		{name: "fail/consent refused", answer: url.Values{"error": {"access_denied"}, "error_description": {"User did not authorize the request"}}, wantErr: "refused: access_denied"},
		{name: "fail/wrong code", answer: url.Values{"code": {"forged"}}, wantErr: "invalid_grant"},
		{name: "fail/wrong secret", answer: url.Values{"code": {atlCode}}, setup: func(_ *fakeAtlassian, a *Atlassian) { a.ClientSecret = "wrong" }, wantErr: "access_denied"},
		{name: "fail/no sites", answer: url.Values{"code": {atlCode}}, setup: func(f *fakeAtlassian, _ *Atlassian) { f.sites = []AtlassianSite{} }, wantErr: "reaches no Atlassian site"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAtlassian(t)
			a := f.config()
			if tt.setup != nil {
				tt.setup(f, &a)
			}
			var authorized url.Values
			if _, _, err := a.SignIn(t.Context(), browser(t, &authorized, tt.answer)); err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestAtlassianRotatedRefreshTokenIsSavedBeforeTheAccessTokenIsUsed(t *testing.T) {
	f := newFakeAtlassian(t)
	store := newStore()
	f.seed(t, store, "jira", "atl-rt-0")
	store.events = f.events
	ts := f.config().TokenSource(store, "jira")

	for i := 1; i <= 2; i++ {
		tok, err := ts.Token()
		if err != nil {
			t.Fatal(err)
		}
		f.events.add("got " + tok.AccessToken)
		if saved := store.token(t, "jira"); saved.RefreshToken != fmt.Sprintf("atl-rt-%d", i) || saved.AccessToken != tok.AccessToken {
			t.Fatalf("refresh %d: the store holds %q, want the rotated atl-rt-%d", i, saved.RefreshToken, i)
		}
		// Expire it, so that the next call refreshes with the rotated token.
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		store.events = nil
		store.save(t, "jira", &expired)
		store.events = f.events
	}
	want := []string{"refresh", "saved atl-rt-1", "got atl-at-1", "refresh", "saved atl-rt-2", "got atl-at-2"}
	if got := f.events.list(); !slices.Equal(got, want) {
		t.Fatalf("events %q, want %q", got, want)
	}
	if f.requests[0]["grant_type"] != "refresh_token" || f.requests[0]["client_secret"] != atlSecret || f.types[0] != "application/json" {
		t.Errorf("refresh request %v (%s)", f.requests[0], f.types[0])
	}
}

func TestAtlassianFailedSaveHandsOutNoToken(t *testing.T) {
	f := newFakeAtlassian(t)
	store := newStore()
	f.seed(t, store, "jira", "atl-rt-0")
	ts := f.config().TokenSource(store, "jira")

	store.FailSets(errKeychainLocked)
	tok, err := ts.Token()
	if tok != nil || !errors.Is(err, errKeychainLocked) || !strings.Contains(err.Error(), "saving the refreshed Atlassian sign-in") {
		t.Fatalf("Token() = %v, %v; want no token and the save error", tok, err)
	}
	// Still locked: the new token is neither handed out nor lost.
	if tok, err := ts.Token(); tok != nil || !errors.Is(err, errKeychainLocked) {
		t.Fatalf("Token() = %v, %v while the store still fails", tok, err)
	}
	// Unlocked: the rotated token is saved and used, without another refresh
	// (the old refresh token is dead at Atlassian).
	store.FailSets(nil)
	tok, err = ts.Token()
	if err != nil || tok.AccessToken != "atl-at-1" {
		t.Fatalf("Token() = %v, %v after the store recovered", tok, err)
	}
	if store.token(t, "jira").RefreshToken != "atl-rt-1" || f.refreshes != 1 {
		t.Fatalf("store holds %q after %d refreshes", store.token(t, "jira").RefreshToken, f.refreshes)
	}
}

func TestTokenSourceRefreshesOnceForConcurrentCallers(t *testing.T) {
	f := newFakeAtlassian(t)
	f.delay = 50 * time.Millisecond // let the callers pile up behind the refresh
	store := newStore()
	f.seed(t, store, "jira", "atl-rt-0")
	ts := f.config().TokenSource(store, "jira")

	const callers = 20
	start := make(chan struct{})
	got := make(chan string, callers)
	var wg sync.WaitGroup
	for range callers {
		wg.Go(func() {
			<-start
			tok, err := ts.Token()
			if err != nil {
				t.Error(err)
				return
			}
			got <- tok.AccessToken
		})
	}
	close(start)
	wg.Wait()
	close(got)
	for at := range got {
		if at != "atl-at-1" {
			t.Errorf("a caller got %q, want atl-at-1", at)
		}
	}
	if f.refreshes != 1 {
		t.Fatalf("%d refresh requests for %d concurrent callers, want 1", f.refreshes, callers)
	}
}

func TestTokenSource(t *testing.T) {
	tests := []struct {
		name      string
		saved     string // raw store content; "" : nothing saved
		wantToken string
		wantErr   string
		reconnect bool
	}{
		{name: "ok/pasted token without expiry is returned as is", saved: `{"access_token":"pat-1"}`, wantToken: "pat-1"},
		{name: "ok/valid token is not refreshed", saved: fmt.Sprintf(`{"access_token":"at-9","refresh_token":"atl-rt-0","expiry":%q}`, time.Now().Add(time.Hour).Format(time.RFC3339)), wantToken: "at-9"},
		{name: "fail/nothing saved", wantErr: "there is no saved Atlassian sign-in: reconnect it in AgentVault", reconnect: true},
		{name: "fail/unreadable", saved: "{not json", wantErr: "unreadable", reconnect: true},
		{name: "fail/expired without refresh token", saved: `{"access_token":"at-1","expiry":"2001-01-01T00:00:00Z"}`, wantErr: "has expired", reconnect: true},
		{name: "fail/refresh token refused", saved: `{"access_token":"at-1","refresh_token":"revoked","expiry":"2001-01-01T00:00:00Z"}`, wantErr: "Atlassian refused the saved sign-in: reconnect it in AgentVault", reconnect: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAtlassian(t)
			f.current = "atl-rt-0"
			store := newStore()
			if tt.saved != "" {
				store.put(t, "jira", tt.saved)
			}
			tok, err := f.config().TokenSource(store, "jira").Token()
			if tt.wantErr != "" {
				if tok != nil || err == nil || !strings.Contains(err.Error(), tt.wantErr) || errors.Is(err, ErrReconnect) != tt.reconnect {
					t.Fatalf("Token() = %v, %v; want %q (reconnect %v)", tok, err, tt.wantErr, tt.reconnect)
				}
				return
			}
			if err != nil || tok.AccessToken != tt.wantToken || tok.Type() != "Bearer" {
				t.Fatalf("Token() = %+v, %v; want %s", tok, err, tt.wantToken)
			}
			if f.refreshes != 0 {
				t.Fatalf("%d refreshes, want none", f.refreshes)
			}
		})
	}
}

func TestAtlassianCheckAPIToken(t *testing.T) {
	f := newFakeAtlassian(t)
	tests := []struct {
		name, site, token string
		want, wantErr     string
	}{
		{name: "ok", site: f.URL, token: atlAPIToken, want: "Ada Lovelace"},
		{name: "ok/trailing slash", site: f.URL + "/", token: atlAPIToken, want: "Ada Lovelace"},
		{name: "fail/wrong token", site: f.URL, token: "nope", wantErr: "does not accept this email and API token"},
		{name: "fail/plain http off loopback", site: "http://acme.atlassian.net", token: atlAPIToken, wantErr: "must use https"},
		{name: "fail/path", site: f.URL + "/jira/software", token: atlAPIToken, wantErr: "address like"},
		{name: "fail/credentials in the address", site: "https://ada:pw@acme.atlassian.net", token: atlAPIToken, wantErr: "address like"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			name, err := Atlassian{}.CheckAPIToken(t.Context(), tt.site, atlEmail, tt.token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || name != tt.want {
				t.Fatalf("CheckAPIToken = %q, %v; want %q", name, err, tt.want)
			}
		})
	}
}

func TestSiteURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"acme.atlassian.net", "https://acme.atlassian.net"},
		{" https://acme.atlassian.net/ ", "https://acme.atlassian.net"},
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080"},
		{"http://localhost.evil.example", ""},
		{"https://acme.atlassian.net/?x=1", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := siteURL(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("siteURL(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}
