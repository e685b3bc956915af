package auth0

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/loopback"
)

// Connected Accounts (Auth0 My Account API) links the user's account at a
// provider (GitHub, Google, Slack, a custom Jira connection) to their Auth0
// account, so that Token Vault can hand out the provider's tokens. Wire
// details: shared/docs/AUTH0.md, "Connecting a provider account".
//
// The list's shape, {accounts: [{id, connection, scopes, …}], next}, with
// paging by ?from=next, is the one Auth0's SDKs decode (auth0-server-python
// MyAccountClient, nextjs-auth0 ConnectedAccount); unknown fields are ignored.

// My Account API scopes, asked for in the refresh-token grant.
const (
	scopeConnect    = "create:me:connected_accounts read:me:connected_accounts"
	scopeList       = "read:me:connected_accounts"
	scopeDisconnect = "delete:me:connected_accounts"
)

// ErrMyAccountNotAllowed means the tenant does not let the application use
// the My Account API for the signed-in user.
var ErrMyAccountNotAllowed = errors.New("Auth0 does not let AgentVault link accounts: in the tenant, activate the My Account API, " +
	"give the application its connected_accounts scopes (create, read, delete), and add the API to the application's " +
	"Multi-Resource Refresh Token setting")

// ConnectedAccount is a provider account linked to the user's Auth0 account.
type ConnectedAccount struct {
	// ID names the link (cac_…); Disconnect takes it.
	ID string `json:"id"`
	// Connection is the Auth0 connection (github, google-oauth2, …).
	Connection string `json:"connection"`
	// Scopes were granted at the provider; nil when not reported.
	Scopes []string `json:"scopes,omitempty"`
	// AccessType is "offline" (Token Vault keeps a provider refresh token).
	AccessType string `json:"access_type,omitempty"`
	// CreatedAt and ExpiresAt are ISO 8601 times as Auth0 sent them.
	CreatedAt string `json:"created_at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// MyAccountError is an error answer of the My Account API (an RFC 7807
// problem).
type MyAccountError struct {
	Status int    `json:"-"`
	Type   string `json:"type"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// ValidationErrors say which fields of the request were wrong.
	ValidationErrors []struct {
		Field  string `json:"field"`
		Detail string `json:"detail"`
	} `json:"validation_errors"`
}

func (e *MyAccountError) Error() string {
	msg := fmt.Sprintf("Auth0 My Account API: %d", e.Status)
	for _, s := range []string{e.Title, e.Detail} {
		if s != "" {
			msg += ": " + short(s)
		}
	}
	for _, v := range e.ValidationErrors {
		msg += "; " + short(strings.TrimSpace(v.Field+" "+v.Detail))
	}
	return msg
}

// short keeps a server's text to one bounded line in an error.
func short(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}

// bearer is a My Account API access token.
type bearer struct {
	token  string
	expiry time.Time
}

// MyAccountToken exchanges the user's Auth0 refresh token for an access
// token to the My Account API that may list and link connected accounts.
// The tenant must allow it (ErrMyAccountNotAllowed); an ended session is
// ErrLoginAgain.
func (c *Client) MyAccountToken(ctx context.Context, refreshToken string) (string, error) {
	b, err := c.myAccountToken(ctx, refreshToken, scopeConnect)
	return b.token, err
}

// myAccountAudience is the My Account API's identifier: the tenant's
// origin (the configured domain, or a local provider's base URL) + "/me/".
func (c *Client) myAccountAudience() string { return c.BaseURL() + "/me/" }

func (c *Client) myAccountToken(ctx context.Context, refreshToken, scope string) (bearer, error) {
	if refreshToken == "" {
		return bearer{}, errors.New("not signed in to Auth0: run `agentvault auth0 login` first")
	}
	e, err := c.Endpoints(ctx)
	if err != nil {
		return bearer{}, err
	}
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	start := time.Now()
	err = c.post(ctx, e.Token, url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refreshToken},
		"audience":      {c.myAccountAudience()},
		"scope":         {scope},
	}, &out)
	if err != nil {
		return bearer{}, myAccountTokenError(err)
	}
	if out.AccessToken == "" {
		return bearer{}, errors.New("Auth0 returned no My Account API token")
	}
	return bearer{token: out.AccessToken, expiry: start.Add(time.Duration(out.ExpiresIn) * time.Second)}, nil
}

