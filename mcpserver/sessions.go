package mcpserver

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"sync"

	"github.com/mark3labs/mcp-go/server"
)

// sessionIDs issues unguessable session ids for one vault and remembers only
// the live ones: an id from another vault, a terminated or an expired session
// is unknown, and nothing accumulates as sessions come and go.
type sessionIDs struct {
	mu   sync.Mutex
	live map[string]struct{}
}

var _ server.SessionIdManager = (*sessionIDs)(nil)

var errUnknownSession = errors.New("unknown session")

func newSessionIDs() *sessionIDs { return &sessionIDs{live: map[string]struct{}{}} }

func (s *sessionIDs) Generate() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "av-" + hex.EncodeToString(b[:])
	s.mu.Lock()
	s.live[id] = struct{}{}
	s.mu.Unlock()
	return id
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
