package auth0

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/loopback"
)

// CallbackPorts are the loopback ports the tenant must allow as callback
// URLs (http://127.0.0.1:PORT/callback); login uses the first free one.
var CallbackPorts = []int{18484, 18485, 18486, 18487, 18488, 18489}

// Session is the result of a login.
type Session struct {
	// RefreshToken is kept in the keychain; it lets AgentVault use Token Vault.
	RefreshToken string
	// Subject is the user's Auth0 id, the CIBA login hint.
	Subject string
}

// Login signs the user in through the system browser: authorization code
// with PKCE (S256), a loopback redirect that serves exactly one callback and
// checks state, and a code exchange with the client secret. open shows the
// URL to the user (opens the browser).
func (c *Client) Login(ctx context.Context, ports []int, open func(url string) error) (Session, error) {
	e, err := c.Endpoints(ctx)
	if err != nil {
		return Session{}, err
	}
	ln, port, err := loopback.Listen(ports)
	if err != nil {
		return Session{}, err
	}
	defer ln.Close()
	conf := oauth2.Config{
		ClientID: c.cfg.ClientID, ClientSecret: c.cfg.ClientSecret,
		Endpoint:    oauth2.Endpoint{AuthURL: e.Authorization, TokenURL: e.Token, AuthStyle: oauth2.AuthStyleInParams},
		RedirectURL: loopback.RedirectURL(port),
		Scopes:      []string{"openid", "profile", "email", "offline_access"},
	}
	state := loopback.State()
	verifier := oauth2.GenerateVerifier()
	authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier))

	q, err := loopback.Await(ctx, ln, state, func() error { return open(authURL) })
	if err != nil {
		return Session{}, fmt.Errorf("logging in to Auth0: %w", err)
	}
	code := q.Get("code")
	if code == "" {
		return Session{}, errors.New("the login callback has no code")
	}
	ctx = context.WithValue(ctx, oauth2.HTTPClient, c.cfg.HTTP)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		return Session{}, fmt.Errorf("exchanging the login code: %w", err)
	}
	if tok.RefreshToken == "" {
		return Session{}, errors.New("Auth0 returned no refresh token: allow offline access for the application")
	}
	idToken, _ := tok.Extra("id_token").(string)
	sub, err := subject(idToken)
	if err != nil {
		return Session{}, err
	}
	return Session{RefreshToken: tok.RefreshToken, Subject: sub}, nil
}
