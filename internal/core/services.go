package core

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/services"
)

// ServiceKinds implements api.API.
func (c *Core) ServiceKinds(context.Context) []api.Kind { return services.Kinds() }

// AddService configures an upstream MCP server.
func (c *Core) AddService(ctx context.Context, spec api.ServiceSpec) (api.ServiceInfo, error) {
	return c.services.Add(ctx, spec)
}

// ConnectService adds or reconnects a first-party service.
func (c *Core) ConnectService(ctx context.Context, spec api.ConnectSpec) (api.ServiceInfo, error) {
	return c.services.Connect(ctx, spec)
}

// SignIn signs in to a first-party service in this process (its browser,
// the device code shown through s) and connects it.
func (c *Core) SignIn(ctx context.Context, kind string, s api.SignIn) (api.ServiceInfo, error) {
	spec, err := services.SignInWith(ctx, kind, s, c.tenant, c.secrets)
	if err != nil {
		return api.ServiceInfo{}, err
	}
	return c.ConnectService(ctx, spec)
}

// Services lists the configured services with their status.
func (c *Core) Services(ctx context.Context) ([]api.ServiceInfo, error) { return c.services.List(ctx) }

// ReviewService lists how a service's tools differ from the accepted ones.
func (c *Core) ReviewService(ctx context.Context, name string) ([]api.ToolChange, error) {
	return c.services.Review(ctx, name)
}

// AcceptService accepts a service's tools as offered now; connected agents
// hear of the change at once.
func (c *Core) AcceptService(ctx context.Context, name string) error {
	return c.services.Accept(ctx, name)
}

// RemoveService takes a service out of every vault (their agents lose its
// tools at once), then stops and forgets it and its keychain entries.
func (c *Core) RemoveService(_ context.Context, name string) error {
	if !c.services.Has(name) {
		return notFound("service", name)
	}
	c.mu.Lock()
	vaults, err := c.store.Vaults()
	var changed []string
	for _, v := range vaults {
		if err != nil || !slices.Contains(v.Services, name) {
			continue
		}
		v.Services = slices.DeleteFunc(v.Services, func(s string) bool { return s == name })
		if err = c.store.PutVault(v); err == nil {
			changed = append(changed, v.ID)
		}
	}
	c.mu.Unlock()
	for _, id := range changed {
		c.changes.publish(api.Change{Topic: api.VaultChanged, Vault: id})
	}
	if err != nil {
		return fmt.Errorf("taking %s out of the vaults: %w", name, err)
	}
	if err := c.services.Remove(name); err != nil && !errors.Is(err, services.ErrNotFound) {
		return err
	}
	return nil
}

// Clients implements api.API.
func (c *Core) Clients(context.Context) []string { return clientsetup.Names() }

// ClientSetup implements api.API.
func (c *Core) ClientSetup(_ context.Context, client string, v api.SetupVault) api.Snippet {
	return api.SnippetFor(client, v)
}
