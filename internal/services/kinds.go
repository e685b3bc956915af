package services

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/signin"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/github"
	"github.com/agentvault/agentvault/providers/google"
	"github.com/agentvault/agentvault/providers/jira"
	"github.com/agentvault/agentvault/providers/slack"
)

// Kind is everything AgentVault knows of one first-party service: adding a
// service is adding a row to kinds.
type Kind struct {
	api.Kind
	// Scopes are asked for when the user names none: enough for every tool.
	Scopes []string
	// Auth0Connection is its Token Vault connection, unless the user names
	// another; "": the user must.
	Auth0Connection string
	// New builds its provider over client, which adds the credential.
	New func(client *http.Client, s store.Service) (providers.Provider, error)
	// SignIn runs its own browser or device-code sign-in with the user's
	// OAuth app (s.ClientID), filling in what the sign-in tells.
	SignIn func(ctx context.Context, s api.SignIn, into *api.ConnectSpec) error
	// Check asks who a pasted token belongs to, so a wrong one fails now;
	// nil: the service takes no pasted tokens.
	Check func(ctx context.Context, s api.SignIn) (api.ConnectSpec, error)
	// Refresh is a source of its token that refreshes it with the user's
	// OAuth app and keeps the new one at key.
	Refresh func(s store.Service, clientSecret string, keys secrets.Store, key string) oauth2.TokenSource
}

