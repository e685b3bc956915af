// Package jira offers Jira Cloud's REST API v3 as AgentVault tools: the
// signed-in user, issue search, issues, comments, transitions, assignment
// and projects. It speaks plain JSON over net/http (there is no Go Jira
// client to depend on) and holds no credential of its own: requests go
// through the authenticated HTTP client it is given, whether that adds an
// OAuth 2.0 (3LO) bearer token or basic auth with an API token.
//
// Every tool that names an issue or a project reports it as a
// policy.Project resource, so a vault's project allowlist can limit it, and
// the handlers make sure the call touches exactly that project: a search
// limited to a project returns nothing of another, and a call naming an
// issue key that Jira now resolves to an issue elsewhere (moved, or its
// project renamed) is refused before anything changes.
//
// It must never return a credential in a result or an error.
package jira

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Config connects the provider to one Jira Cloud site.
type Config struct {
	// HTTPClient adds the credential to every request (an OAuth bearer token
	// for 3LO, or basic auth with email and API token); required. The
	// provider never sees the credential.
	HTTPClient *http.Client
	// BaseURL is the root the REST paths are appended to; required. For
	// OAuth 2.0 (3LO): "https://api.atlassian.com/ex/jira/{cloudId}"; for an
	// API token: the site, e.g. "https://acme.atlassian.net".
	BaseURL string
	// SiteURL is the site people browse, e.g. "https://acme.atlassian.net",
	// used for links to issues; "": BaseURL when that is not the
	// api.atlassian.com gateway, otherwise results carry no links.
	SiteURL string
	// Granted are the connection's classic OAuth scopes; nil: unknown (API
	// tokens carry none), and every tool is offered.
	Granted []string
}

const service = "Jira"

// Classic 3LO scopes. write:jira-work also allows deleting issues: only
// AgentVault's policy separates writing from deleting.
const (
	scopeReadUser  = "read:jira-user"
	scopeReadWork  = "read:jira-work"
	scopeWriteWork = "write:jira-work"
)

// Limits of one request.
const (
	maxBody        = 4 << 20 // bytes of an answer read, at most
	requestTimeout = 30 * time.Second
)

// New returns the Jira provider.
func New(cfg Config) (*apitool.Provider, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	return apitool.New(service, tools(c), cfg.Granted), nil
}

func newClient(cfg Config) (*client, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("jira: an authenticated HTTP client is required")
	}
	base, err := rootURL(cfg.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("jira: base URL: %w", err)
	}
	site := ""
	if cfg.SiteURL != "" {
		if site, err = rootURL(cfg.SiteURL); err != nil {
			return nil, fmt.Errorf("jira: site URL: %w", err)
		}
	} else if u, _ := url.Parse(base); !strings.EqualFold(u.Hostname(), "api.atlassian.com") {
		site = base
	}
	return &client{http: cfg.HTTPClient, base: base, site: site}, nil
}

// rootURL checks an absolute http(s) URL without query or fragment and
// returns it without a trailing slash.
func rootURL(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("required")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", fmt.Errorf("%q is not an http(s) URL without query, fragment or user", raw)
	}
	return strings.TrimSuffix(u.String(), "/"), nil
}

// client is a minimal Jira REST v3 client: JSON in and out, errors
// classified for the agent.
type client struct {
	http *http.Client
	base string // no trailing slash
	site string // for links; "": none
}

// browse is the link to an issue, "" when the site is unknown.
func (c *client) browse(key string) string {
	if c.site == "" || key == "" {
		return ""
	}
	return c.site + "/browse/" + url.PathEscape(key)
}

// issuePath is the path of an issue, or of one of its sub-resources.
func issuePath(key string, sub ...string) string {
	p := "/rest/api/3/issue/" + url.PathEscape(key)
	for _, s := range sub {
		p += "/" + url.PathEscape(s)
	}
	return p
}

// do sends one request and decodes a JSON answer into out (nil: the answer
// is discarded). path must already be escaped.
func (c *client) do(ctx context.Context, method, path string, query url.Values, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	u := c.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encoding the %s %s request: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return fmt.Errorf("building the %s %s request: %w", method, path, err)
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("jira %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return fmt.Errorf("jira %s %s: reading the answer: %w", method, path, err)
	}
	if len(data) > maxBody {
		return fmt.Errorf("jira %s %s: the answer exceeds %d bytes", method, path, maxBody)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return apitool.FromStatus(service, resp.StatusCode, resp.Header, errorMessage(resp.StatusCode, data))
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("jira %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// errorMessage reads Jira's error collection
// ({"errorMessages":[...],"errors":{field:message}}), or the gateway's
// {"message":...}, or falls back to the status text.
func errorMessage(status int, body []byte) string {
	var e struct {
		ErrorMessages []string          `json:"errorMessages"`
		Errors        map[string]string `json:"errors"`
		Message       string            `json:"message"`
	}
	var parts []string
	if json.Unmarshal(body, &e) == nil {
		parts = append(parts, e.ErrorMessages...)
		fields := make([]string, 0, len(e.Errors))
		for f := range e.Errors {
			fields = append(fields, f)
		}
		sort.Strings(fields)
		for _, f := range fields {
			parts = append(parts, f+": "+e.Errors[f])
		}
		if len(parts) == 0 && e.Message != "" {
			parts = append(parts, e.Message)
		}
	}
	if len(parts) == 0 {
		return http.StatusText(status)
	}
	return apitool.Truncate(strings.Join(parts, "; "), 2<<10)
}

// invalid is a failure of the call's arguments, reported before or instead
// of a request.
func invalid(format string, args ...any) error {
	return &apitool.Error{Kind: apitool.Invalid, Service: service, Message: fmt.Sprintf(format, args...)}
}

// projectOf is the project part of an issue key ("OPS" of "OPS-12").
func projectOf(key string) string {
	if i := strings.LastIndexByte(key, '-'); i > 0 {
		return key[:i]
	}
	return ""
}

// checkKey refuses an answer about another issue than the one asked for:
// Jira still answers to the old key of an issue moved to another project
// (or of a project whose key changed), and the call was checked against
// the project of the key it named.
func checkKey(asked, got string) error {
	if got != asked {
		return invalid("Jira answers for %s with issue %q (moved to another project or renamed); AgentVault checked this call for project %s only: use the issue's current key", asked, got, projectOf(asked))
	}
	return nil
}

// current checks, before a change, that key still names an issue of its
// own project (see checkKey).
func (c *client) current(ctx context.Context, key string) error {
	var issue struct {
		Key string `json:"key"`
	}
	if err := c.do(ctx, http.MethodGet, issuePath(key), url.Values{"fields": {"project"}}, nil, &issue); err != nil {
		return err
	}
	return checkKey(key, issue.Key)
}

// issueResource is the project of the issue a call names.
func issueResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Project, Value: projectOf(a.String("issue_key"))}}
}

// projectResource is the project a call names. A search without one is
// unbounded: its Resource has an empty value.
func projectResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Project, Value: a.String("project")}}
}
