package google

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/api/googleapi"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/apitool"
	"github.com/agentvault/agentvault/providers/providertest"
)

type x = providertest.Exchange

// now is the test clock: calendar_list_events's default timeMin.
var now = func() time.Time { return time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC) }

// fixedBoundary rewrites the random boundary of multipart uploads to
// "BOUNDARY", so the fake service can compare the body byte for byte.
type fixedBoundary struct{}

func (fixedBoundary) RoundTrip(r *http.Request) (*http.Response, error) {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") || r.Body == nil {
		return http.DefaultTransport.RoundTrip(r)
	}
	body, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	body = bytes.ReplaceAll(body, []byte(params["boundary"]), []byte("BOUNDARY"))
	r = r.Clone(r.Context())
	r.Body, r.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	r.Header.Set("Content-Type", mt+"; boundary=BOUNDARY")
	return http.DefaultTransport.RoundTrip(r)
}

func newProvider(t *testing.T, url string) providers.Provider {
	p, err := build(Config{HTTPClient: &http.Client{Transport: fixedBoundary{}}, BaseURL: url}, now)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToolSnapshots(t *testing.T) { providertest.Snapshots(t, newProvider(t, "http://127.0.0.1:1")) }

func TestToolsOnTheWire(t *testing.T) {
	providertest.RunCases(t, newProvider, slices.Concat(gmailCases, calendarCases, driveCases))
}

func TestNewNeedsAClient(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("New without an HTTP client succeeded")
	}
	if _, err := New(Config{HTTPClient: http.DefaultClient}); err != nil {
		t.Fatalf("New with Google's endpoints: %v", err)
	}
}

func TestArgumentsAreStrict(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1")
	for _, tc := range []struct {
		name, tool string
		args       map[string]any
	}{
		{"case-smuggled key", "gmail_send_message", map[string]any{"To": []any{"evil@example.net"}, "to": []any{"ann@example.com"}}},
		{"address list as a string", "gmail_send_message", map[string]any{"to": "ann@example.com, evil@example.net"}},
		{"number in an address array", "gmail_create_draft", map[string]any{"to": []any{"ann@example.com", 5.0}}},
		{"wrong type", "calendar_create_event", map[string]any{"summary": 1.0, "start": "2026-11-02", "end": "2026-11-03"}},
		{"missing required", "calendar_create_event", map[string]any{"summary": "Review", "start": "2026-11-02"}},
		{"calendar id with a path", "calendar_get_event", map[string]any{"calendarId": "primary/../other", "eventId": "abc"}},
		{"event id with a slash", "calendar_delete_event", map[string]any{"eventId": "abc/def"}},
		{"file id with dots", "drive_trash_file", map[string]any{"fileId": ".."}},
		{"role outside the enum", "drive_share_file", map[string]any{"fileId": "f1", "emailAddress": "ann@example.com", "role": "owner"}},
		{"fractional page size", "drive_search_files", map[string]any{"pageSize": 2.5}},
	} {
		res, err := p.Call(t.Context(), tc.tool, tc.args, nil)
		if err != nil || !res.IsError {
			t.Errorf("%s: %v %+v", tc.name, err, res)
		}
		if _, err := p.(providers.Guarded).Resources(tc.tool, tc.args); err == nil {
			t.Errorf("%s: resources read from arguments the call refuses", tc.name)
		}
	}
}

