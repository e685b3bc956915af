package services

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/signin"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/apitool"
)

// credential is what a first-party service keeps in the keychain.
type credential struct {
	Token        *oauth2.Token `json:"token,omitempty"`
	ClientSecret string        `json:"client_secret,omitempty"`
	APIToken     string        `json:"api_token,omitempty"`
}

func credentialKey(service string) string { return "service/" + service + "/credential" }
func tokenKey(service string) string      { return "service/" + service + "/token" }

// Connect adds (or, when the name exists with the same kind, reconnects) a
// first-party service; its secrets go to the keychain.
func (r *Registry) Connect(_ context.Context, spec api.ConnectSpec) (api.ServiceInfo, error) {
	k, err := kindOf(spec.Kind)
	if err != nil {
		return api.ServiceInfo{}, err
	}
	if spec.Name == "" {
		spec.Name = spec.Kind
	}
	if err := checkName(spec.Name); err != nil {
		return api.ServiceInfo{}, err
	}
	cred := credential{ClientSecret: spec.ClientSecret}
	switch spec.Auth {
	case "token":
		if spec.Token == nil || spec.Token.AccessToken == "" {
			return api.ServiceInfo{}, errors.New("no token to save")
		}
		if spec.Token.RefreshToken != "" && spec.ClientID == "" {
			return api.ServiceInfo{}, errors.New("a refreshable token needs the client ID that issued it")
		}
	case "basic":
		if spec.Kind != "jira" || spec.Email == "" || spec.APIToken == "" || spec.APIURL == "" {
			return api.ServiceInfo{}, errors.New("an API token connection is for Jira and needs the site, an email and the token")
		}
		cred.APIToken = spec.APIToken
	case "auth0":
		if spec.Connection == "" {
			spec.Connection = k.Auth0Connection
		}
		if spec.Connection == "" {
			return api.ServiceInfo{}, fmt.Errorf("name the Auth0 connection that signs in to %s", k.Title)
		}
	default:
		return api.ServiceInfo{}, fmt.Errorf("unknown sign-in %q (want token, basic or auth0)", spec.Auth)
	}
	if spec.Kind == "jira" && spec.APIURL == "" {
		return api.ServiceInfo{}, errors.New("Jira needs its API address (the site, or https://api.atlassian.com/ex/jira/CLOUD-ID)")
	}
	svc := store.Service{Name: spec.Name, Kind: spec.Kind, URL: spec.APIURL, Auth: spec.Auth, ClientID: spec.ClientID,
		Connection: spec.Connection, Account: spec.Account, Site: spec.Site, Scopes: spec.Scopes, Created: time.Now().UTC()}
	if spec.Auth == "basic" {
		svc.Account = spec.Email
	}
	err = r.claim(spec.Name, func(old store.Service) error {
		if old.Kind != spec.Kind {
			return fmt.Errorf("a service named %q already exists", spec.Name)
		}
		svc.Created = old.Created
		return nil
	})
	if err != nil {
		return api.ServiceInfo{}, err
	}
	keep := func() error {
		if spec.Token != nil {
			if err := signin.Save(r.cfg.Secrets, tokenKey(spec.Name), spec.Token); err != nil {
				return fmt.Errorf("saving the %s sign-in in the keychain: %w", k.Title, err)
			}
		}
		raw, _ := json.Marshal(cred)
		if err := r.cfg.Secrets.Set(credentialKey(spec.Name), string(raw)); err != nil {
			return fmt.Errorf("saving the %s credential in the keychain: %w", k.Title, err)
		}
		p, err := r.startFirstParty(k, svc)
		if err != nil {
			return err
		}
		return r.commit(svc, p)
	}
	if err := keep(); err != nil {
		r.unclaim(spec.Name)
		return api.ServiceInfo{}, err
	}
	r.cfg.Changed(spec.Name)
	p, _ := r.Provider(spec.Name)
	return describeSignedIn(p, svc), nil
}

// startFirstParty builds the provider of a first-party service of kind k.
func (r *Registry) startFirstParty(k Kind, s store.Service) (providers.Provider, error) {
	client, err := r.serviceClient(k, s)
	if err != nil {
		return nil, err
	}
	return k.New(client, s)
}

// serviceClient is an HTTP client that adds the service's credential to
// every request, reading it from the keychain (or Token Vault) as needed;
// the provider never holds it.
func (r *Registry) serviceClient(k Kind, s store.Service) (*http.Client, error) {
	raw, err := r.cfg.Secrets.Get(credentialKey(s.Name))
	if err != nil {
		return nil, fmt.Errorf("reading the %s credential: %w", s.Name, err)
	}
	var cred credential
	if err := json.Unmarshal([]byte(raw), &cred); err != nil {
		return nil, fmt.Errorf("the %s credential in the keychain is damaged: connect it again", s.Name)
	}
	title := k.Title
	r.cfg.Redact.Put(redactGroup(s.Name)+"config", cred.ClientSecret, cred.APIToken)
	var auth func(context.Context, *http.Request) error
	switch s.Auth {
	case "basic":
		email := s.Account
		auth = func(_ context.Context, r *http.Request) error { r.SetBasicAuth(email, cred.APIToken); return nil }
	case "auth0":
		ts := r.tokenVault(s.Connection)
		auth = func(ctx context.Context, r *http.Request) error {
			tok, err := ts(ctx)
			if err != nil {
				return fmt.Errorf("%w: Auth0 Token Vault: %v", providers.ErrReconnect, err)
			}
			r.Header.Set("Authorization", "Bearer "+tok)
			return nil
		}
	default:
		ts := k.Refresh(s, cred.ClientSecret, r.cfg.Secrets, tokenKey(s.Name))
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
			sent: func(recent []string) { r.cfg.Redact.Put(redactGroup(s.Name)+"sent", recent...) }},
		// The credential goes only where the request was addressed, and a
		// guard's decision holds only for what the call named: a redirect
		// (a renamed repository, another host) is returned, not followed.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}, nil
}

// tokenVault returns a source of connection's provider tokens. The tenant
// and the session are looked up at each call, not when the service starts:
// the user may set up, log in, out, or to another tenant while services
// run, and no token of an old session may be used then.
func (r *Registry) tokenVault(connection string) func(context.Context) (string, error) {
	var mu sync.Mutex
	var ts *auth0.TokenSource
	var session api.Auth0Status // the one ts belongs to
	return func(ctx context.Context) (string, error) {
		st, err := r.cfg.Auth0Tenant()
		if err != nil {
			return "", err
		}
		mu.Lock()
		if ts == nil || st != session {
			client, refresh, err := Auth0User(st, r.cfg.Secrets)
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

// describeSignedIn is describe, plus what a service's sign-in allows: the
// tools its scopes leave out, its status in words, and what it grants.
func describeSignedIn(p providers.Provider, s store.Service) api.ServiceInfo {
	info := describe(s)
	info.Status = "connected"
	if a, ok := p.(*apitool.Provider); ok {
		for _, m := range a.Unavailable() {
			info.Unavailable = append(info.Unavailable, api.MissingTool{Tool: m.Tool, Scopes: m.Scopes})
		}
		if s.Account != "" {
			info.Status += " as " + s.Account
		}
		if at, refused := a.Refused(); refused {
			k, _ := findKind(s.Kind)
			info.Status = fmt.Sprintf("%s refused the sign-in at %s: reconnect %[1]s", k.Title, at.Local().Format("15:04"))
		}
	}
	info.Grants = grants(info)
	return info
}
