package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/agentvault/agentvault/internal/secrets"
)

// Google signs in to Google Workspace through the system browser with a
// "Desktop app" OAuth client: a loopback redirect on any port, PKCE (S256),
// offline access and the consent screen every time (so a refresh token is
// always issued). Gmail's read scopes are restricted: users bring their own
// client ID.
type Google struct {
	// ClientID is the desktop client's ID; required.
	ClientID string
	// ClientSecret is the desktop client's secret, which Google does not
	// treat as confidential; optional.
	ClientSecret string
	// Scopes are requested as given, e.g.
	// "https://www.googleapis.com/auth/gmail.readonly".
	Scopes []string
	// Endpoint is Google's OAuth endpoint (AuthURL and TokenURL); zero:
	// accounts.google.com and oauth2.googleapis.com.
	Endpoint oauth2.Endpoint
	// HTTP makes every request; nil: a client with a 30 s timeout.
	HTTP *http.Client
}

func (g Google) config() *oauth2.Config {
	ep := g.Endpoint
	if ep == (oauth2.Endpoint{}) {
		ep = endpoints.Google
	}
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: g.ClientID, ClientSecret: g.ClientSecret, Scopes: g.Scopes, Endpoint: ep}
}

// SignIn opens Google's consent screen with open (which starts the browser)
// and waits, until ctx ends, for the redirect; it returns the token, whose
// Extra("scope") lists the scopes granted (the user may untick some).
func (g Google) SignIn(ctx context.Context, open func(url string) error) (*oauth2.Token, error) {
	conf := g.config()
	verifier := oauth2.GenerateVerifier()
	code, err := authorize(ctx, conf, nil, open,
		oauth2.AccessTypeOffline, oauth2.ApprovalForce, oauth2.S256ChallengeOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("signing in to Google: %w", err)
	}
	tok, err := exchange(ctx, conf, orDefault(g.HTTP), code, oauth2.VerifierOption(verifier))
	if err != nil {
		return nil, fmt.Errorf("signing in to Google: %w", err)
	}
	if tok.RefreshToken == "" {
		return nil, errors.New("Google returned no refresh token: sign in again")
	}
	return tok, nil
}

// TokenSource returns the token source of a Google sign-in saved under key.
func (g Google) TokenSource(store secrets.Store, key string) *TokenSource {
	return NewTokenSource("Google", g.config(), store, key, g.HTTP)
}
