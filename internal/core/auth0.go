package core

import (
	"context"
	"errors"
	"fmt"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/services"
	"github.com/agentvault/agentvault/internal/store"
)

// Auth0Setup records the user's tenant and application; the client secret
// goes to the keychain. Setting up again logs out.
func (c *Core) Auth0Setup(_ context.Context, domain, clientID, clientSecret string) error {
	if _, err := auth0.New(auth0.Config{Domain: domain, ClientID: clientID, ClientSecret: clientSecret}); err != nil {
		return err
	}
	if err := c.secrets.Set(services.KeyAuth0Secret, clientSecret); err != nil {
		return fmt.Errorf("saving the client secret: %w", err)
	}
	if err := c.secrets.Delete(services.KeyAuth0Refresh); err != nil {
		return err
	}
	c.redactAuth0()
	return c.updateAuth0(func(a **store.Auth0Settings) { *a = &store.Auth0Settings{Domain: domain, ClientID: clientID} })
}

// Auth0SaveSession keeps a login's refresh token (in the keychain) and
// subject, and starts asking for approvals on the phone.
func (c *Core) Auth0SaveSession(ctx context.Context, subject, refreshToken string) error {
	if subject == "" || refreshToken == "" {
		return errors.New("an Auth0 session needs a subject and a refresh token")
	}
	if err := c.secrets.Set(services.KeyAuth0Refresh, refreshToken); err != nil {
		return fmt.Errorf("saving the Auth0 session: %w", err)
	}
	if err := c.updateAuth0(func(a **store.Auth0Settings) {
		if *a != nil {
			(*a).Subject = subject
		}
	}); err != nil {
		return err
	}
	c.StartPhoneApprovals(ctx)
	return nil
}

// Auth0Logout forgets the session and stops phone approvals.
func (c *Core) Auth0Logout(context.Context) error {
	c.approvals.RemoveChannel("ciba")
	c.phone.Store(false)
	if err := c.secrets.Delete(services.KeyAuth0Refresh); err != nil {
		return err
	}
	return c.updateAuth0(func(a **store.Auth0Settings) {
		if *a != nil {
			(*a).Subject = ""
		}
	})
}

// Auth0Status reports the setup.
func (c *Core) Auth0Status(context.Context) (api.Auth0Status, error) {
	st, err := c.tenant()
	if err != nil || !st.Configured {
		return st, err
	}
	st.PhoneApprovals = c.phone.Load()
	return st, nil
}

// tenant is the Auth0 setup as stored, without the phone channel's state.
func (c *Core) tenant() (api.Auth0Status, error) {
	st, err := c.store.Settings()
	if err != nil || st.Auth0 == nil {
		return api.Auth0Status{}, err
	}
	return api.Auth0Status{Configured: true, Domain: st.Auth0.Domain, ClientID: st.Auth0.ClientID,
		LoggedIn: st.Auth0.Subject != "", Subject: st.Auth0.Subject}, nil
}

// StartPhoneApprovals adds the CIBA channel when the user is logged in to a
// tenant that offers CIBA; without it AgentVault works fully on the desktop.
// It asks the tenant (over the network) whether it offers CIBA: start it
// off any path that waits for it.
func (c *Core) StartPhoneApprovals(ctx context.Context) {
	st, err := c.tenant()
	if err != nil || !st.LoggedIn {
		return
	}
	client, err := services.Auth0Client(st, c.secrets)
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
	c.phone.Store(true)
	c.changes.publish(api.Change{Topic: api.SettingsChanged})
	c.log.Info("approvals also ask on the phone (Auth0 CIBA)")
}

func (c *Core) updateAuth0(f func(**store.Auth0Settings)) error {
	c.mu.Lock()
	st, err := c.store.Settings()
	if err == nil {
		f(&st.Auth0)
		err = c.store.PutSettings(st)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.changes.publish(api.Change{Topic: api.SettingsChanged})
	return nil
}

// redactAuth0 adds the Auth0 client secret and refresh token to the
// secrets taken out of what leaves AgentVault.
func (c *Core) redactAuth0() {
	secret, _ := c.secrets.Get(services.KeyAuth0Secret)
	refresh, _ := c.secrets.Get(services.KeyAuth0Refresh)
	c.redact.Put("auth0", secret, refresh)
}