// kinds is the table of first-party services.
var kinds = []Kind{
	{
		Kind: api.Kind{Kind: "github", Title: "GitHub"}, Scopes: []string{"repo"}, Auth0Connection: "github",
		New: func(c *http.Client, s store.Service) (providers.Provider, error) {
			return github.New(github.Config{HTTPClient: c, BaseURL: s.URL, Granted: s.Scopes})
		},
		SignIn: func(ctx context.Context, s api.SignIn, into *api.ConnectSpec) error {
			tok, acct, err := signin.GitHub{ClientID: s.ClientID, Scopes: s.Scopes, APIURL: s.APIURL}.SignIn(ctx, s.ShowCode)
			into.Token, into.Account = tok, acct.Login
			if acct.ScopesKnown {
				into.Scopes = acct.Scopes
			}
			return err
		},
		Check: func(ctx context.Context, s api.SignIn) (api.ConnectSpec, error) {
			acct, err := signin.GitHub{APIURL: s.APIURL}.CheckToken(ctx, s.Token)
			spec := pasted(s, acct.Login)
			if acct.ScopesKnown {
				spec.Scopes = acct.Scopes
			}
			return spec, err
		},
		Refresh: func(s store.Service, _ string, keys secrets.Store, key string) oauth2.TokenSource {
			return signin.GitHub{ClientID: s.ClientID}.TokenSource(keys, key)
		},
	},
	{
		Kind: api.Kind{Kind: "google", Title: "Google"}, Auth0Connection: "google-oauth2",
		Scopes: []string{
			"https://www.googleapis.com/auth/gmail.modify",
			"https://www.googleapis.com/auth/calendar.events",
			"https://www.googleapis.com/auth/drive.readonly",
			"https://www.googleapis.com/auth/drive.file",
		},
		New: func(c *http.Client, s store.Service) (providers.Provider, error) {
			return google.New(google.Config{HTTPClient: c, BaseURL: s.URL, Granted: s.Scopes})
		},
		SignIn: func(ctx context.Context, s api.SignIn, into *api.ConnectSpec) error {
			tok, err := signin.Google{ClientID: s.ClientID, ClientSecret: s.ClientSecret, Scopes: s.Scopes}.SignIn(ctx, s.Open)
			into.Token = tok
			if granted, ok := tokenScope(tok); ok {
				into.Scopes = granted
			}
			return err
		},
		Refresh: func(s store.Service, secret string, keys secrets.Store, key string) oauth2.TokenSource {
			return signin.Google{ClientID: s.ClientID, ClientSecret: secret}.TokenSource(keys, key)
		},
	},
	{
		Kind: api.Kind{Kind: "slack", Title: "Slack"}, Auth0Connection: "sign-in-with-slack",
		Scopes: []string{"channels:read", "groups:read", "channels:history", "groups:history", "im:history", "mpim:history",
			"search:read", "users:read", "chat:write", "reactions:write"},
		New: func(c *http.Client, s store.Service) (providers.Provider, error) {
			return slack.New(slack.Config{HTTPClient: c, BaseURL: s.URL, Granted: s.Scopes})
		},
		SignIn: func(ctx context.Context, s api.SignIn, into *api.ConnectSpec) error {
			tok, acct, err := signin.Slack{ClientID: s.ClientID, UserScopes: s.Scopes}.SignIn(ctx, s.Open)
			into.Token, into.Account, into.Scopes = tok, acct.User, acct.Scopes
			return err
		},
		Check: func(ctx context.Context, s api.SignIn) (api.ConnectSpec, error) {
			acct, err := signin.Slack{APIURL: s.APIURL}.CheckToken(ctx, s.Token)
			spec := pasted(s, acct.User)
			spec.Scopes = acct.Scopes
			return spec, err
		},
		Refresh: func(s store.Service, _ string, keys secrets.Store, key string) oauth2.TokenSource {
			return signin.Slack{ClientID: s.ClientID}.TokenSource(keys, key)
		},
	},
	{
		Kind:   api.Kind{Kind: "jira", Title: "Jira"},
		Scopes: []string{"read:jira-work", "read:jira-user", "write:jira-work", "offline_access"},
		New: func(c *http.Client, s store.Service) (providers.Provider, error) {
			return jira.New(jira.Config{HTTPClient: c, BaseURL: s.URL, SiteURL: s.Site, Granted: s.Scopes})
		},
		SignIn: func(ctx context.Context, s api.SignIn, into *api.ConnectSpec) error {
			tok, sites, err := signin.Atlassian{ClientID: s.ClientID, ClientSecret: s.ClientSecret, Scopes: s.Scopes}.SignIn(ctx, s.Open)
			if err != nil {
				return err
			}
			site, ok := pickSite(sites, s.Site)
			if !ok {
				return fmt.Errorf("the sign-in does not reach %s (it reaches %s)", s.Site, siteList(sites))
			}
			into.Token, into.APIURL, into.Site, into.Account, into.Scopes = tok, "https://api.atlassian.com/ex/jira/"+site.ID, site.URL, site.Name, site.Scopes
			return nil
		},
		Check: func(ctx context.Context, s api.SignIn) (api.ConnectSpec, error) {
			if s.Site == "" || s.Email == "" {
				return api.ConnectSpec{}, errors.New("a Jira API token needs the site (https://YOUR.atlassian.net) and your email")
			}
			name, err := signin.Atlassian{}.CheckAPIToken(ctx, s.Site, s.Email, s.Token)
			return api.ConnectSpec{Kind: "jira", Name: s.Name, Auth: "basic", Email: s.Email, APIToken: s.Token, APIURL: s.Site, Site: s.Site, Account: name}, err
		},
		Refresh: func(s store.Service, secret string, keys secrets.Store, key string) oauth2.TokenSource {
			return signin.Atlassian{ClientID: s.ClientID, ClientSecret: secret}.TokenSource(keys, key)
		},
	},
}

// Kinds lists the first-party services.
func Kinds() []api.Kind {
	out := make([]api.Kind, len(kinds))
	for i, k := range kinds {
		out[i] = k.Kind
	}
	return out
}

// findKind returns the row of a kind.
func findKind(kind string) (Kind, bool) {
	for _, k := range kinds {
		if k.Kind.Kind == kind {
			return k, true
		}
	}
	return Kind{}, false
}

// kindOf returns the row of a kind users named, or an error that lists
// the kinds there are.
func kindOf(kind string) (Kind, error) {
	if k, ok := findKind(kind); ok {
		return k, nil
	}
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.Kind.Kind
	}
	return Kind{}, fmt.Errorf("unknown service %q (want %s)", kind, strings.Join(names, ", "))
}

// pasted is the connection of a pasted bearer token.
func pasted(s api.SignIn, account string) api.ConnectSpec {
	return api.ConnectSpec{Name: s.Name, Auth: "token", Token: &oauth2.Token{AccessToken: s.Token, TokenType: "Bearer"},
		APIURL: s.APIURL, Account: account}
}
