// Package github offers GitHub's REST API as AgentVault tools: repositories,
// files, issues and pull requests, through go-github. It holds no
// credential of its own: requests go through the authenticated HTTP client
// it is given.
//
// It must never return a credential in a result or an error.
package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"

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
	var moved *gh.RedirectionError
	switch {
	case errors.As(err, &moved):
		msg := "the repository was renamed or transferred; call it by its new name"
		if moved.Location != nil {
			msg += " (" + moved.Location.Path + ")"
		}
		return &apitool.Error{Kind: apitool.NotFound, Service: service, Message: msg}
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

// writtenBranch is which branch of owner/repo a call naming branch writes
// to: none names the default branch. A named one is read from GitHub and
// counts as another branch only if GitHub knows it by exactly that name and
// it is not the default; any other spelling (refs/heads/main, a different
// case) or a branch GitHub cannot find counts as the default.
func writtenBranch(ctx context.Context, c *gh.Client, owner, repo, branch string) ([]policy.Resource, error) {
	if branch == "" {
		return branchResource("", ""), nil
	}
	r, _, err := c.Repositories.Get(ctx, owner, repo)
	if err != nil {
		return nil, fmt.Errorf("reading the repository's default branch: %w", classify(err))
	}
	b, resp, err := c.Repositories.GetBranch(ctx, owner, repo, branch, 0)
	if err != nil {
		if resp != nil && resp.StatusCode == http.StatusNotFound {
			return branchResource("", ""), nil
		}
		return nil, fmt.Errorf("reading branch %s: %w", branch, classify(err))
	}
	if b.GetName() != branch {
		return branchResource("", ""), nil
	}
	return branchResource(branch, r.GetDefaultBranch()), nil
}

// branchResource says whether a write to branch is a write to the default
// branch (also when either is unknown).
func branchResource(branch, defaultBranch string) []policy.Resource {
	v := "default"
	if branch != "" && defaultBranch != "" && branch != defaultBranch {
		v = "other"
	}
	return []policy.Resource{{Kind: policy.Branch, Value: v}}
}

// repoResource is the repository a call names with owner and repo.
func repoResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Repo, Value: a.String("owner") + "/" + a.String("repo")}}
}

// searchResources are the repositories a search query is limited to by its
// repo:, org:, user: and owner: qualifiers. A negated qualifier (-repo:x)
// excludes rather than limits, so it bounds nothing, and text in quotes is a
// phrase, not a qualifier. A query without any positive qualifier is
// unbounded: one Resource with an empty value. So is a query with OR or
// NOT, which can widen it past its qualifiers, and one whose quotes do not
// pair up.
func searchResources(a apitool.Args) []policy.Resource {
	unbounded := []policy.Resource{{Kind: policy.Repo}}
	words, ok := queryWords(a.String("query"))
	if !ok {
		return unbounded
	}
	var out []policy.Resource
	for _, w := range words {
		if u := strings.ToUpper(strings.Trim(w, "()")); u == "OR" || u == "NOT" {
			return unbounded
		}
		key, val, ok := strings.Cut(strings.Trim(w, "()"), ":")
		if !ok || strings.Contains(w, `"`) || strings.HasPrefix(key, "-") {
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

// queryWords splits a search query at white space outside quotes; ok is
// false when a quote is left open.
func queryWords(q string) (words []string, ok bool) {
	var b strings.Builder
	quoted := false
	for _, r := range q {
		switch {
		case r == '"':
			quoted = !quoted
			b.WriteRune(r)
		case !quoted && unicode.IsSpace(r):
			if b.Len() > 0 {
				words = append(words, b.String())
				b.Reset()
			}
		default:
			b.WriteRune(r)
		}
	}
	if b.Len() > 0 {
		words = append(words, b.String())
	}
	return words, !quoted
}
