package core

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/signin"
)

// DefaultScopes are asked for when the user names none: enough for every
// tool of the service.
var DefaultScopes = map[string][]string{
	"github": {"repo"},
	"google": {
		"https://www.googleapis.com/auth/gmail.modify",
		"https://www.googleapis.com/auth/calendar.events",
		"https://www.googleapis.com/auth/drive.readonly",
		"https://www.googleapis.com/auth/drive.file",
	},
	"slack": {"channels:read", "groups:read", "channels:history", "groups:history", "im:history", "mpim:history",
		"search:read", "users:read", "chat:write", "reactions:write"},
	"jira": {"read:jira-work", "read:jira-user", "write:jira-work", "offline_access"},
}

// SignInOptions say how to sign in to a first-party service.
type SignInOptions struct {
	// Token is a pasted token (GitHub, Slack; Jira's API token with Site and
	// Email); when set, no browser is involved.
	Token string
	// ClientID (and ClientSecret where the service needs one) identify the
	// user's own OAuth app for a browser or device-code sign-in.
	ClientID, ClientSecret string
	// Auth0 uses Token Vault (Connection: "" = the kind's own).
	Auth0      bool
	Connection string
	// Auth0Accounts and Auth0RefreshToken (with Auth0; UseAuth0 sets both)
	// link the provider account to the user's Auth0 account in the browser
	// when it is not linked yet. Auth0Accounts nil: assume it is linked.
	Auth0Accounts     Auth0Accounts
	Auth0RefreshToken func() (string, error)
	// APIURL overrides the API root (GitHub Enterprise); Site and Email are
	// Jira's.
	APIURL, Site, Email string
	// Scopes to ask for (with Auth0: of the provider, when linking the
	// account); nil: DefaultScopes.
	Scopes []string
	// Open shows a sign-in page to the user (starts the browser).
	Open func(url string) error
	// ShowCode shows GitHub's device code and where to enter it.
	ShowCode func(code, uri string)
}

// Auth0Accounts links provider accounts to the user's Auth0 account
// (Auth0 Connected Accounts); *auth0.Client is one.
type Auth0Accounts interface {
	// ConnectedAccounts lists the linked provider accounts.
	ConnectedAccounts(ctx context.Context, refreshToken string) ([]auth0.ConnectedAccount, error)
	// Connect links the account at connection in the browser (open),
	// asking the provider for scopes, with a loopback callback on the
	// first free port of ports.
	Connect(ctx context.Context, refreshToken, connection string, scopes []string, ports []int, open func(url string) error) error
}

var _ Auth0Accounts = (*auth0.Client)(nil)

// UseAuth0 makes SignIn use Token Vault, linking the provider account to
// Auth0 first when needed, with the Auth0 setup st (from the API) and the
// calling process's keychain s, which holds the client secret and the
// refresh token.
func (o *SignInOptions) UseAuth0(st Auth0Status, s secrets.Store) error {
	client, refreshToken, err := Auth0User(st, s)
	if err != nil {
		return err
	}
	o.Auth0, o.Auth0Accounts, o.Auth0RefreshToken = true, client, refreshToken
	return nil
}

// SignIn runs the sign-in opts describe, in the caller's process (it needs
// the user's browser), and returns what ConnectService keeps.
func SignIn(ctx context.Context, kind string, opts SignInOptions) (ConnectSpec, error) {
	if _, ok := ServiceKinds[kind]; !ok {
		return ConnectSpec{}, fmt.Errorf("unknown service %q (want github, google, slack or jira)", kind)
	}
	if opts.Scopes == nil {
		opts.Scopes = DefaultScopes[kind]
	}
	spec := ConnectSpec{Kind: kind, Auth: "token", ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, APIURL: opts.APIURL}
	switch {
	case opts.Auth0:
		spec := ConnectSpec{Kind: kind, Auth: "auth0", Connection: opts.Connection, APIURL: opts.APIURL, Site: opts.Site}
		if opts.Auth0Accounts == nil {
			return spec, nil
		}
		return spec, linkAuth0(ctx, kind, opts)
	case opts.Token != "":
		return checkPasted(ctx, kind, opts)
	case opts.ClientID == "":
		return spec, errors.New("give the client ID of your own OAuth app, a token, or use Auth0 (see README: Connecting services)")
	}
	var tok *oauth2.Token
	var err error
	switch kind {
	case "github":
		var acct signin.GitHubAccount
		tok, acct, err = signin.GitHub{ClientID: opts.ClientID, Scopes: opts.Scopes, APIURL: opts.APIURL}.SignIn(ctx, opts.ShowCode)
		spec.Account = acct.Login
		if acct.ScopesKnown {
			spec.Scopes = acct.Scopes
		}
	case "google":
		tok, err = signin.Google{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, Scopes: opts.Scopes}.SignIn(ctx, opts.Open)
		if s, ok := tokenScope(tok); ok {
			spec.Scopes = s
		}
	case "slack":
		var acct signin.SlackAccount
		tok, acct, err = signin.Slack{ClientID: opts.ClientID, UserScopes: opts.Scopes}.SignIn(ctx, opts.Open)
		spec.Account, spec.Scopes = acct.User, acct.Scopes
	case "jira":
		var sites []signin.AtlassianSite
		tok, sites, err = signin.Atlassian{ClientID: opts.ClientID, ClientSecret: opts.ClientSecret, Scopes: opts.Scopes}.SignIn(ctx, opts.Open)
		if err == nil {
			site, ok := pickSite(sites, opts.Site)
			if !ok {
				return spec, fmt.Errorf("the sign-in does not reach %s (it reaches %s)", opts.Site, siteList(sites))
			}
			spec.APIURL, spec.Site, spec.Account, spec.Scopes = "https://api.atlassian.com/ex/jira/"+site.ID, site.URL, site.Name, site.Scopes
		}
	}
	if err != nil {
		return spec, err
	}
	spec.Token = tok
	return spec, nil
}

