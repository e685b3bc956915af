// Package signin signs in to GitHub, Google, Slack and Atlassian directly
// (without Auth0) and keeps their tokens fresh.
//
// Each service is a config struct (GitHub, Google, Slack, Atlassian) whose
// endpoints default to the real ones and can be pointed at test servers.
// Browser sign-ins receive their redirect through internal/loopback; tokens
// are kept in a secrets.Store as the JSON of an oauth2.Token (Save), and a
// TokenSource refreshes them through golang.org/x/oauth2, saving a rotated
// refresh token before it hands out the new access token. Error messages
// never contain token values.
package signin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/loopback"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/providers"
)

// ErrReconnect means a saved sign-in no longer works (it is missing, expired
// without a way to refresh it, or the service refused it): the user must
// connect the service again. Errors wrapping it name the service.
var ErrReconnect = providers.ErrReconnect

// requestTimeout bounds every HTTP request made here.
const requestTimeout = 30 * time.Second

// Save keeps tok in store under key, where a TokenSource reads it. A pasted
// personal access token is saved as &oauth2.Token{AccessToken: token}.
func Save(store secrets.Store, key string, tok *oauth2.Token) error {
	raw, err := json.Marshal(tok)
	if err != nil {
		return err
	}
	return store.Set(key, string(raw))
}

// TokenSource hands out the access token of a sign-in kept in a
// secrets.Store, refreshing it when it has expired. It reads the store on
// every call, so a reconnect takes effect at once; wrap it in
// oauth2.ReuseTokenSource to read the store only when the token expires.
// It is safe for concurrent use; one refresh runs at a time.
type TokenSource struct {
	service string
	conf    *oauth2.Config
	store   secrets.Store
	key     string
	client  *http.Client

	mu sync.Mutex
	// unsaved is a refreshed token the store refused: its refresh token
	// may be the only valid one now, so it is saved before anything else.
	unsaved *oauth2.Token
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// NewTokenSource returns the token source of the sign-in saved under key.
// service names the service in errors ("GitHub"). conf needs ClientID,
// Endpoint.TokenURL and AuthStyle, and ClientSecret if the service wants one
// to refresh. httpClient makes the refresh requests; nil: a client with a
// 30 s timeout.
func NewTokenSource(service string, conf *oauth2.Config, store secrets.Store, key string, httpClient *http.Client) *TokenSource {
	return &TokenSource{service: service, conf: conf, store: store, key: key, client: orDefault(httpClient)}
}

// Token returns the saved token while it is valid (a token without expiry,
// such as a pasted personal access token, always is). Otherwise it
// refreshes it and saves the result before returning it: if the save fails,
// the new token is not handed out (and is saved again on the next call). An
// error wrapping ErrReconnect means no refresh can help.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsaved != nil {
		if err := Save(s.store, s.key, s.unsaved); err != nil {
			return nil, fmt.Errorf("saving the refreshed %s sign-in: %w", s.service, err)
		}
		s.unsaved = nil
	}
	tok, err := s.load()
	if err != nil {
		return nil, err
	}
	if tok.Valid() {
		return tok, nil
	}
	if tok.RefreshToken == "" {
		return nil, fmt.Errorf("the saved %s sign-in has expired: %w", s.service, ErrReconnect)
	}
	fresh, err := s.refresh(tok.RefreshToken)
	if err != nil {
		return nil, err
	}
	if err := Save(s.store, s.key, fresh); err != nil {
		s.unsaved = fresh
		return nil, fmt.Errorf("saving the refreshed %s sign-in: %w", s.service, err)
	}
	return fresh, nil
}

func (s *TokenSource) load() (*oauth2.Token, error) {
	raw, err := s.store.Get(s.key)
	if errors.Is(err, secrets.ErrNotFound) {
		return nil, fmt.Errorf("there is no saved %s sign-in: %w", s.service, ErrReconnect)
	}
	if err != nil {
		return nil, fmt.Errorf("reading the %s sign-in: %w", s.service, err)
	}
	var tok oauth2.Token
	if json.Unmarshal([]byte(raw), &tok) != nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return nil, fmt.Errorf("the saved %s sign-in is unreadable: %w", s.service, ErrReconnect)
	}
	return &tok, nil
}

// refusedGrant holds the token endpoint errors that mean the refresh token
// is dead: RFC 6749's (Google, Atlassian), GitHub's and Slack's own.
var refusedGrant = map[string]bool{"invalid_grant": true, "bad_refresh_token": true, "invalid_refresh_token": true}

