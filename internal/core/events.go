package core

import (
	"slices"
	"sync"
)

// Topic says what part of the core a Change is about.
type Topic string

// The topics of changes.
const (
	// VaultChanged: a vault was created, changed or (Removed) deleted.
	VaultChanged Topic = "vault"
	// ServiceChanged: a service was added, connected, removed or reviewed,
	// or its tools changed upstream.
	ServiceChanged Topic = "service"
	// ApprovalsChanged: a call started waiting for approval, or was answered.
	ApprovalsChanged Topic = "approvals"
	// SettingsChanged: pause, limits or the Auth0 setup changed.
	SettingsChanged Topic = "settings"
)

// Change is one change to what the core keeps.
type Change struct {
	Topic Topic `json:"topic"`
	// Vault is the id of the vault that changed; Removed says it was
	// deleted.
	Vault   string `json:"vault,omitempty"`
	Removed bool   `json:"removed,omitempty"`
	// Service is the name of the service that changed.
	Service string `json:"service,omitempty"`
}

// Server is the MCP server as the core drives it, attached by the root.
type Server interface {
	// Changed applies one change, synchronously: a rotated token no longer
	// opens its vault once RotateToken has returned. It must not block.
	Changed(Change)
	// Sessions counts the agents' open sessions.
	Sessions() int
}

// changes delivers the core's changes: synchronously to the attached
// server, and through a buffered channel to each subscriber (a window that
// redraws), which may miss changes when it falls behind but then always
// has the newest one still coming.
type changes struct {
	mu     sync.RWMutex
	server Server
	subs   []chan Change
}

// publish tells everyone of ch.
func (cs *changes) publish(ch Change) {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	if cs.server != nil {
		cs.server.Changed(ch)
	}
	for _, s := range cs.subs {
		select {
		case s <- ch:
		default:
		}
	}
}

// Attach makes s follow the core's changes from now on (the root attaches
// the MCP server, then loads every vault into it); detach ends that.
func (c *Core) Attach(s Server) (detach func()) {
	c.changes.mu.Lock()
	c.changes.server = s
	c.changes.mu.Unlock()
	return func() {
		c.changes.mu.Lock()
		if c.changes.server == s {
			c.changes.server = nil
		}
		c.changes.mu.Unlock()
	}
}

// Subscribe returns a channel of the core's changes and a function that
// ends the subscription. A subscriber that falls behind misses changes,
// never blocks the core; it should re-read what it shows on any change.
func (c *Core) Subscribe() (<-chan Change, func()) {
	ch := make(chan Change, 64)
	c.changes.mu.Lock()
	c.changes.subs = append(c.changes.subs, ch)
	c.changes.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.changes.mu.Lock()
			c.changes.subs = slices.DeleteFunc(c.changes.subs, func(s chan Change) bool { return s == ch })
			c.changes.mu.Unlock()
			close(ch)
		})
	}
}

// sessions counts the attached server's open sessions (0 without one).
func (cs *changes) sessions() int {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	if cs.server == nil {
		return 0
	}
	return cs.server.Sessions()
}
