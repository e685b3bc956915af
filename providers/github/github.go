// Package github offers GitHub's REST API as AgentVault tools: repositories,
// files, issues and pull requests, through go-github. It holds no
// credential of its own: requests go through the authenticated HTTP client
// it is given.
package github

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	gh "github.com/google/go-github/v89/github"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Config connects the provider to GitHub.
type Config struct {
	// HTTPClient adds the credential to every request; required.
	HTTPClient *http.Client
	// BaseURL is the REST API root; "": https://api.github.com/.
	BaseURL string
	// Granted are the connection's OAuth scopes; nil: unknown (fine-grained
	// tokens and GitHub App tokens report none), and every tool is offered.
	Granted []string
}

const service = "GitHub"

// New returns the GitHub provider.
func New(cfg Config) (*apitool.Provider, error) {
	if cfg.HTTPClient == nil {
		return nil, errors.New("github: an authenticated HTTP client is required")
	}
	opts := []gh.ClientOptionsFunc{gh.WithHTTPClient(cfg.HTTPClient)}
	if cfg.BaseURL != "" {
		base := strings.TrimSuffix(cfg.BaseURL, "/") + "/"
		opts = append(opts, gh.WithURLs(&base, &base))
	}
	c, err := gh.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("github: %w", err)
	}
	return apitool.New(service, tools(c), cfg.Granted), nil
}

// Scopes that let a classic OAuth token write to repositories.
var writeScopes = []string{"repo", "public_repo"}

// classify turns go-github's errors into failures the agent can act on.
func classify(err error) error {
	var rate *gh.RateLimitError
	var abuse *gh.AbuseRateLimitError
	var resp *gh.ErrorResponse
	switch {
	case errors.As(err, &rate):
		return &apitool.Error{Kind: apitool.RateLimited, Service: service, Reset: rate.Rate.Reset.Time, Message: rate.Message}
	case errors.As(err, &abuse):
		e := &apitool.Error{Kind: apitool.RateLimited, Service: service, Message: abuse.Message}
		if abuse.RetryAfter != nil {
			e.Reset = time.Now().Add(*abuse.RetryAfter)
		}
		return e
	case errors.As(err, &resp) && resp.Response != nil:
		msg := resp.Message
		for _, d := range resp.Errors {
			if d.Message != "" {
				msg += "; " + d.Message
			} else if d.Field != "" {
				msg += fmt.Sprintf("; %s %s", d.Field, d.Code)
			}
		}
		out := apitool.FromStatus(service, resp.Response.StatusCode, resp.Response.Header, msg)
		var e *apitool.Error
		if errors.As(out, &e) {
			switch e.Kind {
			case apitool.Permission:
				e.Scope = resp.Response.Header.Get("X-Accepted-OAuth-Scopes")
			case apitool.NotFound:
				e.Message += " (or not visible to the connected account)"
			}
		}
		return out
	}
	return err
}

// repoResource is the repository a call names with owner and repo.
func repoResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Repo, Value: a.String("owner") + "/" + a.String("repo")}}
}

// searchResources are the repositories a search query is limited to by its
// repo:, org:, user: and owner: qualifiers. A negated qualifier (-repo:x)
// excludes rather than limits, so it bounds nothing; a query without any
// positive qualifier is unbounded: one Resource with an empty value. So is
// a query with OR or NOT, which can widen it past its qualifiers.
func searchResources(a apitool.Args) []policy.Resource {
	unbounded := []policy.Resource{{Kind: policy.Repo}}
	var out []policy.Resource
	for _, f := range strings.Fields(a.String("query")) {
		if w := strings.ToUpper(strings.Trim(f, "()")); w == "OR" || w == "NOT" {
			return unbounded
		}
		key, val, ok := strings.Cut(strings.Trim(f, `"()`), ":")
		if !ok || strings.HasPrefix(key, "-") {
			continue
		}
		switch strings.ToLower(key) {
		case "repo":
			out = append(out, policy.Resource{Kind: policy.Repo, Value: val})
		case "org", "user", "owner":
			out = append(out, policy.Resource{Kind: policy.Repo, Value: val + "/*"})
		}
	}
	if out == nil {
		return unbounded
	}
	return out
}
