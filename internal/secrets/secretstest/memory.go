// Package secretstest provides an in-memory secrets.Store for tests of the
// packages that keep credentials through internal/secrets, so they need
// neither a keychain service nor a secrets file. It depends only on
// internal/secrets.
//
// It must never be linked into the product binary.
package secretstest

import (
	"sync"

	"github.com/agentvault/agentvault/internal/secrets"
)

// Memory is a secrets.Store in memory, safe for concurrent use. The zero
// value is an empty store.
type Memory struct {
	mu      sync.Mutex
	m       map[string]string
	failSet error
}

var _ secrets.Store = (*Memory)(nil)

// Get implements secrets.Store: a missing key is secrets.ErrNotFound.
func (s *Memory) Get(key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[key]
	if !ok {
		return "", secrets.ErrNotFound
	}
	return v, nil
}

// Set implements secrets.Store; it fails, storing nothing, while FailSets
// has set an error.
func (s *Memory) Set(key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failSet != nil {
		return s.failSet
	}
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
	return nil
}

// Delete implements secrets.Store; deleting a missing key is not an error.
func (s *Memory) Delete(key string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, key)
	return nil
}

// FailSets makes every later Set return err, as a locked keychain would;
// nil lets Sets succeed again. Get and Delete are not affected.
func (s *Memory) FailSets(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failSet = err
}
