package signin

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
	"slices"
	"strings"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/secrets"
)

// Atlassian signs in to Atlassian (Jira Cloud) with OAuth 2.0 (3LO) through
// the system browser, lists the sites the sign-in reaches, refreshes its
// rotating refresh tokens, and checks the other way to connect Jira: a
// site, an email and an API token.
type Atlassian struct {
	// ClientID and ClientSecret identify the 3LO app from Atlassian's
	// developer console; both are required to sign in and to refresh.
	ClientID     string
	ClientSecret string
	// Scopes are requested as given, plus offline_access (for a refresh
	// token) when missing.
	Scopes []string
	// Ports are the loopback ports whose callbacks
	// (http://127.0.0.1:PORT/callback) are registered as the app's callback
	// URLs; the first free one is used. Empty: any free port.
	Ports []int
	// AuthURL is the authorization page; "": https://auth.atlassian.com/authorize.
	AuthURL string
	// TokenURL is the token endpoint; "": https://auth.atlassian.com/oauth/token.
	TokenURL string
	// APIURL is the API gateway; "": https://api.atlassian.com.
	APIURL string
	// HTTP makes every request; nil: a client with a 30 s timeout.
	HTTP *http.Client
}

// AtlassianSite is a site (cloud) a sign-in may use, from
// accessible-resources.
type AtlassianSite struct {
	// ID is the cloud ID: Jira's API is at
	// https://api.atlassian.com/ex/jira/{ID}.
	ID string `json:"id"`
	// URL is the site's address (https://your-site.atlassian.net).
	URL string `json:"url"`
	// Name is the site's name.
	Name string `json:"name"`
	// Scopes are the scopes the sign-in holds on this site.
	Scopes []string `json:"scopes"`
	// AvatarURL is the site's picture.
	AvatarURL string `json:"avatarUrl"`
}

func (a Atlassian) config() *oauth2.Config {
	ep := oauth2.Endpoint{AuthURL: a.AuthURL, TokenURL: a.TokenURL, AuthStyle: oauth2.AuthStyleInParams}
	if ep.AuthURL == "" {
		ep.AuthURL = "https://auth.atlassian.com/authorize"
	}
	if ep.TokenURL == "" {
		ep.TokenURL = "https://auth.atlassian.com/oauth/token"
	}
	scopes := a.Scopes
	if !slices.Contains(scopes, "offline_access") {
		scopes = append(slices.Clip(scopes), "offline_access")
	}
	return &oauth2.Config{ClientID: a.ClientID, ClientSecret: a.ClientSecret, Scopes: scopes, Endpoint: ep}
}

// tokenClient is the HTTP client for the token endpoint, which takes the
// JSON body Atlassian documents rather than x/oauth2's form.
func (a Atlassian) tokenClient() *http.Client {
	c := *orDefault(a.HTTP)
	next := c.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	c.Transport = jsonBody{next}
	return &c
}

// jsonBody re-encodes form-encoded request bodies as JSON objects.
type jsonBody struct{ next http.RoundTripper }

func (t jsonBody) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
		return t.next.RoundTrip(req)
	}
	raw, err := io.ReadAll(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(raw))
	if err != nil {
		return nil, err
	}
	fields := make(map[string]string, len(form))
	for k := range form {
		fields[k] = form.Get(k)
	}
	body, err := json.Marshal(fields)
	if err != nil {
		return nil, err
	}
	out := req.Clone(req.Context())
	out.Body = io.NopCloser(bytes.NewReader(body))
	out.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	out.ContentLength = int64(len(body))
	out.Header.Set("Content-Type", "application/json")
	return t.next.RoundTrip(out)
}

func (a Atlassian) apiURL() string {
	if a.APIURL == "" {
		return "https://api.atlassian.com"
	}
	return strings.TrimSuffix(a.APIURL, "/")
}

// SignIn opens Atlassian's consent screen with open (which starts the
// browser), waits, until ctx ends, for the redirect, exchanges the code with
// the client secret and returns the token with every site it reaches; the
// caller picks one (its ID is the cloud ID).
func (a Atlassian) SignIn(ctx context.Context, open func(url string) error) (*oauth2.Token, []AtlassianSite, error) {
	conf := a.config()
	code, err := authorize(ctx, conf, a.Ports, open,
		oauth2.SetAuthURLParam("audience", "api.atlassian.com"), oauth2.ApprovalForce)
	if err != nil {
		return nil, nil, fmt.Errorf("signing in to Atlassian: %w", err)
	}
	tok, err := exchange(ctx, conf, a.tokenClient(), code)
	if err != nil {
		return nil, nil, fmt.Errorf("signing in to Atlassian: %w", err)
	}
	if tok.RefreshToken == "" {
		return nil, nil, errors.New("Atlassian returned no refresh token: sign in again")
	}
	var sites []AtlassianSite
	_, err = fetch(ctx, orDefault(a.HTTP), http.MethodGet, a.apiURL()+"/oauth/token/accessible-resources", func(r *http.Request) {
		r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	}, &sites)
	if err != nil {
		return nil, nil, fmt.Errorf("listing the Atlassian sites: %w", err)
	}
	if len(sites) == 0 {
		return nil, nil, errors.New("the sign-in reaches no Atlassian site: sign in again and grant access to a Jira site")
	}
	return tok, sites, nil
}

// TokenSource returns the token source of an Atlassian sign-in saved under
// key. Atlassian rotates refresh tokens: each refresh saves the new one.
func (a Atlassian) TokenSource(store secrets.Store, key string) *TokenSource {
	return NewTokenSource("Atlassian", a.config(), store, key, a.tokenClient())
}

// CheckAPIToken checks a Jira site address ("your-site.atlassian.net"), an
// account's email and an API token (basic auth) with GET
// /rest/api/3/myself, and returns the account's display name.
func (a Atlassian) CheckAPIToken(ctx context.Context, site, email, apiToken string) (string, error) {
	base, err := siteURL(site)
	if err != nil {
		return "", err
	}
	var me struct {
		DisplayName string `json:"displayName"`
	}
	_, err = fetch(ctx, orDefault(a.HTTP), http.MethodGet, base+"/rest/api/3/myself", func(r *http.Request) {
		r.SetBasicAuth(email, apiToken)
	}, &me)
	if hasStatus(err, http.StatusUnauthorized) {
		return "", errors.New("Jira does not accept this email and API token")
	}
	if err != nil {
		return "", fmt.Errorf("checking the Jira API token: %w", err)
	}
	return me.DisplayName, nil
}

// siteURL turns a site address as typed into its origin. Only loopback
// addresses (test servers) may use plain http: basic auth would travel in
// the clear.
func siteURL(site string) (string, error) {
	s := strings.TrimSpace(site)
	if !strings.Contains(s, "://") {
		s = "https://" + s
	}
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || strings.Trim(u.Path, "/") != "" || u.RawQuery != "" {
		return "", errors.New("the site must be an address like your-site.atlassian.net")
	}
	ip := net.ParseIP(u.Hostname())
	if u.Scheme != "https" && (u.Scheme != "http" || ip == nil || !ip.IsLoopback()) {
		return "", errors.New("the site must use https")
	}
	return u.Scheme + "://" + u.Host, nil
}
