package apitool

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers"
)

// Kind classifies a failure the agent or the user can act on.
type Kind int

// The failures a tool reports to the agent.
const (
	// Invalid: the request was wrong (bad value, conflict); fix and retry.
	Invalid Kind = iota
	// NotFound: the thing does not exist or is not visible to the account.
	NotFound
	// Permission: the account or the connection's scopes do not allow it.
	Permission
	// RateLimited: the service asks to wait until Reset.
	RateLimited
	// Reconnect: the credential was revoked or expired; the user must
	// connect the service again.
	Reconnect
)

// Error is a failure reported to the agent as a tool error, not as an
// infrastructure error.
type Error struct {
	Kind    Kind
	Service string // for people: "GitHub"
	// Message is the service's own explanation, safe to show.
	Message string
	// Reset is when a rate limit ends (zero: unknown).
	Reset time.Time
	// Scope is the scope that would allow the call, when known.
	Scope string
}

func (e *Error) Error() string {
	var b strings.Builder
	switch e.Kind {
	case NotFound:
		fmt.Fprintf(&b, "%s: not found", e.Service)
	case Permission:
		fmt.Fprintf(&b, "%s: permission denied", e.Service)
		if e.Scope != "" {
			fmt.Fprintf(&b, " (the connection lacks the %q scope: reconnect %s in AgentVault and grant it)", e.Scope, e.Service)
		}
	case RateLimited:
		fmt.Fprintf(&b, "%s: rate limited", e.Service)
		if !e.Reset.IsZero() {
			fmt.Fprintf(&b, "; retry after %s (in %s)", e.Reset.UTC().Format(time.RFC3339), time.Until(e.Reset).Round(time.Second))
		}
	case Reconnect:
		fmt.Fprintf(&b, "%s refused AgentVault's credential: ask the user to reconnect %[1]s in AgentVault", e.Service)
	default:
		fmt.Fprintf(&b, "%s refused the request", e.Service)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return b.String()
}

// FromStatus classifies a service's HTTP error answer. A 5xx or an
// unexpected status is an infrastructure error (returned as a plain error,
// logged in full, shown short).
func FromStatus(service string, status int, h http.Header, message string) error {
	e := &Error{Service: service, Message: message}
	switch {
	case status == http.StatusUnauthorized:
		e.Kind = Reconnect
	case status == http.StatusTooManyRequests || (status == http.StatusForbidden && (h.Get("Retry-After") != "" || h.Get("X-RateLimit-Remaining") == "0")):
		e.Kind, e.Reset = RateLimited, resetTime(h)
	case status == http.StatusForbidden:
		e.Kind = Permission
	case status == http.StatusNotFound || status == http.StatusGone:
		e.Kind = NotFound
	case status >= 400 && status < 500:
		e.Kind = Invalid
	default:
		return fmt.Errorf("%s answered HTTP %d: %s", service, status, message)
	}
	return e
}

// resetTime reads Retry-After (seconds) or X-RateLimit-Reset (Unix time).
func resetTime(h http.Header) time.Time {
	if s, err := strconv.Atoi(h.Get("Retry-After")); err == nil {
		return time.Now().Add(time.Duration(s) * time.Second)
	}
	if s, err := strconv.ParseInt(h.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		return time.Unix(s, 0)
	}
	return time.Time{}
}

// failure turns a handler's error into what the agent sees: its own
// failures as tool errors, anything else as an infrastructure error.
func (p *Provider) failure(err error) (*mcp.CallToolResult, error) {
	var e *Error
	if !errors.As(err, &e) {
		if !errors.Is(err, providers.ErrReconnect) {
			return nil, err
		}
		e = &Error{Kind: Reconnect, Service: p.service}
	}
	if e.Kind == Reconnect {
		now := time.Now()
		p.refused.Store(&now)
	}
	return mcp.NewToolResultError(e.Error()), nil
}
