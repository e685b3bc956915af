// Package auth0 talks to the user's own Auth0 tenant: login (authorization
// code + PKCE on a loopback redirect), Connected Accounts (linking a
// provider account to the Auth0 user through the My Account API), Token
// Vault (a fresh provider token for every call, exchanged from the Auth0
// refresh token), and CIBA (a push to the user's phone that approves one
// call). OAuth endpoints come from the tenant's OpenID discovery document,
// so any standards-conforming provider works in tests; the My Account API
// lives at the tenant's origin + /me/. Wire details: shared/docs/AUTH0.md.
//
// It must never keep secrets itself: the caller hands them in from the keychain.
package auth0

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Config identifies the tenant and AgentVault's client in it. The client
// must be confidential (a Regular Web Application).
type Config struct {
	// Domain is the tenant ("acme.eu.auth0.com"), or a full base URL for a
	// local provider ("http://127.0.0.1:4000").
	Domain       string
	ClientID     string
	ClientSecret string
	// HTTP is the client for every request; nil: one with a 30 s timeout.
	HTTP *http.Client
}

// Endpoints are the tenant's, from discovery.
type Endpoints struct {
	Issuer        string `json:"issuer"`
	Authorization string `json:"authorization_endpoint"`
	Token         string `json:"token_endpoint"`
	// Backchannel is the CIBA endpoint; empty when CIBA is not enabled.
	Backchannel string `json:"backchannel_authentication_endpoint"`
}

// Client is a configured tenant.
type Client struct {
	cfg Config

	mu        sync.Mutex
	endpoints *Endpoints
}

// New returns a client; nothing is fetched until first use.
func New(cfg Config) (*Client, error) {
	if cfg.Domain == "" || cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, errors.New("Auth0 needs a domain, a client ID and a client secret")
	}
	if cfg.HTTP == nil {
		cfg.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return &Client{cfg: cfg}, nil
}

// BaseURL is the tenant's origin.
func (c *Client) BaseURL() string {
	d := strings.TrimSuffix(c.cfg.Domain, "/")
	if strings.HasPrefix(d, "http://") || strings.HasPrefix(d, "https://") {
		return d
	}
	return "https://" + d
}

// Endpoints discovers (once) the tenant's endpoints.
func (c *Client) Endpoints(ctx context.Context) (Endpoints, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endpoints != nil {
		return *c.endpoints, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL()+"/.well-known/openid-configuration", nil)
	if err != nil {
		return Endpoints{}, err
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return Endpoints{}, fmt.Errorf("reaching Auth0 at %s: %w", c.BaseURL(), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return Endpoints{}, fmt.Errorf("Auth0 discovery at %s answered %s", c.BaseURL(), resp.Status)
	}
	var e Endpoints
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&e); err != nil {
		return Endpoints{}, fmt.Errorf("Auth0 discovery document: %w", err)
	}
	if e.Token == "" || e.Authorization == "" {
		return Endpoints{}, errors.New("Auth0 discovery document lacks the token or authorization endpoint")
	}
	c.endpoints = &e
	return e, nil
}

// Error is an OAuth error response.
type Error struct {
	Status      int
	Code        string `json:"error"`
	Description string `json:"error_description"`
	// RetryAfter is the server's Retry-After, if any.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	if e.Description != "" {
		return fmt.Sprintf("Auth0: %s: %s", e.Code, e.Description)
	}
	return "Auth0: " + e.Code
}

// post sends a form with the client's credentials and decodes a 200 answer
// into out; anything else is an *Error.
func (c *Client) post(ctx context.Context, endpoint string, form url.Values, out any) error {
	form.Set("client_id", c.cfg.ClientID)
	form.Set("client_secret", c.cfg.ClientSecret)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("reaching Auth0: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		e := &Error{Status: resp.StatusCode}
		if json.Unmarshal(body, e) != nil || e.Code == "" {
			e.Code = "http_" + fmt.Sprint(resp.StatusCode)
		}
		if s := resp.Header.Get("Retry-After"); s != "" {
			var secs int
			if _, err := fmt.Sscan(s, &secs); err == nil {
				e.RetryAfter = time.Duration(secs) * time.Second
			}
		}
		return e
	}
	return json.Unmarshal(body, out)
}

// subject reads the "sub" claim of an ID token received directly from the
// token endpoint (over TLS from the issuer: its signature need not be checked
// again, OpenID Connect Core §3.1.3.7).
func subject(idToken string) (string, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return "", errors.New("malformed ID token")
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims struct {
		Sub string `json:"sub"`
	}
	if err := json.Unmarshal(raw, &claims); err != nil || claims.Sub == "" {
		return "", errors.New("ID token has no subject")
	}
	return claims.Sub, nil
}
