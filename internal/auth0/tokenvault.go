package auth0

import (
	"context"
	"errors"
	"net/url"
	"sync"
	"time"
)

// Token Vault's grant and token types (Auth0 Authentication API).
const (
	grantTokenVault        = "urn:auth0:params:oauth:grant-type:token-exchange:federated-connection-access-token"
	tokenTypeRefresh       = "urn:ietf:params:oauth:token-type:refresh_token"
	tokenTypeFederatedConn = "http://auth0.com/oauth/token-type/federated-connection-access-token"
)

// What a user must do when Token Vault refuses.
var (
	ErrNotConnected  = errors.New("this account is not connected through Auth0 yet: connect it in AgentVault")
	ErrReconnect     = errors.New("the provider no longer accepts the connected account: reconnect it in AgentVault")
	ErrLoginAgain    = errors.New("the Auth0 session has ended: log in to Auth0 again (agentvault auth0 login)")
	ErrMisconfigured = errors.New("the Auth0 application is not allowed to use Token Vault: check its grant types")
)

// ProviderToken is an access token for a provider, from Token Vault.
type ProviderToken struct {
	AccessToken string
	// Scope is set when the provider granted other scopes than requested.
	Scope  string
	Expiry time.Time
}

// ProviderToken exchanges the user's Auth0 refresh token for an access token
// to connection (github, google-oauth2, sign-in-with-slack, a custom Jira
// connection). loginHint picks one of several connected accounts ("" : the
// only one). No scope is sent: Token Vault returns what was granted.
func (c *Client) ProviderToken(ctx context.Context, refreshToken, connection, loginHint string) (ProviderToken, error) {
	e, err := c.Endpoints(ctx)
	if err != nil {
		return ProviderToken{}, err
	}
	form := url.Values{
		"grant_type":           {grantTokenVault},
		"subject_token_type":   {tokenTypeRefresh},
		"subject_token":        {refreshToken},
		"requested_token_type": {tokenTypeFederatedConn},
		"connection":           {connection},
	}
	if loginHint != "" {
		form.Set("login_hint", loginHint)
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
		Scope       string `json:"scope"`
	}
	start := time.Now()
	if err := c.post(ctx, e.Token, form, &out); err != nil {
		return ProviderToken{}, tokenVaultError(err)
	}
	if out.AccessToken == "" {
		return ProviderToken{}, errors.New("Token Vault returned no access token")
	}
	return ProviderToken{AccessToken: out.AccessToken, Scope: out.Scope, Expiry: start.Add(time.Duration(out.ExpiresIn) * time.Second)}, nil
}

func tokenVaultError(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case "federated_connection_refresh_token_not_found":
		return ErrNotConnected
	case "federated_connection_refresh_token_flow_failed":
		return ErrReconnect
	case "invalid_grant":
		return ErrLoginAgain
	case "unauthorized_client", "access_denied":
		return ErrMisconfigured
	}
	return err
}

// TokenSource hands out a connection's provider token, exchanging a new one
// only when the cached one is about to expire. It is safe for concurrent
// use; one exchange runs at a time.
type TokenSource struct {
	Client     *Client
	Connection string
	LoginHint  string
	// RefreshToken reads the Auth0 refresh token (from the keychain).
	RefreshToken func() (string, error)

	mu     sync.Mutex
	cached ProviderToken
}

// Token returns a valid access token.
func (t *TokenSource) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.cached.AccessToken != "" && time.Until(t.cached.Expiry) > 30*time.Second {
		return t.cached.AccessToken, nil
	}
	rt, err := t.RefreshToken()
	if err != nil {
		return "", err
	}
	tok, err := t.Client.ProviderToken(ctx, rt, t.Connection, t.LoginHint)
	if err != nil {
		return "", err
	}
	t.cached = tok
	return tok.AccessToken, nil
}
