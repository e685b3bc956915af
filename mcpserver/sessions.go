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
// keeps when mcp-go last handled one of its requests: mcp-go ends sessions it
// has not seen for the idle timeout, so requests AgentVault answers itself
// must let mcp-go see the session now and then. And it keeps the agent's
// name from the session's initialize, for the audit records of those requests.
type sessionIDs struct {
	mu    sync.Mutex
	live  map[string]*liveSession
	ended func(id string) // hears of each session that ends
}

type liveSession struct {
	seen   atomic.Int64 // Unix nanoseconds
	client atomic.Pointer[string]
}

var _ server.SessionIdManager = (*sessionIDs)(nil)

var errUnknownSession = errors.New("unknown session")

// newSessionIDs returns the sessions of one vault; ended hears of each
// session that ends.
func newSessionIDs(ended func(id string)) *sessionIDs {
	return &sessionIDs{live: map[string]*liveSession{}, ended: ended}
}

func (s *sessionIDs) Generate() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "av-" + hex.EncodeToString(b[:])
	ls := new(liveSession)
	ls.seen.Store(time.Now().UnixNano())
	s.mu.Lock()
	s.live[id] = ls
	s.mu.Unlock()
	return id
}

func (s *sessionIDs) get(id string) *liveSession {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.live[id]
}

// seen records that mcp-go is handling a request of session id now.
func (s *sessionIDs) seen(id string) {
	if ls := s.get(id); ls != nil {
		ls.seen.Store(time.Now().UnixNano())
	}
}

// setClient records the agent's name and version on session id.
func (s *sessionIDs) setClient(id, client string) {
	if ls := s.get(id); ls != nil {
		ls.client.Store(&client)
	}
}

// recent returns the agent's name on session id, if the session is live
// and mcp-go handled one of its requests less than maxIdle ago.
func (s *sessionIDs) recent(id string, maxIdle time.Duration) (client string, ok bool) {
	ls := s.get(id)
	if ls == nil || time.Since(time.Unix(0, ls.seen.Load())) > maxIdle {
		return "", false
	}
	if c := ls.client.Load(); c != nil {
		client = *c
	}
	return client, true
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
	_, ok := s.live[id]
	delete(s.live, id)
	s.mu.Unlock()
	if ok {
		s.ended(id)
	}
	return false, nil
}

func (s *sessionIDs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}
