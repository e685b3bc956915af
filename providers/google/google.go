// Package google offers Google Workspace as AgentVault tools from one Google
// connection: Gmail (gmail_*), Calendar (calendar_*) and Drive (drive_*),
// through the generated clients of google.golang.org/api.
//
// It holds no credential of its own: every request goes through the
// authenticated HTTP client it is given, and the services are built with
// that client and an explicit endpoint, so no Application Default
// Credentials, API key or metadata server is ever looked up. Permanent
// deletion is never offered: Gmail messages and Drive files can only be
// moved to the trash.
package google

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"time"

	calendar "google.golang.org/api/calendar/v3"
	drive "google.golang.org/api/drive/v3"
	gmail "google.golang.org/api/gmail/v1"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Config connects the provider to Google.
type Config struct {
	// HTTPClient adds the OAuth bearer token to every request; required.
	// The provider never sees the token.
	HTTPClient *http.Client
	// BaseURL replaces Google's hosts for all three APIs (tests): requests go
	// to BaseURL + the real path, e.g. /gmail/v1/users/me/messages,
	// /calendar/v3/calendars/primary/events, /drive/v3/files and
	// /upload/drive/v3/files. "": Google's own endpoints.
	BaseURL string
	// Granted are the connection's OAuth scopes as full URLs (e.g.
	// https://www.googleapis.com/auth/gmail.readonly); nil: unknown, and
	// every tool is offered.
	Granted []string
}

const service = "Google"

// New returns the Google Workspace provider.
func New(cfg Config) (*apitool.Provider, error) {
	return build(cfg, time.Now)
}

// build is New with the clock calendar_list_events reads its default
// timeMin from.
func build(cfg Config, now func() time.Time) (*apitool.Provider, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("google: an authenticated HTTP client is required")
	}
	endpoint := func(path string) []option.ClientOption {
		opts := []option.ClientOption{option.WithHTTPClient(cfg.HTTPClient)}
		if cfg.BaseURL != "" {
			opts = append(opts, option.WithEndpoint(strings.TrimSuffix(cfg.BaseURL, "/")+path))
		}
		return opts
	}
	// The generated clients join their own paths to the endpoint: Gmail's
	// start with gmail/v1/, Calendar's and Drive's are relative to
	// calendar/v3/ and drive/v3/ (Drive uploads use the absolute
	// /upload/drive/v3/).
	ctx := context.Background() // used only to build the transport
	gm, err := gmail.NewService(ctx, endpoint("/")...)
	if err != nil {
		return nil, fmt.Errorf("google: gmail: %w", err)
	}
	cal, err := calendar.NewService(ctx, endpoint("/calendar/v3/")...)
	if err != nil {
		return nil, fmt.Errorf("google: calendar: %w", err)
	}
	dr, err := drive.NewService(ctx, endpoint("/drive/v3/")...)
	if err != nil {
		return nil, fmt.Errorf("google: drive: %w", err)
	}
	var tools []apitool.Tool
	tools = append(tools, gmailTools(gm)...)
	tools = append(tools, calendarTools(cal, now)...)
	tools = append(tools, driveTools(dr)...)
	return apitool.New(service, tools, cfg.Granted), nil
}

// idPattern is the spelling of Gmail, Calendar event and Drive ids: no
// slash, no dot, so a value cannot name another API path.
const idPattern = `^[A-Za-z0-9_-]+$`

// Error reasons Google gives for rate and quota limits, in
// googleapi.Error.Errors[].Reason.
var rateReasons = []string{"rateLimitExceeded", "userRateLimitExceeded", "quotaExceeded", "dailyLimitExceeded", "sharingRateLimitExceeded"}

// classify turns the client's *googleapi.Error into a failure the agent can
// act on; scopes are the calling tool's, the first (narrowest) named when
// the token lacks a scope. Anything else (network, 5xx) stays an
// infrastructure error.
func classify(err error, scopes []string) error {
	var ge *googleapi.Error
	if !errors.As(err, &ge) {
		return err
	}
	msg := ge.Message
	if msg == "" {
		msg = http.StatusText(ge.Code)
	}
	reasons := errorReasons(ge)
	status := ge.Code
	if status == http.StatusForbidden {
		switch {
		case slices.ContainsFunc(rateReasons, func(r string) bool { return slices.Contains(reasons, r) }):
			status = http.StatusTooManyRequests // Google's 403 rate limits
		case slices.Contains(reasons, "exportSizeLimitExceeded"):
			status = http.StatusBadRequest // a Doc too large to export: no permission would help
		}
	}
	out := apitool.FromStatus(service, status, ge.Header, msg)
	var e *apitool.Error
	if errors.As(out, &e) {
		switch e.Kind {
		case apitool.Permission:
			if len(scopes) > 0 && (slices.Contains(reasons, "insufficientPermissions") || slices.Contains(reasons, "ACCESS_TOKEN_SCOPE_INSUFFICIENT") ||
				strings.Contains(ge.Header.Get("WWW-Authenticate"), "insufficient_scope")) {
				e.Scope = scopes[0]
			}
		case apitool.NotFound:
			e.Message += " (or not visible to the connected account)"
		}
	}
	return out
}

// errorReasons collects the reasons of a Google error: the legacy
// errors[].reason and the google.rpc.ErrorInfo reason in details.
func errorReasons(ge *googleapi.Error) []string {
	var out []string
	for _, item := range ge.Errors {
		out = append(out, item.Reason)
	}
	for _, d := range ge.Details {
		if m, ok := d.(map[string]any); ok {
			if r, ok := m["reason"].(string); ok {
				out = append(out, r)
			}
		}
	}
	return out
}

// searchCall is a list request that takes a search query and a page token
// (Gmail's messages.list, Calendar's events.list, Drive's files.list).
type searchCall[C any] interface {
	Q(q string) C
	PageToken(pageToken string) C
}

// withSearch passes the q and pageToken arguments, when given, on to call.
func withSearch[C searchCall[C]](call C, a apitool.Args) C {
	if q := a.String("q"); q != "" {
		call.Q(q)
	}
	if t := a.String("pageToken"); t != "" {
		call.PageToken(t)
	}
	return call
}

// invalid is a request refused before it reaches Google.
func invalid(format string, args ...any) error {
	return &apitool.Error{Kind: apitool.Invalid, Service: service, Message: fmt.Sprintf(format, args...)}
}

// plainAddress checks that s is exactly one plain email address (no display
// name, no list, printable ASCII), the form argument guards compare, so
// what is checked is what is sent.
func plainAddress(s string) error {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s || strings.ContainsFunc(s, func(r rune) bool { return r <= ' ' || r > '~' }) {
		return invalid("%q is not a single plain email address (write name@example.com, without a display name)", s)
	}
	return nil
}

// addressResources are the addresses of the named array arguments, one
// Resource of kind each.
func addressResources(kind policy.Kind, names ...string) func(apitool.Args) []policy.Resource {
	return func(a apitool.Args) []policy.Resource {
		var out []policy.Resource
		for _, n := range names {
			for _, addr := range a.Strings(n) {
				out = append(out, policy.Resource{Kind: kind, Value: addr})
			}
		}
		return out
	}
}