// linkAuth0 links the user's account at the kind's Auth0 connection to
// their Auth0 account, unless one is linked already, so that Token Vault
// can hand out its tokens. It asks the provider for opts.Scopes.
func linkAuth0(ctx context.Context, kind string, opts SignInOptions) error {
	conn := opts.Connection
	if conn == "" {
		conn = Auth0Connections[kind]
	}
	if conn == "" {
		return fmt.Errorf("name the Auth0 connection that signs in to %s", ServiceKinds[kind])
	}
	if opts.Auth0RefreshToken == nil {
		return errors.New("no Auth0 session to link the account with")
	}
	rt, err := opts.Auth0RefreshToken()
	if err != nil {
		return err
	}
	linked, err := opts.Auth0Accounts.ConnectedAccounts(ctx, rt)
	if err != nil {
		return err
	}
	for _, a := range linked {
		if a.Connection == conn {
			return nil
		}
	}
	if opts.Open == nil {
		return fmt.Errorf("your %s account is not linked to Auth0 yet, and there is no browser to link it", ServiceKinds[kind])
	}
	return opts.Auth0Accounts.Connect(ctx, rt, conn, opts.Scopes, auth0.CallbackPorts, opts.Open)
}

// checkPasted asks the service who a pasted token belongs to, so a wrong
// token fails now, not at the agent's first call.
func checkPasted(ctx context.Context, kind string, opts SignInOptions) (ConnectSpec, error) {
	spec := ConnectSpec{Kind: kind, Auth: "token", Token: &oauth2.Token{AccessToken: opts.Token, TokenType: "Bearer"}, APIURL: opts.APIURL}
	switch kind {
	case "github":
		acct, err := signin.GitHub{APIURL: opts.APIURL}.CheckToken(ctx, opts.Token)
		if err != nil {
			return spec, err
		}
		spec.Account = acct.Login
		if acct.ScopesKnown {
			spec.Scopes = acct.Scopes
		}
	case "slack":
		acct, err := signin.Slack{APIURL: opts.APIURL}.CheckToken(ctx, opts.Token)
		if err != nil {
			return spec, err
		}
		spec.Account, spec.Scopes = acct.User, acct.Scopes
	case "jira":
		if opts.Site == "" || opts.Email == "" {
			return spec, errors.New("a Jira API token needs the site (https://YOUR.atlassian.net) and your email")
		}
		name, err := signin.Atlassian{}.CheckAPIToken(ctx, opts.Site, opts.Email, opts.Token)
		if err != nil {
			return spec, err
		}
		return ConnectSpec{Kind: kind, Auth: "basic", Email: opts.Email, APIToken: opts.Token, APIURL: opts.Site, Site: opts.Site, Account: name}, nil
	default:
		return spec, errors.New("Google has no pasted tokens: sign in with your client ID, or use Auth0")
	}
	return spec, nil
}

func tokenScope(tok *oauth2.Token) ([]string, bool) {
	if tok == nil {
		return nil, false
	}
	s, ok := tok.Extra("scope").(string)
	return strings.Fields(s), ok
}

func pickSite(sites []signin.AtlassianSite, want string) (signin.AtlassianSite, bool) {
	for _, s := range sites {
		if want == "" || strings.TrimSuffix(s.URL, "/") == strings.TrimSuffix(want, "/") {
			return s, true
		}
	}
	return signin.AtlassianSite{}, false
}

func siteList(sites []signin.AtlassianSite) string {
	var urls []string
	for _, s := range sites {
		urls = append(urls, s.URL)
	}
	return strings.Join(urls, ", ")
}

// GrantText says what a connection lets agents do, line by line, for the
// CLI and the GUI.
func GrantText(info ServiceInfo) []string {
	var out []string
	if info.Scopes == nil && info.Auth != "basic" {
		out = append(out, "The service did not report the token's scopes: every tool is offered, and AgentVault's policy is the only limit.")
	}
	for _, s := range info.Scopes {
		if m := signin.ScopeMeaning(info.Kind, s); m != "" {
			out = append(out, s+": "+m)
		}
	}
	if info.Kind == "github" && (info.Scopes == nil || strings.Contains(" "+strings.Join(info.Scopes, " ")+" ", " repo ")) {
		out = append(out, "GitHub tokens reach every repository you can: narrow each vault with a repository guard (acme/*).")
	}
	for _, m := range info.Unavailable {
		out = append(out, fmt.Sprintf("Unavailable: %s (needs one of %s)", m.Tool, strings.Join(m.Scopes, ", ")))
	}
	return out
}
