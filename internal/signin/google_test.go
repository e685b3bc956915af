package signin

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

const (
	googleClientID = "123-abc.apps.googleusercontent.com"
	googleCode     = "4/0g-code"
	googleRefresh  = "1//g-refresh"
	gmailReadonly  = "https://www.googleapis.com/auth/gmail.readonly"
)

// fakeGoogle answers like oauth2.googleapis.com/token as Google documents
// it for installed apps: a form with client_id (and client_secret, when the
// client has one) in the body; a refresh answers no new refresh token.
// Like a careless server, its errors echo what it received.
type fakeGoogle struct {
	*httptest.Server
	secret string // "": a client without secret

	mu       sync.Mutex
	requests []url.Values
	auth     []string // Authorization headers received
}

func newFakeGoogle(t *testing.T, secret string) *fakeGoogle {
	f := &fakeGoogle{secret: secret}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/token" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		f.mu.Lock()
		defer f.mu.Unlock()
		f.requests = append(f.requests, r.PostForm)
		f.auth = append(f.auth, r.Header.Get("Authorization"))
		fail := func(code, desc string) {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": code, "error_description": desc, "received": r.PostForm.Encode()})
		}
		if r.PostForm.Get("client_id") != googleClientID || r.PostForm.Get("client_secret") != f.secret {
			fail("invalid_client", "Unauthorized")
			return
		}
		switch r.PostForm.Get("grant_type") {
		case "authorization_code":
			if r.PostForm.Get("code") != googleCode || r.PostForm.Get("code_verifier") == "" {
				fail("invalid_grant", "Bad Request")
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{
				"access_token": "ya29.first", "expires_in": 3599, "refresh_token": googleRefresh,
				"scope": gmailReadonly, "token_type": "Bearer",
			})
		case "refresh_token":
			if r.PostForm.Get("refresh_token") != googleRefresh {
				fail("invalid_grant", "Token has been expired or revoked.")
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"access_token": "ya29.second", "expires_in": 3599, "scope": gmailReadonly, "token_type": "Bearer"})
		default:
			fail("unsupported_grant_type", "Invalid grant_type: "+r.PostForm.Get("grant_type"))
		}
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeGoogle) config() Google {
	return Google{
		ClientID: googleClientID, ClientSecret: f.secret, Scopes: []string{gmailReadonly},
		Endpoint: oauth2.Endpoint{AuthURL: f.URL + "/auth", TokenURL: f.URL + "/token"},
	}
}

func TestGoogleSignIn(t *testing.T) {
	tests := []struct {
		name    string
		secret  string
		answer  url.Values
		wantErr string
	}{
		{name: "ok/desktop client with its secret", secret: "GOCSPX-desktop", answer: url.Values{"code": {googleCode}}},
		{name: "ok/client without secret", answer: url.Values{"code": {googleCode}}},
		{name: "fail/consent refused", answer: url.Values{"error": {"access_denied"}}, wantErr: "signing in to Google: the sign-in was refused: access_denied"},
		{name: "fail/code refused", answer: url.Values{"code": {"4/0forged"}}, wantErr: "signing in to Google: exchanging the code: invalid_grant: Bad Request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeGoogle(t, tt.secret)
			var authorized url.Values
			tok, err := f.config().SignIn(t.Context(), browser(t, &authorized, tt.answer))
			checkAuthorizeURL(t, authorized, googleClientID, map[string]string{
				"scope": gmailReadonly, "access_type": "offline", "prompt": "consent", "code_challenge_method": "S256",
			})
			if signInFailed(t, tok, err, tt.wantErr) {
				return
			}
			if tok.AccessToken != "ya29.first" || tok.RefreshToken != googleRefresh || tok.Extra("scope") != gmailReadonly {
				t.Errorf("token %+v", tok)
			}
			got := f.requests[0]
			checkPKCE(t, authorized, got.Get("code_verifier"))
			if got.Get("grant_type") != "authorization_code" || got.Get("code") != googleCode || got.Get("redirect_uri") != authorized.Get("redirect_uri") {
				t.Errorf("token request %v", got)
			}
			if got.Has("client_secret") != (tt.secret != "") || f.auth[0] != "" {
				t.Errorf("client credentials: body %v, Authorization %q; want them in the body only", got, f.auth[0])
			}
		})
	}
}

func TestGoogleRefreshKeepsTheRefreshToken(t *testing.T) {
	f := newFakeGoogle(t, "GOCSPX-desktop")
	store := newStore()
	store.save(t, "google", &oauth2.Token{AccessToken: "ya29.first", RefreshToken: googleRefresh, Expiry: time.Now().Add(-time.Second)})
	tok, err := f.config().TokenSource(store, "google").Token()
	if err != nil || tok.AccessToken != "ya29.second" {
		t.Fatalf("Token() = %v, %v", tok, err)
	}
	if saved := store.token(t, "google"); saved.AccessToken != "ya29.second" || saved.RefreshToken != googleRefresh || saved.Expiry.IsZero() {
		t.Fatalf("saved %+v; want the new access token with the old refresh token", saved)
	}
	if got := f.requests[0]; got.Get("grant_type") != "refresh_token" || got.Get("client_secret") != "GOCSPX-desktop" {
		t.Errorf("refresh request %v", got)
	}
}