func TestResources(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1").(providers.Guarded)
	rcpt := func(v string) policy.Resource { return policy.Resource{Kind: policy.Recipient, Value: v} }
	cal := func(v string) policy.Resource { return policy.Resource{Kind: policy.Calendar, Value: v} }
	for _, tc := range []struct {
		tool string
		args map[string]any
		want []policy.Resource
	}{
		{"gmail_send_message", map[string]any{"to": []any{"ann@example.com", "bob@example.org"}, "cc": []any{"cy@acme.com"}, "bcc": []any{"dee@evil.net"}},
			[]policy.Resource{rcpt("ann@example.com"), rcpt("bob@example.org"), rcpt("cy@acme.com"), rcpt("dee@evil.net")}},
		{"gmail_create_draft", map[string]any{"bcc": []any{"Ann <ann@example.com>"}}, []policy.Resource{rcpt("Ann <ann@example.com>")}},
		{"gmail_create_draft", map[string]any{"subject": "no one yet"}, nil},
		{"gmail_search_messages", map[string]any{"q": "to:ann@example.com"}, nil},
		{"gmail_trash_message", map[string]any{"id": "18c2a1"}, nil},
		{"calendar_list_events", map[string]any{}, []policy.Resource{cal("primary")}},
		{"calendar_get_event", map[string]any{"calendarId": "team@acme.com", "eventId": "e1"}, []policy.Resource{cal("team@acme.com")}},
		{"calendar_delete_event", map[string]any{"eventId": "e1"}, []policy.Resource{cal("primary")}},
		{"calendar_delete_event", map[string]any{"eventId": "e1", "sendUpdates": "all"}, []policy.Resource{cal("primary"), rcpt("")}},
		{"calendar_update_event", map[string]any{"eventId": "e1", "summary": "x", "sendUpdates": "externalOnly"}, []policy.Resource{cal("primary"), rcpt("")}},
		{"calendar_update_event", map[string]any{"eventId": "e1", "summary": "x", "sendUpdates": "none"}, []policy.Resource{cal("primary")}},
		{"calendar_create_event", map[string]any{"summary": "Review", "start": "2026-11-02", "end": "2026-11-03", "attendees": []any{"ann@example.com"}},
			[]policy.Resource{cal("primary"), rcpt("ann@example.com")}},
		{"calendar_update_event", map[string]any{"calendarId": "team@acme.com", "eventId": "e1", "attendees": []any{"ann@example.com", "bob@example.org"}},
			[]policy.Resource{cal("team@acme.com"), rcpt("ann@example.com"), rcpt("bob@example.org")}},
		{"calendar_freebusy", map[string]any{"timeMin": "2026-11-02T00:00:00Z", "timeMax": "2026-11-03T00:00:00Z"}, []policy.Resource{cal("primary")}},
		{"calendar_freebusy", map[string]any{"timeMin": "2026-11-02T00:00:00Z", "timeMax": "2026-11-03T00:00:00Z", "calendarIds": []any{"primary", "ann@example.com"}},
			[]policy.Resource{cal("primary"), cal("ann@example.com")}},
		{"calendar_list_calendars", nil, nil},
		{"drive_share_file", map[string]any{"fileId": "f1", "emailAddress": "ann@example.com", "role": "reader"}, []policy.Resource{{Kind: policy.Share, Value: "ann@example.com"}}},
		{"drive_trash_file", map[string]any{"fileId": "f1"}, nil},
	} {
		got, err := p.Resources(tc.tool, tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: %v %v, want %v", tc.tool, tc.args, got, err, tc.want)
		}
	}
}

// A recipient guard and the call must see the same addresses: whatever
// Resources reports is refused by the call unless it is a plain address.
func TestGuardedAddressesAreWhatIsSent(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1") // no request may reach it
	for _, tc := range []struct {
		tool string
		args map[string]any
	}{
		{"gmail_send_message", map[string]any{"to": []any{"Ann <ann@example.com>"}}},
		{"gmail_send_message", map[string]any{"to": []any{"ann@example.com, evil@example.net"}}},
		{"gmail_create_draft", map[string]any{"cc": []any{"ann@example.com\r\nBcc: evil@example.net"}}},
		{"gmail_send_message", map[string]any{"subject": "no recipient"}},
		{"calendar_create_event", map[string]any{"summary": "x", "start": "2026-11-02", "end": "2026-11-03", "attendees": []any{"\"Ann\" <ann@example.com>"}}},
		{"drive_share_file", map[string]any{"fileId": "f1", "emailAddress": "ann@example.com,evil@example.net", "role": "writer"}},
	} {
		res, err := p.Call(t.Context(), tc.tool, tc.args, nil)
		if err != nil || !res.IsError {
			t.Errorf("%s %v: %v %+v", tc.tool, tc.args, err, res)
		}
	}
}

