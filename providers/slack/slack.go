// Package slack offers Slack's Web API as AgentVault tools: conversations,
// history, threads, search, users and messages, through slack-go. It holds
// no credential of its own: requests go through the authenticated HTTP
// client it is given, and slack-go is given no token, so the client's
// Authorization header is the only credential on the wire.
//
// It must never return a credential in a result or an error.
package slack

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	sl "github.com/slack-go/slack"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Config connects the provider to Slack.
type Config struct {
	// HTTPClient adds the user token to every request as an
	// "Authorization: Bearer" header; required.
	HTTPClient *http.Client
	// BaseURL is the Web API root; "": https://slack.com/api/.
	BaseURL string
	// Granted are the connection's user scopes; nil: unknown, and every
	// tool is offered.
	Granted []string
}

const service = "Slack"

// New returns the Slack provider.
func New(cfg Config) (*apitool.Provider, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("slack: an authenticated HTTP client is required")
	}
	opts := []sl.Option{sl.OptionHTTPClient(headerAuth{cfg.HTTPClient})}
	if cfg.BaseURL != "" {
		opts = append(opts, sl.OptionAPIURL(strings.TrimSuffix(cfg.BaseURL, "/")+"/"))
	}
	return apitool.New(service, tools(sl.New("", opts...)), cfg.Granted), nil
}

// headerAuth leaves authentication to the HTTP client. slack-go sends its
// own token with every request, as a "token" form field (most methods) or
// an Authorization header (GET methods); given none, it would send an empty
// field or "Bearer " beside the client's credential, which Slack does not
// document. headerAuth removes both before the client adds its header.
type headerAuth struct{ c *http.Client }

// Do implements slack-go's HTTP client interface.
func (h headerAuth) Do(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Del("Authorization")
	if r.Body != nil && strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		raw, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("slack: reading the request: %w", err)
		}
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, fmt.Errorf("slack: reading the request: %w", err)
		}
		form.Del("token")
		body := form.Encode()
		r.Body, r.ContentLength = io.NopCloser(strings.NewReader(body)), int64(len(body))
		r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(strings.NewReader(body)), nil }
	}
	return h.c.Do(r)
}

// kindOf classifies a Slack error code by what the agent or the user can
// do about it.
func kindOf(code string) apitool.Kind {
	switch code {
	case "not_authed", "invalid_auth", "token_revoked", "token_expired", "account_inactive":
		return apitool.Reconnect
	case "missing_scope", "not_in_channel", "restricted_action", "not_allowed_token_type", "cant_update_message", "cant_delete_message":
		return apitool.Permission
	case "channel_not_found", "message_not_found", "user_not_found", "thread_not_found":
		return apitool.NotFound
	case "ratelimited":
		return apitool.RateLimited
	}
	return apitool.Invalid
}

// classify turns slack-go's errors into failures the agent can act on.
// Slack answers HTTP 200 with {"ok":false,"error":"<code>"}; a rate limit is
// HTTP 429 with Retry-After. Anything else (network, 5xx) stays an
// infrastructure error.
func classify(err error) error {
	var rate *sl.RateLimitedError
	var resp sl.SlackErrorResponse
	switch {
	case errors.As(err, &rate):
		return &apitool.Error{Kind: apitool.RateLimited, Service: service, Reset: time.Now().Add(rate.RetryAfter)}
	case errors.As(err, &resp):
		e := &apitool.Error{Kind: kindOf(resp.Err), Service: service, Message: resp.Err}
		switch {
		case resp.Err == "missing_scope":
			e.Scope = resp.Needed
		case e.Kind == apitool.NotFound:
			e.Message += " (or not visible to the connected account)"
		}
		return e
	}
	return err
}

// channelResource is the channel a call names with its channel argument.
func channelResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Channel, Value: a.String("channel")}}
}

// searchResources are the channels a search query is limited to by its
// in: modifiers ("in:#eng", "in:eng", "in:<#C123|eng>", "in:@bob"). Only
// what Slack certainly reads as a modifier bounds the search: a word
// (separated by spaces) starting with lower-case "in:", outside double
// quotes and without one (text after an unmatched quote counts as quoted).
// Excluding modifiers ("-in:") bound nothing. A query without any in: is
// unbounded: one Resource with an empty value. Values are given as written;
// guards refuse those that are no channel (such as "@bob").
func searchResources(a apitool.Args) []policy.Resource {
	var out []policy.Resource
	quoted := false
	for _, f := range strings.Split(a.String("query"), " ") {
		if n := strings.Count(f, `"`); n > 0 {
			quoted = quoted != (n%2 == 1)
			continue
		}
		v, ok := strings.CutPrefix(f, "in:")
		if quoted || !ok || v == "" {
			continue
		}
		if id, ok := strings.CutPrefix(v, "<#"); ok && strings.HasSuffix(id, ">") {
			v, _, _ = strings.Cut(strings.TrimSuffix(id, ">"), "|")
		}
		out = append(out, policy.Resource{Kind: policy.Channel, Value: v})
	}
	if out == nil {
		out = []policy.Resource{{Kind: policy.Channel}}
	}
	return out
}
