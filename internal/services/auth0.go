package services

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/secrets"
)

// Keychain entries for Auth0.
const (
	KeyAuth0Secret  = "auth0-client-secret"
	KeyAuth0Refresh = "auth0-refresh-token"
)

// Auth0Client returns a client for the tenant st describes, with the client
// secret from keys.
func Auth0Client(st api.Auth0Status, keys secrets.Store) (*auth0.Client, error) {
	if !st.Configured {
		return nil, errors.New("Auth0 is not set up: run `agentvault auth0 setup` first")
	}
	secret, err := keys.Get(KeyAuth0Secret)
	if err != nil {
		return nil, fmt.Errorf("reading the Auth0 client secret: %w", err)
	}
	return auth0.New(auth0.Config{Domain: st.Domain, ClientID: st.ClientID, ClientSecret: secret})
}

// Auth0User returns the client of the tenant st describes and a reader of
// the signed-in user's refresh token in keys.
func Auth0User(st api.Auth0Status, keys secrets.Store) (*auth0.Client, func() (string, error), error) {
	if st.Configured && !st.LoggedIn {
		return nil, nil, errors.New("not signed in to Auth0: run `agentvault auth0 login` first")
	}
	client, err := Auth0Client(st, keys)
	if err != nil {
		return nil, nil, err
	}
	return client, func() (string, error) { return Auth0RefreshToken(keys) }, nil
}

// Auth0RefreshToken reads the refresh token a login kept in keys.
func Auth0RefreshToken(keys secrets.Store) (string, error) {
	rt, err := keys.Get(KeyAuth0Refresh)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", errors.New("not signed in to Auth0: run `agentvault auth0 login` first")
	}
	if err != nil {
		return "", fmt.Errorf("reading the Auth0 session: %w", err)
	}
	return rt, nil
}

// Auth0SessionOf is the signed-in user of the tenant st as a Token Vault
// sign-in needs it: an error says how to set up or log in.
func Auth0SessionOf(st api.Auth0Status, keys secrets.Store) (*Auth0Session, error) {
	client, refresh, err := Auth0User(st, keys)
	if err != nil {
		return nil, err
	}
	return &Auth0Session{Accounts: client, RefreshToken: refresh}, nil
}

// SignInWith is SignIn where the caller runs, with the signed-in Auth0 user
// (of the tenant tenant reads, its session in keys) when s.Auth0: the same
// for the core and for a CLI that hands the connection to the running
// AgentVault.
func SignInWith(ctx context.Context, kind string, s api.SignIn, tenant func() (api.Auth0Status, error), keys secrets.Store) (api.ConnectSpec, error) {
	var session *Auth0Session
	if s.Auth0 {
		st, err := tenant()
		if err != nil {
			return api.ConnectSpec{}, err
		}
		if session, err = Auth0SessionOf(st, keys); err != nil {
			return api.ConnectSpec{}, err
		}
	}
	return SignIn(ctx, kind, s, session)
}
