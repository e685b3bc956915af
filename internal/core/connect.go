package core

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/signin"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/apitool"
	"github.com/agentvault/agentvault/providers/github"
	"github.com/agentvault/agentvault/providers/google"
	"github.com/agentvault/agentvault/providers/jira"
	"github.com/agentvault/agentvault/providers/slack"
)

// ServiceKinds are the first-party services, by the kind users name them.
var ServiceKinds = map[string]string{"github": "GitHub", "google": "Google", "slack": "Slack", "jira": "Jira"}

// Auth0Connections are the Token Vault connection names of each kind,
// unless the user names another (Jira needs a custom connection).
var Auth0Connections = map[string]string{"github": "github", "google": "google-oauth2", "slack": "sign-in-with-slack"}

// ConnectSpec is a finished sign-in to a first-party service, handed to the
// core by the CLI or the GUI, which ran the browser or device-code flow.
type ConnectSpec struct {
	// Kind is github, google, slack or jira; Name is the service name
	// ("" = Kind), which prefixes its tools.
	Kind string `json:"kind"`
	Name string `json:"name,omitempty"`
	// Auth is "token" (a bearer token that may refresh with ClientID),
	// "basic" (Jira: Email and APIToken) or "auth0" (Token Vault).
	Auth string `json:"auth"`
	// Token is the bearer token, with its refresh token when there is one.
	Token *oauth2.Token `json:"token,omitempty"`
	// ClientID and ClientSecret refresh Token (the secret where the
	// service requires one: Atlassian, Google's desktop clients).
	ClientID     string `json:"client_id,omitempty"`
	ClientSecret string `json:"client_secret,omitempty"`
	Email        string `json:"email,omitempty"`
	APIToken     string `json:"api_token,omitempty"`
	// Connection is the Auth0 connection (Auth "auth0"); "" = the kind's.
	Connection string `json:"connection,omitempty"`
	// APIURL is the API root ("" = the public service's; Jira: the site or
	// https://api.atlassian.com/ex/jira/{cloudId}); Site is Jira's web site.
	APIURL string `json:"api_url,omitempty"`
	Site   string `json:"site,omitempty"`
	// Scopes are what the sign-in granted; nil: not reported.
	Scopes  []string `json:"scopes,omitempty"`
	Account string   `json:"account,omitempty"`
}

// credential is what a first-party service keeps in the keychain.
type credential struct {
	Token        *oauth2.Token `json:"token,omitempty"`
	ClientSecret string        `json:"client_secret,omitempty"`
	APIToken     string        `json:"api_token,omitempty"`
}

func credentialKey(service string) string { return "service/" + service + "/credential" }
func tokenKey(service string) string      { return "service/" + service + "/token" }

