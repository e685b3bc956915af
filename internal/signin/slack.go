package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/slack-go/slack"
	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/secrets"
)

// Slack signs in to Slack through the system browser with OAuth v2 and PKCE
// as a public client (the app has PKCE enabled, so no secret), asking for
// user scopes only: a desktop redirect cannot ask for bot scopes. It also
// checks pasted user tokens.
type Slack struct {
	// ClientID is the Slack app's client ID; required to sign in and to
	// refresh.
	ClientID string
	// UserScopes are the user scopes to request (user_scope=).
	UserScopes []string
	// Ports are the loopback ports whose callbacks
	// (http://127.0.0.1:PORT/callback) are among the app's redirect URLs;
	// the first free one is used. Empty: any free port.
	Ports []int
	// AuthURL is the authorization page; "":
	// https://slack.com/oauth/v2/authorize.
	AuthURL string
	// APIURL is the Web API's base URL, ending in a slash; "":
	// https://slack.com/api/.
	APIURL string
	// HTTP makes every request; nil: a client with a 30 s timeout.
	HTTP *http.Client
}

// SlackAccount is the user and workspace a Slack token belongs to.
type SlackAccount struct {
	// UserID is the user's ID ("U…").
	UserID string
	// User is the user's name.
	User string
	// TeamID is the workspace's ID ("T…").
	TeamID string
	// Team is the workspace's name.
	Team string
	// URL is the workspace's address.
	URL string
	// Scopes are the scopes the token carries.
	Scopes []string
}

func (s Slack) apiURL() string {
	if s.APIURL == "" {
		return slack.APIURL
	}
	return s.APIURL
}

// SignIn opens Slack's consent screen with open (which starts the browser),
// waits, until ctx ends, for the redirect, exchanges the code with its PKCE
// verifier and returns the user token (with a refresh token and an expiry
// when the app rotates tokens) and its account.
func (s Slack) SignIn(ctx context.Context, open func(url string) error) (*oauth2.Token, SlackAccount, error) {
	authURL := s.AuthURL
	if authURL == "" {
		authURL = "https://slack.com/oauth/v2/authorize"
	}
	conf := &oauth2.Config{ClientID: s.ClientID, Endpoint: oauth2.Endpoint{AuthURL: authURL}}
	verifier := oauth2.GenerateVerifier()
	code, err := authorize(ctx, conf, s.Ports, open,
		oauth2.SetAuthURLParam("user_scope", strings.Join(s.UserScopes, ",")), oauth2.S256ChallengeOption(verifier))
	if err != nil {
		return nil, SlackAccount{}, fmt.Errorf("signing in to Slack: %w", err)
	}
	xctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	resp, err := slack.GetOAuthV2ResponseContext(xctx, orDefault(s.HTTP), s.ClientID, "", code, conf.RedirectURL,
		slack.OAuthOptionCodeVerifier(verifier), slack.OAuthOptionAPIURL(s.apiURL()))
	if err != nil {
		return nil, SlackAccount{}, fmt.Errorf("signing in to Slack: exchanging the code: %w", err)
	}
	u := resp.AuthedUser
	if u.AccessToken == "" {
		return nil, SlackAccount{}, errors.New("Slack returned no user token: ask for user scopes")
	}
	tok := &oauth2.Token{AccessToken: u.AccessToken, TokenType: "Bearer", RefreshToken: u.RefreshToken}
	if u.ExpiresIn > 0 {
		tok.Expiry = time.Now().Add(time.Duration(u.ExpiresIn) * time.Second)
	}
	acct, err := s.CheckToken(ctx, tok.AccessToken)
	if err != nil {
		return nil, SlackAccount{}, err
	}
	return tok, acct, nil
}

// CheckToken returns the account token belongs to (a pasted user token, or
// one from SignIn) and its scopes, with auth.test.
func (s Slack) CheckToken(ctx context.Context, token string) (SlackAccount, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	api := slack.New(token, slack.OptionAPIURL(s.apiURL()), slack.OptionHTTPClient(orDefault(s.HTTP)))
	resp, err := api.AuthTestContext(ctx)
	var se slack.SlackErrorResponse
	switch {
	case errors.As(err, &se):
		return SlackAccount{}, fmt.Errorf("Slack does not accept this token: %s", se.Err)
	case err != nil:
		return SlackAccount{}, fmt.Errorf("checking the Slack token: %w", err)
	}
	return SlackAccount{
		UserID: resp.UserID, User: resp.User, TeamID: resp.TeamID, Team: resp.Team, URL: resp.URL,
		Scopes: splitScopes(resp.Header.Get("X-OAuth-Scopes"), ","),
	}, nil
}

// TokenSource returns the token source of a Slack sign-in saved under key.
// Tokens of an app without token rotation, and pasted tokens, do not expire
// and are returned as saved.
func (s Slack) TokenSource(store secrets.Store, key string) *TokenSource {
	conf := &oauth2.Config{ClientID: s.ClientID, Endpoint: oauth2.Endpoint{
		TokenURL: s.apiURL() + "oauth.v2.access", AuthStyle: oauth2.AuthStyleInParams,
	}}
	return NewTokenSource("Slack", conf, store, key, s.HTTP)
}
