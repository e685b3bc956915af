package core

import (
	"context"
	"errors"
	"slices"
	"sync"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// Server is the MCP server as the core drives it, attached by the root.
type Server interface {
	// Changed applies one change, synchronously: a rotated token no longer
	// opens its vault once RotateToken has returned. It must not block.
	Changed(api.Change)
	// Sessions counts the agents' open sessions, by vault id.
	Sessions() map[string]int
	// Explain decides a call of tool in vault id as the server would now,
	// with every reason.
	Explain(ctx context.Context, id, tool string, e api.ExplainSpec) (policy.Explanation, error)
}

// changes delivers the core's changes: synchronously to the attached
// server, and through a buffered channel to each subscriber (a window that
// redraws), which may miss changes when it falls behind but then always
// has the newest one still coming.
type changes struct {
	mu     sync.RWMutex
	server Server
	subs   []chan api.Change
}

// publish tells everyone of ch.
func (cs *changes) publish(ch api.Change) {
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
func (c *Core) Subscribe() (<-chan api.Change, func()) {
	ch := make(chan api.Change, 64)
	c.changes.mu.Lock()
	c.changes.subs = append(c.changes.subs, ch)
	c.changes.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			c.changes.mu.Lock()
			c.changes.subs = slices.DeleteFunc(c.changes.subs, func(s chan api.Change) bool { return s == ch })
			c.changes.mu.Unlock()
			close(ch)
		})
	}
}

// ErrNotServing is the error of what only the running server can answer.
var ErrNotServing = errors.New("AgentVault is not serving vaults here")

// explain asks the attached server to explain a call.
func (cs *changes) explain(ctx context.Context, id, tool string, e api.ExplainSpec) (policy.Explanation, error) {
	cs.mu.RLock()
	s := cs.server
	cs.mu.RUnlock()
	if s == nil {
		return policy.Explanation{}, ErrNotServing
	}
	return s.Explain(ctx, id, tool, e)
}

// sessions counts the attached server's open sessions by vault id (none
// without one).
func (cs *changes) sessions() map[string]int {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	if cs.server == nil {
		return nil
	}
	return cs.server.Sessions()
}
