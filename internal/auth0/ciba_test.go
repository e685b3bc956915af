package auth0

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"
)

// fakeTenant answers discovery and a scripted sequence of CIBA polls, as
// Auth0 documents them (oidc-provider never sends slow_down).
type fakeTenant struct {
	*httptest.Server
	mu    sync.Mutex
	polls []func(w http.ResponseWriter)
	forms []map[string]string
}

func newFakeTenant(t *testing.T, polls ...func(w http.ResponseWriter)) *fakeTenant {
	f := &fakeTenant{polls: polls}
	mux := http.NewServeMux()
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]string{"issuer": f.URL + "/", "authorization_endpoint": f.URL + "/authorize",
			"token_endpoint": f.URL + "/oauth/token", "backchannel_authentication_endpoint": f.URL + "/bc-authorize"})
	})
	mux.HandleFunc("/bc-authorize", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		json.NewEncoder(w).Encode(map[string]any{"auth_req_id": "req-1", "expires_in": 120}) // no interval: 5 s
	})
	mux.HandleFunc("/oauth/token", func(w http.ResponseWriter, r *http.Request) {
		f.record(r)
		f.mu.Lock()
		next := f.polls[0]
		f.polls = f.polls[1:]
		f.mu.Unlock()
		next(w)
	})
	f.Server = httptest.NewServer(mux)
	t.Cleanup(f.Close)
	return f
}

func (f *fakeTenant) record(r *http.Request) {
	r.ParseForm()
	m := map[string]string{}
	for k := range r.PostForm {
		m[k] = r.PostForm.Get(k)
	}
	f.mu.Lock()
	f.forms = append(f.forms, m)
	f.mu.Unlock()
}

func oauthError(status int, code string, retryAfter string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error": code})
	}
}

func tokens(sub string) func(w http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		payload, _ := json.Marshal(map[string]string{"sub": sub})
		json.NewEncoder(w).Encode(map[string]any{"access_token": "at", "token_type": "Bearer", "expires_in": 60,
			"id_token": "e30." + base64.RawURLEncoding.EncodeToString(payload) + ".sig"})
	}
}

func TestPollingHonoursIntervalSlowDownAndRetryAfter(t *testing.T) {
	f := newFakeTenant(t,
		oauthError(400, "authorization_pending", ""),
		oauthError(400, "slow_down", "30"),
		oauthError(400, "slow_down", ""),
		oauthError(400, "authorization_pending", ""),
		tokens("auth0|me"))
	c, _ := New(Config{Domain: f.URL, ClientID: "id", ClientSecret: "secret"})
	req, err := c.StartCIBA(t.Context(), "auth0|me", "AV-7F3K:github_create_issue", 2*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	sub, err := c.PollCIBA(t.Context(), req, func(_ context.Context, d time.Duration) error { waits = append(waits, d); return nil })
	if err != nil || sub != "auth0|me" {
		t.Fatalf("PollCIBA = %q, %v", sub, err)
	}
	want := []time.Duration{5 * time.Second, 5 * time.Second, 30 * time.Second, 35 * time.Second, 35 * time.Second}
	if !slices.Equal(waits, want) {
		t.Fatalf("waits %v, want %v (default 5 s; slow_down: max(Retry-After, interval+5 s))", waits, want)
	}
	start := f.forms[0]
	var hint map[string]string
	json.Unmarshal([]byte(start["login_hint"]), &hint)
	if hint["format"] != "iss_sub" || hint["iss"] != f.URL+"/" || hint["sub"] != "auth0|me" || start["scope"] != "openid" ||
		start["binding_message"] != "AV-7F3K:github_create_issue" || start["requested_expiry"] != "120" || start["client_secret"] != "secret" {
		t.Fatalf("bc-authorize form %v", start)
	}
	if poll := f.forms[1]; poll["grant_type"] != grantCIBA || poll["auth_req_id"] != "req-1" {
		t.Fatalf("poll form %v", poll)
	}
}

func TestPollingOutcomes(t *testing.T) {
	for code, want := range map[string]error{"access_denied": ErrDenied, "expired_token": ErrExpired, "invalid_grant": ErrGone} {
		f := newFakeTenant(t, oauthError(400, code, ""))
		c, _ := New(Config{Domain: f.URL, ClientID: "id", ClientSecret: "s"})
		_, err := c.PollCIBA(t.Context(), CIBARequest{ID: "x", Interval: time.Second}, func(context.Context, time.Duration) error { return nil })
		if err != want {
			t.Errorf("%s: %v, want %v", code, err, want)
		}
	}
}
