package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
)

// Keychain entries for Auth0.
const (
	keyAuth0Secret  = "auth0-client-secret"
	keyAuth0Refresh = "auth0-refresh-token"
)

// Auth0Status describes the Auth0 setup; it never holds a secret.
type Auth0Status struct {
	Configured bool   `json:"configured"`
	Domain     string `json:"domain,omitempty"`
	ClientID   string `json:"client_id,omitempty"`
	LoggedIn   bool   `json:"logged_in"`
	Subject    string `json:"subject,omitempty"`
	// PhoneApprovals says the CIBA channel is asking for approvals.
	PhoneApprovals bool `json:"phone_approvals"`
}

// Auth0Setup records the user's tenant and application; the client secret
// goes to the keychain. Setting up again logs out.
func (c *Core) Auth0Setup(domain, clientID, clientSecret string) error {
	if _, err := auth0.New(auth0.Config{Domain: domain, ClientID: clientID, ClientSecret: clientSecret}); err != nil {
		return err
	}
	if err := c.secrets.Set(keyAuth0Secret, clientSecret); err != nil {
		return fmt.Errorf("saving the client secret: %w", err)
	}
	if err := c.secrets.Delete(keyAuth0Refresh); err != nil {
		return err
	}
	c.redactAuth0()
	return c.updateAuth0(func(a **store.Auth0Settings) { *a = &store.Auth0Settings{Domain: domain, ClientID: clientID} })
}

// Auth0Client returns a client for the tenant st describes, with the
// client secret from s. The CLI uses it to run the browser login in its own
// process, then hands the session to the core.
func Auth0Client(st Auth0Status, s secrets.Store) (*auth0.Client, error) {
	if !st.Configured {
		return nil, errors.New("Auth0 is not set up: run `agentvault auth0 setup` first")
	}
	secret, err := s.Get(keyAuth0Secret)
	if err != nil {
		return nil, fmt.Errorf("reading the Auth0 client secret: %w", err)
	}
	return auth0.New(auth0.Config{Domain: st.Domain, ClientID: st.ClientID, ClientSecret: secret})
}

// Auth0User returns, for a process that shares the core's keychain s (the
// CLI, the GUI), the client of the tenant st describes and a reader of the
// signed-in user's refresh token: what linking provider accounts needs.
func Auth0User(st Auth0Status, s secrets.Store) (*auth0.Client, func() (string, error), error) {
	if st.Configured && !st.LoggedIn {
		return nil, nil, errors.New("not signed in to Auth0: run `agentvault auth0 login` first")
	}
	client, err := Auth0Client(st, s)
	if err != nil {
		return nil, nil, err
	}
	return client, func() (string, error) { return Auth0RefreshToken(s) }, nil
}

// Auth0RefreshToken reads the refresh token Auth0SaveSession kept in s (the
// keychain): the CLI and the GUI read it to link provider accounts in their
// own process, the core to use Token Vault.
func Auth0RefreshToken(s secrets.Store) (string, error) {
	rt, err := s.Get(keyAuth0Refresh)
	if errors.Is(err, secrets.ErrNotFound) {
		return "", errors.New("not signed in to Auth0: run `agentvault auth0 login` first")
	}
	if err != nil {
		return "", fmt.Errorf("reading the Auth0 session: %w", err)
	}
	return rt, nil
}

// Auth0SaveSession keeps a login's refresh token (in the keychain) and
// subject, and starts asking for approvals on the phone.
func (c *Core) Auth0SaveSession(subject, refreshToken string) error {
	if subject == "" || refreshToken == "" {
		return errors.New("an Auth0 session needs a subject and a refresh token")
	}
	if err := c.secrets.Set(keyAuth0Refresh, refreshToken); err != nil {
		return fmt.Errorf("saving the Auth0 session: %w", err)
	}
	if err := c.updateAuth0(func(a **store.Auth0Settings) {
		if *a != nil {
			(*a).Subject = subject
		}
	}); err != nil {
		return err
	}
	c.StartPhoneApprovals(context.Background())
	return nil
}

// Auth0Logout forgets the session and stops phone approvals.
func (c *Core) Auth0Logout() error {
	c.approvals.RemoveChannel("ciba")
	c.mu.Lock()
	c.phone = false
	c.mu.Unlock()
	if err := c.secrets.Delete(keyAuth0Refresh); err != nil {
		return err
	}
	return c.updateAuth0(func(a **store.Auth0Settings) {
		if *a != nil {
			(*a).Subject = ""
		}
	})
}

// Auth0Status reports the setup.
func (c *Core) Auth0Status() (Auth0Status, error) {
	st, err := c.tenant()
	if err != nil || !st.Configured {
		return st, err
	}
	c.mu.Lock()
	st.PhoneApprovals = c.phone
	c.mu.Unlock()
	return st, nil
}

// tenant is the Auth0 setup as stored, without the phone channel's state,
// so it can be read while the core's lock is held.
func (c *Core) tenant() (Auth0Status, error) {
	st, err := c.store.Settings()
	if err != nil || st.Auth0 == nil {
		return Auth0Status{}, err
	}
	return Auth0Status{Configured: true, Domain: st.Auth0.Domain, ClientID: st.Auth0.ClientID,
		LoggedIn: st.Auth0.Subject != "", Subject: st.Auth0.Subject}, nil
}

// StartPhoneApprovals adds the CIBA channel when the user is logged in to a
// tenant that offers CIBA; without it AgentVault works fully on the desktop.
func (c *Core) StartPhoneApprovals(ctx context.Context) {
	st, err := c.Auth0Status()
	if err != nil || !st.LoggedIn {
		return
	}
	client, err := Auth0Client(st, c.secrets)
	if err != nil {
		c.log.Warn("phone approvals off", "reason", err)
		return
	}
	c.redactAuth0()
	e, err := client.Endpoints(ctx)
	if err != nil || e.Backchannel == "" {
		c.log.Info("phone approvals off", "reason", fmt.Sprint(err, auth0.ErrNoCIBA))
		return
	}
	c.approvals.AddChannel(&auth0.Channel{Client: client, Subject: st.Subject, Logger: c.log})
	c.mu.Lock()
	c.phone = true
	c.mu.Unlock()
	c.log.Info("approvals also ask on the phone (Auth0 CIBA)")
}

func (c *Core) updateAuth0(f func(**store.Auth0Settings)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	st, err := c.store.Settings()
	if err != nil {
		return err
	}
	f(&st.Auth0)
	return c.store.PutSettings(st)
}

// redactAuth0 adds the Auth0 client secret and refresh token to the
// secrets taken out of what leaves AgentVault.
func (c *Core) redactAuth0() {
	secret, _ := c.secrets.Get(keyAuth0Secret)
	refresh, _ := c.secrets.Get(keyAuth0Refresh)
	c.redact.Put("auth0", secret, refresh)
}
