// Package redact keeps the secret values AgentVault was configured with —
// header values, OAuth and API tokens, credentials in service URLs,
// secret-looking environment values — and replaces them with "[redacted]"
// in text on its way out of AgentVault: results, errors and progress sent to
// agents, audit records, the log.
//
// Each value is matched as written and in its JSON-escaped forms, so an
// echo inside a JSON string is found too. Encoded (base64, URL-escaped) or
// split echoes are not: redaction is a safety net for servers that repeat
// what they were given, not a guarantee against one that hides it.
//
// A Set is safe for concurrent use; reading it takes no lock.
//
// It must never log or return a secret it holds.
package redact

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Mask replaces a secret.
const Mask = "[redacted]"

// MinLength is the shortest value redacted: shorter ones would match
// ordinary text, and are not credentials worth the damage.
const MinLength = 8

// Set is the secrets to redact, grouped by who configured them (a service,
// a session) so that a group can be replaced when its secrets change.
type Set struct {
	mu     sync.Mutex // serialises changes
	groups map[string][]string
	all    atomic.Pointer[[][]byte] // every form of every value, longest first
}

// Put replaces the values of group (nil or none: removes it). Values
// shorter than MinLength are ignored; an Authorization-style value
// ("Bearer X", "Basic X") also adds its credential part X, and for Basic
// the decoded user:password and password.
func (s *Set) Put(group string, values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.groups == nil {
		s.groups = map[string][]string{}
	}
	var kept []string
	for _, v := range values {
		kept = append(kept, expand(v)...)
	}
	if len(kept) == 0 {
		delete(s.groups, group)
	} else {
		s.groups[group] = kept
	}
	s.compile()
}

// Add adds values to group, keeping its others.
func (s *Set) Add(group string, values ...string) {
	s.mu.Lock()
	old := slices.Clone(s.groups[group])
	s.mu.Unlock()
	s.Put(group, append(old, values...)...)
}

// Drop removes every group whose name starts with prefix.
func (s *Set) Drop(prefix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	maps.DeleteFunc(s.groups, func(g string, _ []string) bool { return strings.HasPrefix(g, prefix) })
	s.compile()
}

// compile rebuilds the list of forms matched; s.mu is held.
func (s *Set) compile() {
	seen := map[string]bool{}
	var forms [][]byte
	for _, values := range s.groups {
		for _, v := range values {
			for _, f := range variants(v) {
				if !seen[f] {
					seen[f] = true
					forms = append(forms, []byte(f))
				}
			}
		}
	}
	// Longest first: a secret that contains another is replaced whole.
	slices.SortFunc(forms, func(a, b []byte) int { return len(b) - len(a) })
	s.all.Store(&forms)
}

// expand returns the values of v worth matching.
func expand(v string) []string {
	v = strings.TrimSpace(v)
	if len(v) < MinLength {
		return nil
	}
	out := []string{v}
	scheme, cred, ok := strings.Cut(v, " ")
	if !ok || strings.ContainsAny(scheme, "=:/") {
		return out
	}
	cred = strings.TrimSpace(cred)
	if len(cred) >= MinLength {
		out = append(out, cred)
	}
	if strings.EqualFold(scheme, "Basic") {
		if raw, err := base64.StdEncoding.DecodeString(cred); err == nil {
			pair := string(raw)
			if len(pair) >= MinLength {
				out = append(out, pair)
			}
			if _, pass, ok := strings.Cut(pair, ":"); ok && len(pass) >= MinLength {
				out = append(out, pass)
			}
		}
	}
	return out
}

// variants are the forms of v as text may carry it: raw, and escaped inside
// a JSON string by encoders with and without HTML escaping and with "\/".
func variants(v string) []string {
	out := []string{v}
	add := func(f string) {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	plain := strings.TrimSpace(b.String())
	plain = plain[1 : len(plain)-1]
	add(plain)
	html, _ := json.Marshal(v)
	add(string(html[1 : len(html)-1]))
	add(strings.ReplaceAll(plain, "/", `\/`))
	return out
}

// Empty reports whether there is nothing to redact.
func (s *Set) Empty() bool {
	forms := s.all.Load()
	return forms == nil || len(*forms) == 0
}

// Bytes returns b with every secret replaced, and whether any was. b is
// returned as it is when nothing matched; otherwise a new slice.
func (s *Set) Bytes(b []byte) ([]byte, bool) {
	forms := s.all.Load()
	if forms == nil {
		return b, false
	}
	found := false
	for _, f := range *forms {
		if bytes.Contains(b, f) {
			b = bytes.ReplaceAll(b, f, []byte(Mask))
			found = true
		}
	}
	return b, found
}

// String returns str with every secret replaced.
func (s *Set) String(str string) string {
	forms := s.all.Load()
	if forms == nil {
		return str
	}
	for _, f := range *forms {
		if strings.Contains(str, string(f)) {
			str = strings.ReplaceAll(str, string(f), Mask)
		}
	}
	return str
}

// Contains reports whether str holds a secret.
func (s *Set) Contains(str string) bool { return s.String(str) != str }

// Error returns err with its message redacted; errors.Is and errors.As still
// see what it wraps. nil stays nil.
func (s *Set) Error(err error) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	if clean := s.String(msg); clean != msg {
		return &redactedError{msg: clean, err: err}
	}
	return err
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
