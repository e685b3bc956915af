package signin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
)

// memStore is a secrets.Store in memory whose saves are logged, with the
// refresh token they save, to events (when set).
type memStore struct {
	secretstest.Memory
	events *events
}

var _ secrets.Store = (*memStore)(nil)

func newStore() *memStore { return &memStore{} }

// Set implements secrets.Store.
func (s *memStore) Set(key, value string) error {
	if err := s.Memory.Set(key, value); err != nil {
		return err
	}
	if s.events != nil {
		var tok oauth2.Token
		_ = json.Unmarshal([]byte(value), &tok)
		s.events.add("saved " + tok.RefreshToken)
	}
	return nil
}

// put stores raw under key as it is, parsable or not.
func (s *memStore) put(t *testing.T, key, raw string) {
	t.Helper()
	if err := s.Set(key, raw); err != nil {
		t.Fatal(err)
	}
}

// token reads back what the store holds under key.
func (s *memStore) token(t *testing.T, key string) *oauth2.Token {
	t.Helper()
	raw, err := s.Get(key)
	if err != nil {
		t.Fatalf("store: %v", err)
	}
	var tok oauth2.Token
	if err := json.Unmarshal([]byte(raw), &tok); err != nil {
		t.Fatal(err)
	}
	return &tok
}

// save puts tok in the store, as a sign-in would.
func (s *memStore) save(t *testing.T, key string, tok *oauth2.Token) {
	t.Helper()
	if err := Save(s, key, tok); err != nil {
		t.Fatal(err)
	}
}

// events is an ordered log shared by fakes, stores and tests.
type events struct {
	mu  sync.Mutex
	log []string
}

func (e *events) add(s string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.log = append(e.log, s)
}

func (e *events) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.log...)
}

var errKeychainLocked = errors.New("the keychain is locked")

// s256 is the PKCE S256 challenge of verifier (RFC 7636 §4.2).
func s256(verifier string) string {
	sum := sha256.Sum256([]byte(verifier))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// browser plays the user in the system browser: it records the
// authorization URL's query in *authorized, then, instead of a consent
// screen, follows the redirect to the loopback callback with the given
// answer (e.g. code=…) and the URL's state.
func browser(t *testing.T, authorized *url.Values, answer url.Values) func(string) error {
	return func(raw string) error {
		u, err := url.Parse(raw)
		if err != nil {
			t.Errorf("authorization URL %q: %v", raw, err)
			return err
		}
		*authorized = u.Query()
		q := url.Values{"state": {u.Query().Get("state")}}
		for k, v := range answer {
			q[k] = v
		}
		cb := &http.Client{Timeout: 5 * time.Second}
		resp, err := cb.Get(u.Query().Get("redirect_uri") + "?" + q.Encode())
		if err != nil {
			t.Errorf("following the redirect: %v", err)
			return nil
		}
		resp.Body.Close()
		return nil
	}
}

// checkAuthorizeURL checks the parameters every authorization URL here
// carries, and the wanted extra ones.
func checkAuthorizeURL(t *testing.T, q url.Values, clientID string, want map[string]string) {
	t.Helper()
	if q.Get("response_type") != "code" || q.Get("client_id") != clientID || len(q.Get("state")) < 32 {
		t.Errorf("authorization URL: response_type %q, client_id %q, state %q", q.Get("response_type"), q.Get("client_id"), q.Get("state"))
	}
	if !strings.HasPrefix(q.Get("redirect_uri"), "http://127.0.0.1:") || !strings.HasSuffix(q.Get("redirect_uri"), "/callback") {
		t.Errorf("redirect_uri %q is not a loopback callback", q.Get("redirect_uri"))
	}
	for k, v := range want {
		if q.Get(k) != v {
			t.Errorf("authorization URL: %s = %q, want %q", k, q.Get(k), v)
		}
	}
}

// checkPKCE checks that the verifier sent to the token endpoint matches the
// S256 challenge of the authorization URL.
func checkPKCE(t *testing.T, authorized url.Values, verifier string) {
	t.Helper()
	if authorized.Get("code_challenge_method") != "S256" {
		t.Errorf("code_challenge_method %q, want S256", authorized.Get("code_challenge_method"))
	}
	if verifier == "" || s256(verifier) != authorized.Get("code_challenge") {
		t.Errorf("code_verifier %q does not match code_challenge %q", verifier, authorized.Get("code_challenge"))
	}
}

// signInFailed checks a sign-in's outcome against wantErr and reports
// whether it failed as wanted: with wantErr, no token and an error that
// contains it; without, no error.
func signInFailed(t *testing.T, tok *oauth2.Token, err error, wantErr string) bool {
	t.Helper()
	if wantErr == "" {
		if err != nil {
			t.Fatal(err)
		}
		return false
	}
	if tok != nil || err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("SignIn = %v, %v; want %q", tok, err, wantErr)
	}
	return true
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