// myAccountTokenError says what to do when the refresh-token grant fails.
// Which code Auth0 sends for a missing multi-resource refresh token policy
// is not documented; the codes a refused audience or scope gets are mapped.
func myAccountTokenError(err error) error {
	var e *Error
	if !errors.As(err, &e) {
		return err
	}
	switch e.Code {
	case "invalid_grant":
		return ErrLoginAgain
	case "access_denied", "unauthorized_client", "invalid_scope", "invalid_target":
		return fmt.Errorf("%w (%v)", ErrMyAccountNotAllowed, e)
	}
	return err
}

// myAccount sends one request to the My Account API's connected-accounts
// path with the bearer token: in as JSON (nil: no body), a 2xx answer
// decoded into out (nil: ignored); anything else is mapped by
// myAccountError.
func (c *Client) myAccount(ctx context.Context, method, path string, b bearer, in, out any) error {
	var body io.Reader
	if in != nil {
		raw, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL()+"/me/v1/connected-accounts"+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.cfg.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("reaching Auth0: %w", err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("reading Auth0's answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		e := &MyAccountError{}
		_ = json.Unmarshal(raw, e) // a body that is no problem document still has a status
		e.Status = resp.StatusCode
		return myAccountError(e)
	}
	if out == nil || len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("reading Auth0's answer: %w", err)
	}
	return nil
}

// myAccountError says what to do about an error answer.
func myAccountError(e *MyAccountError) error {
	switch e.Status {
	case http.StatusUnauthorized:
		return fmt.Errorf("%w (%v)", ErrLoginAgain, e)
	case http.StatusForbidden:
		return fmt.Errorf("%w (%v)", ErrMyAccountNotAllowed, e)
	case http.StatusTooManyRequests:
		return fmt.Errorf("Auth0 is rate limiting: try again in a minute (%v)", e)
	}
	return e
}

// Connect links the user's account at connection to their Auth0 account
// in the browser: it asks the My Account API for a connect ticket (PKCE
// S256; scopes are asked of the provider in addition to the connection's,
// none: only the connection's), opens the ticket's page with open, awaits
// the redirect to a loopback callback on the first free port of ports
// (the tenant must allow it as a callback URL: CallbackPorts) carrying
// connect_code and the state, and completes the link. It ends with ctx, or
// when the ticket expires.
func (c *Client) Connect(ctx context.Context, refreshToken, connection string, scopes []string, ports []int, open func(url string) error) error {
	if connection == "" {
		return errors.New("name the Auth0 connection to link")
	}
	b, err := c.myAccountToken(ctx, refreshToken, scopeConnect)
	if err != nil {
		return err
	}
	ln, port, err := loopback.Listen(ports)
	if err != nil {
		return err
	}
	defer ln.Close()
	redirect := loopback.RedirectURL(port)
	state := loopback.State()
	verifier := oauth2.GenerateVerifier()
	var started struct {
		ConnectURI    string `json:"connect_uri"`
		ConnectParams struct {
			Ticket string `json:"ticket"`
		} `json:"connect_params"`
		AuthSession string `json:"auth_session"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	err = c.myAccount(ctx, http.MethodPost, "/connect", b, struct {
		Connection          string   `json:"connection"`
		RedirectURI         string   `json:"redirect_uri"`
		State               string   `json:"state"`
		CodeChallenge       string   `json:"code_challenge"`
		CodeChallengeMethod string   `json:"code_challenge_method"`
		Scopes              []string `json:"scopes,omitempty"` // never []
	}{connection, redirect, state, oauth2.S256ChallengeFromVerifier(verifier), "S256", scopes}, &started)
	if err != nil {
		var e *MyAccountError
		if errors.As(err, &e) && (e.Status == http.StatusBadRequest || e.Status == http.StatusNotFound) {
			return fmt.Errorf("Auth0 cannot link %s: check the connection's name and that Connected Accounts for Token Vault is on for it (%w)", connection, err)
		}
		return fmt.Errorf("linking %s through Auth0: %w", connection, err)
	}
	if started.AuthSession == "" || started.ConnectParams.Ticket == "" {
		return errors.New("Auth0 started no link (its answer has no session or ticket)")
	}
	link, err := connectLink(started.ConnectURI, started.ConnectParams.Ticket)
	if err != nil {
		return err
	}

	wait := ctx
	if started.ExpiresIn > 0 {
		var cancel context.CancelFunc
		wait, cancel = context.WithTimeout(ctx, time.Duration(started.ExpiresIn)*time.Second)
		defer cancel()
	}
	q, err := loopback.Await(wait, ln, state, func() error { return open(link) })
	if err != nil {
		if ctx.Err() == nil && wait.Err() != nil {
			return fmt.Errorf("the link to %s expired before it was finished in the browser: try again", connection)
		}
		return fmt.Errorf("linking %s through Auth0: %w", connection, err)
	}
	code := q.Get("connect_code")
	if code == "" {
		return errors.New("the link callback has no connect_code")
	}
	if time.Until(b.expiry) < 30*time.Second { // the user took a while
		if b, err = c.myAccountToken(ctx, refreshToken, scopeConnect); err != nil {
			return err
		}
	}
	err = c.myAccount(ctx, http.MethodPost, "/complete", b, map[string]string{
		"auth_session":  started.AuthSession,
		"connect_code":  code,
		"redirect_uri":  redirect,
		"code_verifier": verifier,
	}, nil)
	if err != nil {
		return fmt.Errorf("completing the link to %s: %w", connection, err)
	}
	return nil
}

// connectLink is the page that starts a link: connect_uri with the ticket
// added to its query. Only https, or http on loopback (a local test
// tenant), may carry the ticket.
func connectLink(connectURI, ticket string) (string, error) {
	u, err := url.Parse(connectURI)
	if err != nil || u.Host == "" || !(u.Scheme == "https" || u.Scheme == "http" && isLoopback(u.Hostname())) {
		return "", errors.New("Auth0 returned no usable connect address (https)")
	}
	q := u.Query()
	q.Set("ticket", ticket)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// maxAccountPages bounds the paging of ConnectedAccounts.
const maxAccountPages = 20

// ConnectedAccounts lists the provider accounts linked to the user's Auth0
// account, following the list's pages.
func (c *Client) ConnectedAccounts(ctx context.Context, refreshToken string) ([]ConnectedAccount, error) {
	b, err := c.myAccountToken(ctx, refreshToken, scopeList)
	if err != nil {
		return nil, err
	}
	var all []ConnectedAccount
	from := ""
	for range maxAccountPages {
		path := "/accounts"
		if from != "" {
			path += "?" + url.Values{"from": {from}}.Encode()
		}
		var page struct {
			Accounts []ConnectedAccount `json:"accounts"`
			Next     string             `json:"next"`
		}
		if err := c.myAccount(ctx, http.MethodGet, path, b, nil, &page); err != nil {
			return nil, fmt.Errorf("listing the accounts linked to Auth0: %w", err)
		}
		all = append(all, page.Accounts...)
		if page.Next == "" || page.Next == from {
			return all, nil
		}
		from = page.Next
	}
	return nil, fmt.Errorf("listing the accounts linked to Auth0: more than %d pages", maxAccountPages)
}

// Disconnect unlinks the connected account id (ConnectedAccount.ID); Token
// Vault then no longer hands out its tokens.
func (c *Client) Disconnect(ctx context.Context, refreshToken, id string) error {
	if id == "" {
		return errors.New("name the linked account to remove (its id)")
	}
	b, err := c.myAccountToken(ctx, refreshToken, scopeDisconnect)
	if err != nil {
		return err
	}
	if err := c.myAccount(ctx, http.MethodDelete, "/accounts/"+url.PathEscape(id), b, nil, nil); err != nil {
		return fmt.Errorf("unlinking %s: %w", id, err)
	}
	return nil
}
