package signin

import (
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/oauth2"
)

const (
	ghClientID   = "Iv1.gh-client"
	ghDeviceCode = "3584d83530557fdd1f46af8289938c8ef79f9dc5"
	ghUserCode   = "WDJB-MJHT"
)

// fakeGitHub answers like github.com's device flow and api.github.com's
// GET /user, as GitHub documents them: POST /login/device/code, then POST
// /login/oauth/access_token answering 200 with an error until the user
// approves, as JSON when asked (Accept: application/json) and form-encoded
// otherwise. Like a careless server, its errors echo what it received.
type fakeGitHub struct {
	// answers are the successive answers to polls: an error code, or
	// "token"; the last one repeats.
	answers   []string
	expiresIn int
	// tokens maps the tokens /user accepts to their X-OAuth-Scopes header
	// (absent: no header, as for fine-grained tokens).
	tokens map[string]*string

	mu       sync.Mutex
	started  time.Time // when the device code was issued
	polls    []time.Duration
	requests []url.Values // device code and token requests
}

func (f *fakeGitHub) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login/device/code", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.PostForm)
		f.started = time.Now()
		writeJSON(w, http.StatusOK, map[string]any{
			"device_code": ghDeviceCode, "user_code": ghUserCode, "verification_uri": "https://github.com/login/device",
			"expires_in": f.expiresIn, "interval": 5,
		})
	})
	mux.HandleFunc("POST /login/oauth/access_token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.PostForm)
		f.polls = append(f.polls, time.Since(f.started))
		answer := f.answers[min(len(f.polls), len(f.answers))-1]
		v := url.Values{}
		switch {
		case r.PostForm.Get("grant_type") == "refresh_token":
			v.Set("error", "bad_refresh_token")
			v.Set("error_description", "The refresh token passed is incorrect or expired.")
		case r.PostForm.Get("device_code") != ghDeviceCode:
			v.Set("error", "incorrect_device_code")
		case answer == "token":
			v.Set("access_token", "ghu_token")
			v.Set("token_type", "bearer")
			v.Set("scope", "")
			v.Set("expires_in", "28800")
			v.Set("refresh_token", "ghr_refresh")
		default:
			v.Set("error", answer)
			v.Set("error_description", "see the docs")
			v.Set("error_uri", "https://docs.github.com/developers/apps/authorizing-oauth-apps#error-codes-for-the-device-flow")
			if answer == "slow_down" {
				v.Set("interval", "10")
			}
		}
		if v.Has("error") {
			v.Set("received", r.PostForm.Encode())
		}
		if strings.Contains(r.Header.Get("Accept"), "application/json") {
			m := map[string]string{}
			for k := range v {
				m[k] = v.Get(k)
			}
			writeJSON(w, http.StatusOK, m)
			return
		}
		w.Header().Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
		fmt.Fprint(w, v.Encode())
	})
	mux.HandleFunc("GET /user", func(w http.ResponseWriter, r *http.Request) {
		scopes, ok := f.tokens[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		if !ok {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials", "received": r.Header.Get("Authorization")})
			return
		}
		if scopes != nil {
			w.Header().Set("X-OAuth-Scopes", *scopes)
		}
		writeJSON(w, http.StatusOK, map[string]any{"login": "octocat", "id": 1})
	})
	return mux
}

// inProcess is an HTTP client whose requests h answers in process: inside
// a synctest bubble, whose fake clock then drives x/oauth2's polling
// without real waits. It has no timeout (h answers at once): x/oauth2 does
// not close the device code response, so a timeout's timer would outlive
// the bubble.
func inProcess(h http.Handler) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		return rec.Result(), nil
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func (f *fakeGitHub) config(h http.Handler) GitHub {
	const base = "https://github.test"
	return GitHub{
		ClientID: ghClientID, Scopes: []string{"repo"}, APIURL: base,
		Endpoint: oauth2.Endpoint{DeviceAuthURL: base + "/login/device/code", TokenURL: base + "/login/oauth/access_token"},
		HTTP:     inProcess(h),
	}
}

func ptr(s string) *string { return &s }

