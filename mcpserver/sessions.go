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
	max   func() int                    // how many may be open at once
	ended func(id string, evicted bool) // hears of each session that ends
}

type liveSession struct {
	seen   atomic.Int64 // when mcp-go last handled a request of it, Unix nanoseconds
	used   atomic.Int64 // when any request of it last came
	client atomic.Pointer[string]
}

var _ server.SessionIdManager = (*sessionIDs)(nil)

var errUnknownSession = errors.New("unknown session")

// newSessionIDs returns the sessions of one vault, at most max() open at
// once; ended hears of each session that ends, and whether it was evicted
// to make room for a new one.
func newSessionIDs(max func() int, ended func(id string, evicted bool)) *sessionIDs {
	return &sessionIDs{live: map[string]*liveSession{}, max: max, ended: ended}
}

// Generate implements server.SessionIdManager. When the vault has its
// maximum of sessions open, the one idle longest ends first.
func (s *sessionIDs) Generate() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	id := "av-" + hex.EncodeToString(b[:])
	ls := new(liveSession)
	now := time.Now().UnixNano()
	ls.seen.Store(now)
	ls.used.Store(now)
	var evicted []string
	s.mu.Lock()
	for len(s.live) >= s.max() {
		oldest, at := "", int64(0)
		for lid, l := range s.live {
			if u := l.used.Load(); oldest == "" || u < at {
				oldest, at = lid, u
			}
		}
		delete(s.live, oldest)
		evicted = append(evicted, oldest)
	}
	s.live[id] = ls
	s.mu.Unlock()
	for _, old := range evicted {
		s.ended(old, true)
	}
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
		now := time.Now().UnixNano()
		ls.seen.Store(now)
		ls.used.Store(now)
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
	if ls == nil {
		return "", false
	}
	now := time.Now()
	ls.used.Store(now.UnixNano())
	if now.Sub(time.Unix(0, ls.seen.Load())) > maxIdle {
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
		s.ended(id, false)
	}
	return false, nil
}

func (s *sessionIDs) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}
