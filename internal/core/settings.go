package core

import (
	"context"
	"errors"
	"time"

	"github.com/agentvault/agentvault/internal/api"
)

// The limits a vault's agents have unless the user sets others.
const (
	DefaultMaxPending  = 16
	DefaultMaxSessions = 256
	DefaultBodyTimeout = 30 * time.Second
)

// SetPaused pauses or resumes every agent at once.
func (c *Core) SetPaused(_ context.Context, p bool) error {
	c.paused.Store(p)
	c.changes.publish(api.Change{Topic: api.SettingsChanged})
	return nil
}

// Paused reports whether every agent is paused.
func (c *Core) Paused() bool { return c.paused.Load() }

// Status summarises the running service for the tray.
func (c *Core) Status(context.Context) (api.Status, error) {
	vaults, err := c.store.Vaults()
	sessions := 0
	for _, n := range c.changes.sessions() {
		sessions += n
	}
	return api.Status{Vaults: len(vaults), Sessions: sessions, Pending: len(c.approvals.Pending()), Paused: c.paused.Load()}, err
}

// Limits returns the limits in force.
func (c *Core) Limits(context.Context) (api.Limits, error) {
	s, err := c.store.Settings()
	if err != nil {
		return api.Limits{}, err
	}
	l := api.Limits{MaxPending: s.MaxPending, MaxSessions: s.MaxSessions, BodyTimeout: s.BodyTimeout}
	if l.MaxPending == 0 {
		l.MaxPending = DefaultMaxPending
	}
	if l.MaxSessions == 0 {
		l.MaxSessions = DefaultMaxSessions
	}
	if l.BodyTimeout == 0 {
		l.BodyTimeout = DefaultBodyTimeout
	}
	return l, nil
}

// SetLimits stores and applies new limits; a zero field keeps its value.
func (c *Core) SetLimits(_ context.Context, l api.Limits) error {
	switch {
	case l.MaxPending < 0 || l.MaxPending > 1000:
		return errors.New("calls waiting for approval: give 1 to 1000")
	case l.MaxSessions < 0 || l.MaxSessions > 10000:
		return errors.New("open sessions: give 1 to 10000")
	case l.BodyTimeout < 0 || l.BodyTimeout > 10*time.Minute || (l.BodyTimeout > 0 && l.BodyTimeout < time.Second):
		return errors.New("time to send a request: give 1s to 10m")
	}
	c.mu.Lock()
	s, err := c.store.Settings()
	if err == nil {
		if l.MaxPending > 0 {
			s.MaxPending = l.MaxPending
		}
		if l.MaxSessions > 0 {
			s.MaxSessions = l.MaxSessions
		}
		if l.BodyTimeout > 0 {
			s.BodyTimeout = l.BodyTimeout
		}
		err = c.store.PutSettings(s)
	}
	c.mu.Unlock()
	if err != nil {
		return err
	}
	c.changes.publish(api.Change{Topic: api.SettingsChanged})
	return nil
}