func TestScopesHideTools(t *testing.T) {
	p, err := New(Config{HTTPClient: http.DefaultClient, Granted: []string{
		"https://www.googleapis.com/auth/gmail.readonly", "https://www.googleapis.com/auth/calendar.events", "https://www.googleapis.com/auth/drive.file"}})
	if err != nil {
		t.Fatal(err)
	}
	var missing []string
	for _, m := range p.Unavailable() {
		missing = append(missing, m.Tool)
	}
	want := []string{"gmail_create_draft", "gmail_send_message", "gmail_modify_labels", "gmail_trash_message", "calendar_list_calendars", "calendar_freebusy"}
	if !reflect.DeepEqual(missing, want) {
		t.Fatalf("unavailable: %v, want %v", missing, want)
	}
	res, _ := p.Call(t.Context(), "gmail_send_message", map[string]any{"to": []any{"ann@example.com"}}, nil)
	if !res.IsError || !strings.Contains(providertest.ResultText(res), "lacks the scope") {
		t.Fatalf("unavailable tool ran: %+v", res)
	}
}

func TestClassify(t *testing.T) {
	gerr := func(code int, reason string, header http.Header) error {
		return &googleapi.Error{Code: code, Message: "msg", Header: header, Errors: []googleapi.ErrorItem{{Reason: reason, Message: "msg"}}}
	}
	scopes := []string{"https://www.googleapis.com/auth/gmail.readonly", "https://mail.google.com/"}
	for _, tc := range []struct {
		name  string
		err   error
		kind  apitool.Kind
		scope string
		infra bool
	}{
		{"ok/401 reconnect", gerr(401, "authError", nil), apitool.Reconnect, "", false},
		{"ok/403 rate limit", gerr(403, "rateLimitExceeded", nil), apitool.RateLimited, "", false},
		{"ok/403 user rate limit", gerr(403, "userRateLimitExceeded", nil), apitool.RateLimited, "", false},
		{"ok/403 scope by reason", gerr(403, "insufficientPermissions", nil), apitool.Permission, scopes[0], false},
		{"ok/403 scope by ErrorInfo", &googleapi.Error{Code: 403, Details: []any{map[string]any{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}}}, apitool.Permission, scopes[0], false},
		{"ok/403 file permission", gerr(403, "insufficientFilePermissions", nil), apitool.Permission, "", false},
		{"ok/403 export too large", gerr(403, "exportSizeLimitExceeded", nil), apitool.Invalid, "", false},
		{"ok/404", gerr(404, "notFound", nil), apitool.NotFound, "", false},
		{"ok/429", gerr(429, "rateLimitExceeded", http.Header{"Retry-After": {"5"}}), apitool.RateLimited, "", false},
		{"ok/400", gerr(400, "invalidArgument", nil), apitool.Invalid, "", false},
		{"fail/500 is infrastructure", gerr(500, "backendError", nil), 0, "", true},
		{"fail/network error is infrastructure", errors.New("dial tcp: connection refused"), 0, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := classify(tc.err, scopes)
			var e *apitool.Error
			if isTool := errors.As(got, &e); isTool == tc.infra {
				t.Fatalf("classify(%v) = %v (%T)", tc.err, got, got)
			}
			if !tc.infra && (e.Kind != tc.kind || e.Scope != tc.scope || e.Service != "Google") {
				t.Fatalf("classify(%v) = %+v, want kind %v scope %q", tc.err, e, tc.kind, tc.scope)
			}
		})
	}
}
