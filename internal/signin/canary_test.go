package signin

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"
)

// canary stands for a credential: it must never appear in an error. The
// fakes echo what they receive in their error answers, as careless servers
// do, so any error quoting an answer body would show it.
const canary = "CANARY-7f3e9b2d"

func TestNoCredentialInErrors(t *testing.T) {
	expiredWith := func(rt string) *oauth2.Token {
		return &oauth2.Token{AccessToken: canary + "-access", RefreshToken: rt, Expiry: time.Now().Add(-time.Minute)}
	}
	tests := []struct {
		name string
		run  func(t *testing.T) error
	}{
		{"github/pasted token refused", func(t *testing.T) error {
			f := &fakeGitHub{}
			_, err := f.config(f.handler()).CheckToken(t.Context(), canary)
			return err
		}},
		{"github/refresh token refused", func(t *testing.T) error {
			f := &fakeGitHub{answers: []string{"token"}}
			store := newStore()
			store.save(t, "k", expiredWith(canary))
			_, err := f.config(f.handler()).TokenSource(store, "k").Token()
			return err
		}},
		{"google/client secret refused", func(t *testing.T) error {
			f := newFakeGoogle(t, "GOCSPX-real")
			g := f.config()
			g.ClientSecret = canary
			var authorized url.Values
			_, err := g.SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {googleCode}}))
			return err
		}},
		{"google/code refused", func(t *testing.T) error {
			f := newFakeGoogle(t, "")
			var authorized url.Values
			_, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {canary}}))
			return err
		}},
		{"google/forged callback", func(t *testing.T) error {
			f := newFakeGoogle(t, "")
			var authorized url.Values
			_, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {canary}, "state": {"guessed"}}))
			return err
		}},
		{"google/refresh token refused", func(t *testing.T) error {
			f := newFakeGoogle(t, "")
			store := newStore()
			store.save(t, "k", expiredWith(canary))
			_, err := f.config().TokenSource(store, "k").Token()
			return err
		}},
		{"slack/code refused", func(t *testing.T) error {
			f := newFakeSlack(t)
			var authorized url.Values
			_, _, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {canary}}))
			return err
		}},
		{"slack/pasted token refused", func(t *testing.T) error {
			_, err := newFakeSlack(t).config().CheckToken(t.Context(), canary)
			return err
		}},
		{"slack/refresh token refused", func(t *testing.T) error {
			f := newFakeSlack(t)
			store := newStore()
			store.save(t, "k", expiredWith(canary))
			_, err := f.config().TokenSource(store, "k").Token()
			return err
		}},
		{"atlassian/client secret refused", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			a := f.config()
			a.ClientSecret = canary
			var authorized url.Values
			_, _, err := a.SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {atlCode}}))
			return err
		}},
		{"atlassian/code refused", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			var authorized url.Values
			_, _, err := f.config().SignIn(t.Context(), browser(t, &authorized, url.Values{"code": {canary}}))
			return err
		}},
		{"atlassian/refresh token refused", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			store := newStore()
			store.save(t, "k", expiredWith(canary))
			_, err := f.config().TokenSource(store, "k").Token()
			return err
		}},
		{"atlassian/token endpoint failing with an echo", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			f.broken = true
			store := newStore()
			f.seed(t, store, "k", canary)
			_, err := f.config().TokenSource(store, "k").Token()
			return err
		}},
		{"atlassian/API token refused", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			_, err := Atlassian{}.CheckAPIToken(t.Context(), f.URL, atlEmail, canary)
			return err
		}},
		{"token source/store refuses the refreshed token", func(t *testing.T) error {
			f := newFakeAtlassian(t)
			store := newStore()
			f.seed(t, store, "k", canary)
			store.FailSets(errKeychainLocked)
			_, err := f.config().TokenSource(store, "k").Token()
			return err
		}},
		{"token source/expired without refresh token", func(t *testing.T) error {
			store := newStore()
			store.save(t, "k", expiredWith(""))
			_, err := newFakeAtlassian(t).config().TokenSource(store, "k").Token()
			return err
		}},
		{"token source/unreadable", func(t *testing.T) error {
			store := newStore()
			store.put(t, "k", `{"access_token":"`+canary)
			_, err := newFakeAtlassian(t).config().TokenSource(store, "k").Token()
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.run(t)
			if err == nil {
				t.Fatal("no error: the path under test did not fail")
			}
			if strings.Contains(err.Error(), canary) {
				t.Fatalf("the error shows a credential: %v", err)
			}
		})
	}
}
