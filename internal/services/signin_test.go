package services

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
)

// fakeAuth0Accounts records the links SignIn asks for.
type fakeAuth0Accounts struct {
	linked   []auth0.ConnectedAccount
	connects []string // connection|scopes|refresh token
	ports    []int
}

var _ Auth0Accounts = (*fakeAuth0Accounts)(nil)

func (f *fakeAuth0Accounts) ConnectedAccounts(_ context.Context, rt string) ([]auth0.ConnectedAccount, error) {
	return f.linked, nil
}

func (f *fakeAuth0Accounts) Connect(_ context.Context, rt, connection string, scopes []string, ports []int, open func(string) error) error {
	f.connects = append(f.connects, connection+"|"+strings.Join(scopes, " ")+"|"+rt)
	f.ports = ports
	f.linked = append(f.linked, auth0.ConnectedAccount{ID: "cac_x", Connection: connection})
	return open("https://tenant.example/connect?ticket=t")
}

func TestSignInWithAuth0LinksTheAccountOnlyWhenNeeded(t *testing.T) {
	rt := func() (string, error) { return "rt", nil }
	opened := 0
	open := func(string) error { opened++; return nil }
	for _, tc := range []struct {
		name, kind, connection string
		scopes                 []string
		linked                 []auth0.ConnectedAccount
		wantConnect            string // "" : no link started
		wantErr                string
	}{
		{name: "ok/not linked: link with the default scopes", kind: "github", wantConnect: "github|repo|rt"},
		{name: "ok/already linked", kind: "google", linked: []auth0.ConnectedAccount{{ID: "cac_1", Connection: "google-oauth2"}}},
		{name: "ok/another connection linked", kind: "slack", scopes: []string{"chat:write"},
			linked: []auth0.ConnectedAccount{{ID: "cac_1", Connection: "github"}}, wantConnect: "sign-in-with-slack|chat:write|rt"},
		{name: "ok/custom Jira connection", kind: "jira", connection: "atlassian", scopes: []string{"read:jira-work"},
			wantConnect: "atlassian|read:jira-work|rt"},
		{name: "fail/Jira needs a connection", kind: "jira", wantErr: "name the Auth0 connection"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeAuth0Accounts{linked: tc.linked}
			opened = 0
			spec, err := SignIn(t.Context(), tc.kind, api.SignIn{Auth0: true, Connection: tc.connection, Scopes: tc.scopes,
				Open: open, APIURL: "https://api.example"}, &Auth0Session{Accounts: f, RefreshToken: rt})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if spec.Auth != "auth0" || spec.Kind != tc.kind || spec.Connection != tc.connection || spec.Token != nil {
				t.Errorf("spec %+v", spec)
			}
			switch {
			case tc.wantConnect == "" && len(f.connects) != 0:
				t.Errorf("linked %v although the account was linked", f.connects)
			case tc.wantConnect != "" && (!slices.Equal(f.connects, []string{tc.wantConnect}) || opened != 1):
				t.Errorf("links %v (browser opened %d times), want %q", f.connects, opened, tc.wantConnect)
			case tc.wantConnect != "" && !slices.Equal(f.ports, auth0.CallbackPorts):
				t.Errorf("callback ports %v, want the tenant's allowed %v", f.ports, auth0.CallbackPorts)
			}
		})
	}
}

func TestSignInWithAuth0WithoutAccountsAssumesALink(t *testing.T) {
	spec, err := SignIn(t.Context(), "github", api.SignIn{Auth0: true}, nil)
	if err != nil || spec.Auth != "auth0" {
		t.Fatalf("%+v, %v", spec, err)
	}
}

func TestAnAuth0SessionNeedsASetupAndALogin(t *testing.T) {
	sec := &secretstest.Memory{}
	if _, err := Auth0SessionOf(api.Auth0Status{}, sec); err == nil || !strings.Contains(err.Error(), "auth0 setup") {
		t.Fatalf("not set up: %v", err)
	}
	if _, err := Auth0SessionOf(api.Auth0Status{Configured: true, Domain: "acme.eu.auth0.com", ClientID: "id"}, sec); err == nil || !strings.Contains(err.Error(), "auth0 login") {
		t.Fatalf("not logged in: %v", err)
	}
	sec.Set(KeyAuth0Secret, "s")
	session, err := Auth0SessionOf(api.Auth0Status{Configured: true, LoggedIn: true, Domain: "acme.eu.auth0.com", ClientID: "id"}, sec)
	if err != nil || session.Accounts == nil {
		t.Fatalf("session %+v, %v", session, err)
	}
	if _, err := session.RefreshToken(); err == nil || !strings.Contains(err.Error(), "auth0 login") {
		t.Fatalf("no refresh token in the keychain: %v", err)
	}
	sec.Set(KeyAuth0Refresh, "rt")
	if rt, err := session.RefreshToken(); rt != "rt" || err != nil {
		t.Fatalf("refresh token %q, %v", rt, err)
	}
}
