package signin

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/endpoints"

	"github.com/agentvault/agentvault/internal/secrets"
)

// GitHub signs in to GitHub with the device flow (RFC 8628), checks pasted
// personal access tokens, and refreshes the expiring user tokens of a
// GitHub App. Prefer a GitHub App: its tokens carry fine-grained
// permissions and expire after 8 hours, while an OAuth App's "repo" scope
// reaches every private repository.
type GitHub struct {
	// ClientID is the GitHub App's (or OAuth App's) client ID, with device
	// flow enabled; required to sign in and to refresh. There is no secret:
	// a desktop app cannot keep one.
	ClientID string
	// Scopes are requested from an OAuth App; a GitHub App has permissions
	// instead and ignores them.
	Scopes []string
	// Endpoint is GitHub's OAuth endpoint (DeviceAuthURL and TokenURL);
	// zero: github.com.
	Endpoint oauth2.Endpoint
	// APIURL is the REST API's base URL; "": https://api.github.com.
	APIURL string
	// HTTP makes every request; nil: a client with a 30 s timeout. Give
	// one a timeout too: x/oauth2 starts the device flow without a context.
	HTTP *http.Client
}

// GitHubAccount is the account a GitHub token belongs to.
type GitHubAccount struct {
	// Login is the user's handle.
	Login string
	// Scopes are the OAuth scopes the token carries; meaningful only when
	// ScopesKnown.
	Scopes []string
	// ScopesKnown is false when GitHub reports no scopes at all:
	// fine-grained personal access tokens and GitHub App tokens have
	// permissions instead, which the API does not list.
	ScopesKnown bool
}

func (g GitHub) config() *oauth2.Config {
	ep := g.Endpoint
	if ep == (oauth2.Endpoint{}) {
		ep = endpoints.GitHub
	}
	ep.AuthStyle = oauth2.AuthStyleInParams
	return &oauth2.Config{ClientID: g.ClientID, Scopes: g.Scopes, Endpoint: ep}
}

// SignIn runs the device flow: show displays the code the user must enter
// at verificationURI; SignIn then polls GitHub at the pace it asks for
// until the user approves, the code expires or ctx ends, and returns the
// token with its account.
func (g GitHub) SignIn(ctx context.Context, show func(userCode, verificationURI string)) (*oauth2.Token, GitHubAccount, error) {
	conf := g.config()
	octx := withClient(ctx, orDefault(g.HTTP))
	da, err := conf.DeviceAuth(octx)
	if err != nil {
		return nil, GitHubAccount{}, fmt.Errorf("starting the GitHub sign-in: %w", tokenError(err))
	}
	show(da.UserCode, da.VerificationURI)
	tok, err := conf.DeviceAccessToken(octx, da)
	if err != nil {
		return nil, GitHubAccount{}, deviceError(ctx, err)
	}
	acct, err := g.CheckToken(ctx, tok.AccessToken)
	if err != nil {
		return nil, GitHubAccount{}, err
	}
	return tok, acct, nil
}

// deviceError explains why polling for the device flow's token stopped.
func deviceError(ctx context.Context, err error) error {
	var code string
	if re := (*oauth2.RetrieveError)(nil); errors.As(err, &re) {
		code = re.ErrorCode
	}
	switch {
	case code == "expired_token",
		// DeviceAccessToken stops at the code's expiry with a deadline of its own.
		errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		return errors.New("the GitHub code expired before it was entered: sign in again")
	case code == "access_denied":
		return errors.New("the GitHub sign-in was cancelled in the browser")
	}
	return fmt.Errorf("signing in to GitHub: %w", tokenError(err))
}

// CheckToken returns the account token belongs to (a pasted personal access
// token, or one from SignIn) and the scopes GitHub reports for it.
func (g GitHub) CheckToken(ctx context.Context, token string) (GitHubAccount, error) {
	api := strings.TrimSuffix(g.APIURL, "/")
	if api == "" {
		api = "https://api.github.com"
	}
	var user struct {
		Login string `json:"login"`
	}
	header, err := fetch(ctx, orDefault(g.HTTP), http.MethodGet, api+"/user", func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+token)
		r.Header.Set("Accept", "application/vnd.github+json")
		r.Header.Set("X-GitHub-Api-Version", "2022-11-28")
	}, &user)
	if hasStatus(err, http.StatusUnauthorized) {
		return GitHubAccount{}, errors.New("GitHub does not accept this token: check that it is complete and has not expired")
	}
	if err != nil {
		return GitHubAccount{}, fmt.Errorf("checking the GitHub token: %w", err)
	}
	acct := GitHubAccount{Login: user.Login}
	if v := header.Values("X-OAuth-Scopes"); v != nil {
		acct.Scopes, acct.ScopesKnown = splitScopes(strings.Join(v, ","), ","), true
	}
	return acct, nil
}

// TokenSource returns the token source of a GitHub sign-in saved under key.
// OAuth App tokens and pasted tokens do not expire and are returned as
// saved; a GitHub App's are refreshed.
func (g GitHub) TokenSource(store secrets.Store, key string) *TokenSource {
	return NewTokenSource("GitHub", g.config(), store, key, g.HTTP)
}