func TestGitHubDeviceFlow(t *testing.T) {
	tests := []struct {
		name      string
		answers   []string
		expiresIn int
		wantPolls []time.Duration
		wantErr   string
	}{
		{
			// GitHub's interval is 5 s; slow_down adds 5 s for this and every
			// later poll (RFC 8628 §3.5, as GitHub documents).
			name: "ok/pending, slow down, approved", answers: []string{"authorization_pending", "slow_down", "token"}, expiresIn: 900,
			wantPolls: []time.Duration{5 * time.Second, 10 * time.Second, 20 * time.Second},
		},
		{
			name: "fail/code expired", answers: []string{"authorization_pending", "expired_token"}, expiresIn: 900,
			wantPolls: []time.Duration{5 * time.Second, 10 * time.Second}, wantErr: "the GitHub code expired before it was entered: sign in again",
		},
		{
			name: "fail/code expires while pending", answers: []string{"authorization_pending"}, expiresIn: 12,
			wantPolls: []time.Duration{5 * time.Second, 10 * time.Second}, wantErr: "the GitHub code expired",
		},
		{
			name: "fail/denied", answers: []string{"access_denied"}, expiresIn: 900,
			wantPolls: []time.Duration{5 * time.Second}, wantErr: "cancelled",
		},
		{
			name: "fail/unknown error", answers: []string{"device_flow_disabled"}, expiresIn: 900,
			wantPolls: []time.Duration{5 * time.Second}, wantErr: "signing in to GitHub: device_flow_disabled: see the docs",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := &fakeGitHub{answers: tt.answers, expiresIn: tt.expiresIn, tokens: map[string]*string{"ghu_token": nil}}
				var shown []string
				tok, acct, err := f.config(f.handler()).SignIn(t.Context(), func(code, uri string) { shown = append(shown, code, uri) })

				if !slices.Equal(shown, []string{ghUserCode, "https://github.com/login/device"}) {
					t.Errorf("shown %q", shown)
				}
				if !slices.Equal(f.polls, tt.wantPolls) {
					t.Errorf("polled at %v, want %v", f.polls, tt.wantPolls)
				}
				if want := (url.Values{"client_id": {ghClientID}, "scope": {"repo"}}); !maps.EqualFunc(f.requests[0], want, slices.Equal) {
					t.Errorf("device code request %v, want %v", f.requests[0], want)
				}
				for _, poll := range f.requests[1:] {
					want := url.Values{"client_id": {ghClientID}, "scope": {"repo"}, "device_code": {ghDeviceCode}, "grant_type": {"urn:ietf:params:oauth:grant-type:device_code"}}
					if !maps.EqualFunc(poll, want, slices.Equal) {
						t.Errorf("poll %v, want %v", poll, want)
					}
				}
				if signInFailed(t, tok, err, tt.wantErr) {
					return
				}
				if tok.AccessToken != "ghu_token" || tok.RefreshToken != "ghr_refresh" || time.Until(tok.Expiry) != 8*time.Hour {
					t.Errorf("token %+v (expires in %v)", tok, time.Until(tok.Expiry))
				}
				if acct.Login != "octocat" || acct.ScopesKnown {
					t.Errorf("account %+v", acct)
				}
			})
		})
	}
}

func TestGitHubCheckToken(t *testing.T) {
	f := &fakeGitHub{tokens: map[string]*string{
		"ghp_classic":    ptr("repo, workflow"),
		"ghp_noscopes":   ptr(""),
		"github_pat_fg1": nil,
	}}
	g := f.config(f.handler())
	tests := []struct {
		name, token string
		want        GitHubAccount
		wantErr     string
	}{
		{name: "ok/classic token lists its scopes", token: "ghp_classic", want: GitHubAccount{Login: "octocat", Scopes: []string{"repo", "workflow"}, ScopesKnown: true}},
		{name: "ok/classic token without scopes", token: "ghp_noscopes", want: GitHubAccount{Login: "octocat", Scopes: []string{}, ScopesKnown: true}},
		{name: "ok/fine-grained token: scopes unknown", token: "github_pat_fg1", want: GitHubAccount{Login: "octocat"}},
		{name: "fail/bad token", token: "ghp_wrong", wantErr: "GitHub does not accept this token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			acct, err := g.CheckToken(t.Context(), tt.token)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || acct.Login != tt.want.Login || acct.ScopesKnown != tt.want.ScopesKnown || !slices.Equal(acct.Scopes, tt.want.Scopes) || (acct.Scopes == nil) != (tt.want.Scopes == nil) {
				t.Fatalf("CheckToken = %+v, %v; want %+v", acct, err, tt.want)
			}
		})
	}
}

func TestGitHubRefusedRefreshMeansReconnect(t *testing.T) {
	f := &fakeGitHub{answers: []string{"token"}}
	store := newStore()
	store.save(t, "github", &oauth2.Token{AccessToken: "ghu_old", RefreshToken: "ghr_dead", Expiry: time.Now().Add(-time.Hour)})
	tok, err := f.config(f.handler()).TokenSource(store, "github").Token()
	if tok != nil || !errors.Is(err, ErrReconnect) || !strings.Contains(err.Error(), "GitHub refused the saved sign-in") {
		t.Fatalf("Token() = %v, %v; want ErrReconnect", tok, err)
	}
	if got := f.requests[0]; got.Get("client_id") != ghClientID || got.Get("refresh_token") != "ghr_dead" || got.Has("client_secret") {
		t.Errorf("refresh request %v", got)
	}
}