func (s *TokenSource) refresh(refreshToken string) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
	defer cancel()
	tok, err := s.conf.TokenSource(withClient(ctx, s.client), &oauth2.Token{RefreshToken: refreshToken}).Token()
	if err != nil {
		var re *oauth2.RetrieveError
		if errors.As(err, &re) && refusedGrant[re.ErrorCode] {
			return nil, fmt.Errorf("%s refused the saved sign-in: %w", s.service, ErrReconnect)
		}
		return nil, fmt.Errorf("refreshing the %s sign-in: %w", s.service, tokenError(err))
	}
	// Every service here takes bearer tokens; Slack answers token_type "user",
	// which oauth2.Transport would put in the Authorization header as is.
	tok.TokenType = "Bearer"
	return tok, nil
}

// authorize runs the browser part of an authorization-code sign-in: it
// listens on 127.0.0.1 (on the first free port of ports; none: any port),
// sets conf.RedirectURL, hands open the authorization URL with a fresh state
// and opts, and returns the code from the callback.
func authorize(ctx context.Context, conf *oauth2.Config, ports []int, open func(url string) error, opts ...oauth2.AuthCodeOption) (string, error) {
	ln, port, err := loopback.Listen(ports)
	if err != nil {
		return "", err
	}
	defer ln.Close()
	conf.RedirectURL = loopback.RedirectURL(port)
	state := loopback.State()
	authURL := conf.AuthCodeURL(state, opts...)
	q, err := loopback.Await(ctx, ln, state, func() error { return open(authURL) })
	if err != nil {
		return "", err
	}
	code := q.Get("code")
	if code == "" {
		return "", errors.New("the sign-in callback has no code")
	}
	return code, nil
}

// exchange trades an authorization code for a token at conf's token endpoint.
func exchange(ctx context.Context, conf *oauth2.Config, client *http.Client, code string, opts ...oauth2.AuthCodeOption) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	tok, err := conf.Exchange(withClient(ctx, client), code, opts...)
	if err != nil {
		return nil, fmt.Errorf("exchanging the code: %w", tokenError(err))
	}
	return tok, nil
}

// withClient hands x/oauth2 its HTTP client, which it takes from the context.
func withClient(ctx context.Context, c *http.Client) context.Context {
	return context.WithValue(ctx, oauth2.HTTPClient, c)
}

func orDefault(c *http.Client) *http.Client {
	if c != nil {
		return c
	}
	return &http.Client{Timeout: requestTimeout}
}

// tokenError describes a token endpoint's refusal by its OAuth error code
// and description, or its HTTP status: never by its body, which
// oauth2.RetrieveError quotes and which may echo credentials.
func tokenError(err error) error {
	var re *oauth2.RetrieveError
	switch {
	case !errors.As(err, &re):
		return err
	case re.ErrorCode != "" && re.ErrorDescription != "":
		return fmt.Errorf("%s: %s", re.ErrorCode, re.ErrorDescription)
	case re.ErrorCode != "":
		return errors.New(re.ErrorCode)
	case re.Response != nil:
		return fmt.Errorf("the server answered %s", re.Response.Status)
	}
	return errors.New("the server refused the request")
}

// statusError is an HTTP answer other than 2xx; its body is not kept.
type statusError struct {
	code   int
	status string
}

func (e *statusError) Error() string { return "the server answered " + e.status }

// hasStatus reports whether err is an answer with HTTP status code.
func hasStatus(err error, code int) bool {
	var se *statusError
	return errors.As(err, &se) && se.code == code
}

// fetch sends a request (prepared by prepare, e.g. with credentials) and
// decodes a 2xx JSON answer into out; it returns the answer's header.
func fetch(ctx context.Context, client *http.Client, method, url string, prepare func(*http.Request), out any) (http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	prepare(req)
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return nil, &statusError{code: resp.StatusCode, status: resp.Status}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(out); err != nil {
		return nil, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.Header, nil
}

// splitScopes splits a scope list on sep, dropping blanks; never nil.
func splitScopes(list, sep string) []string {
	scopes := []string{}
	for _, s := range strings.Split(list, sep) {
		if s = strings.TrimSpace(s); s != "" {
			scopes = append(scopes, s)
		}
	}
	return scopes
}
