package services

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/signin"
)

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

// Auth0Session is the signed-in Auth0 user, as a Token Vault sign-in needs
// it to link the provider account.
type Auth0Session struct {
	Accounts     Auth0Accounts
	RefreshToken func() (string, error)
}

// SignIn runs the sign-in s describes where the caller runs (it may open
// the caller's browser or show a device code) and returns the connection to
// keep. With s.Auth0 it links the provider account to the user's Auth0
// account first when session says it is not linked; a nil session assumes
// it is.
func SignIn(ctx context.Context, kind string, s api.SignIn, session *Auth0Session) (api.ConnectSpec, error) {
	k, err := kindOf(kind)
	if err != nil {
		return api.ConnectSpec{}, err
	}
	if s.Scopes == nil {
		s.Scopes = k.Scopes
	}
	var spec api.ConnectSpec
	switch {
	case s.Auth0:
		spec = api.ConnectSpec{Name: s.Name, Auth: "auth0", Connection: s.Connection, APIURL: s.APIURL, Site: s.Site}
		if session != nil {
			err = linkAuth0(ctx, k, s, session)
		}
	case s.Token != "":
		if k.Check == nil {
			return spec, fmt.Errorf("%s takes no pasted tokens: sign in with your client ID, or use Auth0", k.Title)
		}
		spec, err = k.Check(ctx, s)
	case s.ClientID == "":
		return spec, errors.New("give the client ID of your own OAuth app, a token, or use Auth0 (see README: Connecting services)")
	default:
		spec = api.ConnectSpec{Name: s.Name, Auth: "token", ClientID: s.ClientID, ClientSecret: s.ClientSecret, APIURL: s.APIURL}
		err = k.SignIn(ctx, s, &spec)
	}
	spec.Kind = kind
	return spec, err
}

// linkAuth0 links the user's account at the kind's Auth0 connection to
// their Auth0 account, unless one is linked already, so that Token Vault
// can hand out its tokens. It asks the provider for s.Scopes.
func linkAuth0(ctx context.Context, k Kind, s api.SignIn, session *Auth0Session) error {
	conn := s.Connection
	if conn == "" {
		conn = k.Auth0Connection
	}
	if conn == "" {
		return fmt.Errorf("name the Auth0 connection that signs in to %s", k.Title)
	}
	rt, err := session.RefreshToken()
	if err != nil {
		return err
	}
	linked, err := session.Accounts.ConnectedAccounts(ctx, rt)
	if err != nil {
		return err
	}
	for _, a := range linked {
		if a.Connection == conn {
			return nil
		}
	}
	if s.Open == nil {
		return fmt.Errorf("your %s account is not linked to Auth0 yet, and there is no browser to link it", k.Title)
	}
	return session.Accounts.Connect(ctx, rt, conn, s.Scopes, auth0.CallbackPorts, s.Open)
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

// grants says what a connection lets agents do, line by line.
func grants(info api.ServiceInfo) []string {
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