// ConnectService adds (or, when the name exists with the same kind,
// reconnects) a first-party service; its secrets go to the keychain.
func (c *Core) ConnectService(spec ConnectSpec) (ServiceInfo, error) {
	title, ok := ServiceKinds[spec.Kind]
	if !ok {
		return ServiceInfo{}, fmt.Errorf("unknown service %q (want github, google, slack or jira)", spec.Kind)
	}
	if spec.Name == "" {
		spec.Name = spec.Kind
	}
	if !serviceName.MatchString(spec.Name) {
		return ServiceInfo{}, fmt.Errorf("service name %q: use 1-32 letters, digits or '-' (it prefixes tool names)", spec.Name)
	}
	cred := credential{ClientSecret: spec.ClientSecret}
	switch spec.Auth {
	case "token":
		if spec.Token == nil || spec.Token.AccessToken == "" {
			return ServiceInfo{}, errors.New("no token to save")
		}
		if spec.Token.RefreshToken != "" && spec.ClientID == "" {
			return ServiceInfo{}, errors.New("a refreshable token needs the client ID that issued it")
		}
	case "basic":
		if spec.Kind != "jira" || spec.Email == "" || spec.APIToken == "" || spec.APIURL == "" {
			return ServiceInfo{}, errors.New("an API token connection is for Jira and needs the site, an email and the token")
		}
		cred.APIToken = spec.APIToken
	case "auth0":
		if spec.Connection == "" {
			spec.Connection = Auth0Connections[spec.Kind]
		}
		if spec.Connection == "" {
			return ServiceInfo{}, fmt.Errorf("name the Auth0 connection that signs in to %s", title)
		}
	default:
		return ServiceInfo{}, fmt.Errorf("unknown sign-in %q (want token, basic or auth0)", spec.Auth)
	}
	if spec.Kind == "jira" && spec.APIURL == "" {
		return ServiceInfo{}, errors.New("Jira needs its API address (the site, or https://api.atlassian.com/ex/jira/CLOUD-ID)")
	}
	svc := store.Service{Name: spec.Name, Kind: spec.Kind, URL: spec.APIURL, Auth: spec.Auth, ClientID: spec.ClientID,
		Connection: spec.Connection, Account: spec.Account, Site: spec.Site, Scopes: spec.Scopes, Created: time.Now().UTC()}
	if spec.Auth == "basic" {
		svc.Account = spec.Email
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	if old, err := c.store.Service(spec.Name); err == nil {
		if old.Kind != spec.Kind {
			return ServiceInfo{}, fmt.Errorf("a service named %q already exists", spec.Name)
		}
		svc.Created = old.Created
	}
	if spec.Token != nil {
		if err := signin.Save(c.secrets, tokenKey(spec.Name), spec.Token); err != nil {
			return ServiceInfo{}, fmt.Errorf("saving the %s sign-in in the keychain: %w", title, err)
		}
	}
	raw, _ := json.Marshal(cred)
	if err := c.secrets.Set(credentialKey(spec.Name), string(raw)); err != nil {
		return ServiceInfo{}, fmt.Errorf("saving the %s credential in the keychain: %w", title, err)
	}
	if err := c.store.PutService(svc); err != nil {
		return ServiceInfo{}, err
	}
	if p, ok := c.providers[spec.Name]; ok {
		p.Close()
		delete(c.providers, spec.Name)
	}
	if err := c.startProviderLocked(svc); err != nil {
		return ServiceInfo{}, err
	}
	c.changes.publish(Change{Topic: ServiceChanged, Service: spec.Name})
	return serviceInfo(svc), nil
}

// firstParty builds the provider of a first-party service.
func (c *Core) firstParty(s store.Service) (providers.Provider, error) {
	client, err := c.serviceClient(s)
	if err != nil {
		return nil, err
	}
	switch s.Kind {
	case "github":
		return github.New(github.Config{HTTPClient: client, BaseURL: s.URL, Granted: s.Scopes})
	case "google":
		return google.New(google.Config{HTTPClient: client, BaseURL: s.URL, Granted: s.Scopes})
	case "slack":
		return slack.New(slack.Config{HTTPClient: client, BaseURL: s.URL, Granted: s.Scopes})
	case "jira":
		return jira.New(jira.Config{HTTPClient: client, BaseURL: s.URL, SiteURL: s.Site, Granted: s.Scopes})
	}
	return nil, fmt.Errorf("unknown service kind %q", s.Kind)
}

// serviceClient is an HTTP client that adds the service's credential to
// every request, reading it from the keychain (or Token Vault) as needed;
// the provider never holds it.
func (c *Core) serviceClient(s store.Service) (*http.Client, error) {
	raw, err := c.secrets.Get(credentialKey(s.Name))
	if err != nil {
		return nil, fmt.Errorf("reading the %s credential: %w", s.Name, err)
	}
	var cred credential
	if err := json.Unmarshal([]byte(raw), &cred); err != nil {
		return nil, fmt.Errorf("the %s credential in the keychain is damaged: connect it again", s.Name)
	}
	title := ServiceKinds[s.Kind]
	c.redact.Put(redactGroup(s.Name)+"config", cred.ClientSecret, cred.APIToken)
	var auth func(context.Context, *http.Request) error
	switch s.Auth {
	case "basic":
		email := s.Account
		auth = func(_ context.Context, r *http.Request) error { r.SetBasicAuth(email, cred.APIToken); return nil }
	case "auth0":
		ts := c.tokenVault(s.Connection)
		auth = func(ctx context.Context, r *http.Request) error {
			tok, err := ts(ctx)
			if err != nil {
				return fmt.Errorf("%w: Auth0 Token Vault: %v", providers.ErrReconnect, err)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	default:
		ts := c.tokenSource(s, cred)
		auth = func(_ context.Context, r *http.Request) error {
			tok, err := ts.Token()
			if err != nil {
				return err
			}
			tok.SetAuthHeader(r)
			return nil
		}
	}
	return &http.Client{
		Timeout: time.Minute,
		Transport: &authTransport{service: title, auth: auth, next: http.DefaultTransport,
			sent: func(recent []string) { c.redact.Put(redactGroup(s.Name)+"sent", recent...) }},
		// The credential goes only where the request was addressed, and a
		// guard's decision holds only for what the call named: a redirect
		// (a renamed repository, another host) is returned, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// tokenVault returns a source of connection's provider tokens. The tenant
// and the session are looked up at each call, not when the service starts:
// a service may start before the user has set up or logged in to Auth0 (and
// the core's lock is held then), and after a logout or a new login — to
// this tenant or another — no token of the old session may be used.
func (c *Core) tokenVault(connection string) func(context.Context) (string, error) {
	var mu sync.Mutex
	var ts *auth0.TokenSource
	var session Auth0Status // the one ts belongs to
	return func(ctx context.Context) (string, error) {
		st, err := c.tenant()
		if err != nil {
			return "", err
		}
		mu.Lock()
		if ts == nil || st != session {
			client, refresh, err := Auth0User(st, c.secrets)
			if err != nil {
				ts = nil
				mu.Unlock()
				return "", err
			}
			ts, session = &auth0.TokenSource{Client: client, Connection: connection, RefreshToken: refresh}, st
		}
		current := ts
		mu.Unlock()
		return current.Token(ctx)
	}
}

// tokenSource refreshes and persists a service's bearer token.
func (c *Core) tokenSource(s store.Service, cred credential) oauth2.TokenSource {
	key := tokenKey(s.Name)
	switch s.Kind {
	case "google":
		return signin.Google{ClientID: s.ClientID, ClientSecret: cred.ClientSecret}.TokenSource(c.secrets, key)
	case "slack":
		return signin.Slack{ClientID: s.ClientID}.TokenSource(c.secrets, key)
	case "jira":
		return signin.Atlassian{ClientID: s.ClientID, ClientSecret: cred.ClientSecret}.TokenSource(c.secrets, key)
	}
	return signin.GitHub{ClientID: s.ClientID}.TokenSource(c.secrets, key)
}

// authTransport adds a credential to each request.
type authTransport struct {
	service string
	auth    func(context.Context, *http.Request) error
	next    http.RoundTripper
	// sent learns the Authorization values lately sent (a refreshed token
	// and the one before it, which may still be valid), so that an echo of
	// either is redacted.
	sent func(recent []string)

	mu     sync.Mutex
	recent []string // newest first, at most keptTokens
}

// keptTokens is how many credentials a service's redaction remembers.
const keptTokens = 3

func (t *authTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if err := t.auth(r.Context(), r); err != nil {
		return nil, err
	}
	if v := r.Header.Get("Authorization"); v != "" {
		t.mu.Lock()
		fresh := len(t.recent) == 0 || t.recent[0] != v
		if fresh {
			t.recent = append([]string{v}, t.recent[:min(len(t.recent), keptTokens-1)]...)
			t.sent(t.recent)
		}
		t.mu.Unlock()
	}
	return t.next.RoundTrip(r)
}

// signInState says what a first-party service's sign-in allows: the tools
// its scopes leave out, and its status in words.
func signInState(p providers.Provider, s store.Service) ([]apitool.Missing, string) {
	a, ok := p.(*apitool.Provider)
	if !ok {
		return nil, "connected"
	}
	if at, refused := a.Refused(); refused {
		return a.Unavailable(), fmt.Sprintf("%s refused the sign-in at %s: reconnect %[1]s", ServiceKinds[s.Kind], at.Local().Format("15:04"))
	}
	status := "connected"
	if s.Account != "" {
		status += " as " + s.Account
	}
	return a.Unavailable(), status
}

// deleteCredentials removes every keychain entry of a service.
func (c *Core) deleteCredentials(s store.Service) {
	keys := []string{credentialKey(s.Name), tokenKey(s.Name)}
	for _, h := range s.HeaderNames {
		keys = append(keys, headerKey(s.Name, h))
	}
	for _, e := range s.EnvNames {
		keys = append(keys, envKey(s.Name, e))
	}
	for _, part := range s.URLSecrets {
		keys = append(keys, urlKey(s.Name, part))
	}
	for _, k := range slices.Compact(keys) {
		_ = c.secrets.Delete(k)
	}
}
