package mcpserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/server"
)

// sessionIDs issues unguessable session ids for one vault and remembers only
// the live ones: an id from another vault, a terminated or an expired session
// is unknown, and nothing accumulates as sessions come and go. For each it
// keeps when mcp-go last handled one of its requests (Unix nanoseconds):
// mcp-go ends sessions it has not seen for the idle timeout, so requests
// AgentVault answers itself must let mcp-go see the session now and then.
type sessionIDs struct {
	mu   sync.Mutex
	live map[string]*atomic.Int64
}

var _ server.SessionIdManager = (*sessionIDs)(nil)

var errUnknownSession = errors.New("unknown session")

func newSessionIDs() *sessionIDs { return &sessionIDs{live: map[string]*atomic.Int64{}} }

func (s *sessionIDs) Generate() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "av-" + hex.EncodeToString(b[:])
	seen := new(atomic.Int64)
	seen.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.live[id] = seen
	s.mu.Unlock()
	return id
}

// seen records that mcp-go is handling a request of session id now.
func (s *sessionIDs) seen(id string) {
	s.mu.Lock()
	t := s.live[id]
	s.mu.Unlock()
	if t != nil {
		t.Store(time.Now().UnixNano())
	}
}

// lastSeen is when mcp-go last handled a request of session id, and
// whether the session is live.
func (s *sessionIDs) lastSeen(id string) (time.Time, bool) {
	s.mu.Lock()
	t := s.live[id]
	s.mu.Unlock()
	if t == nil {
		return time.Time{}, false
	}
	return time.Unix(0, t.Load()), true
}

func (s *sessionIDs) Validate(id string) (isTerminated bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.live[id]; !ok {
		return false, errUnknownSession
	}
	return false, nil
}

func (s *sessionIDs) Terminate(id string) (isNotAllowed bool, err error) {
	s.mu.Lock()
	delete(s.live, id)
	s.mu.Unlock()
	return false, nil
}

func (s *sessionIDs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}
