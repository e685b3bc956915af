package github

import (
	"context"
	"fmt"
	"path"
	"strings"

	gh "github.com/google/go-github/v89/github"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Argument spellings GitHub accepts: validated before any request so a
// value cannot reach another API path.
const (
	ownerPattern = `^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`
	repoPattern  = `^[A-Za-z0-9._-]{1,100}$`
)

func ownerRepo() []mcp.ToolOption {
	return []mcp.ToolOption{
		mcp.WithString("owner", mcp.Required(), mcp.Pattern(ownerPattern), mcp.Description("Repository owner (user or organization)")),
		mcp.WithString("repo", mcp.Required(), mcp.Pattern(repoPattern), mcp.Description("Repository name")),
	}
}

func paging() []mcp.ToolOption {
	return []mcp.ToolOption{
		mcp.WithInteger("per_page", mcp.Min(1), mcp.Max(100), mcp.Description("Results per page (default 20, at most 100)")),
		mcp.WithInteger("page", mcp.Min(1), mcp.Description("Page number, from 1")),
	}
}

func opts(groups ...[]mcp.ToolOption) []mcp.ToolOption {
	var out []mcp.ToolOption
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func listOptions(a apitool.Args) gh.ListOptions {
	return gh.ListOptions{PerPage: a.Int("per_page", 20, 100), Page: a.Int("page", 1, 0)}
}

// repoPath checks a file path inside a repository: relative, clean, no "..".
func repoPath(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains("/"+p+"/", "/../") {
		return "", &apitool.Error{Kind: apitool.Invalid, Service: service, Message: fmt.Sprintf("path %q must be relative and clean (no .., no trailing slash)", p)}
	}
	return p, nil
}

func tools(c *gh.Client) []apitool.Tool {
	return []apitool.Tool{
		searchRepositories(c), getFileContents(c), searchIssues(c), getIssue(c), listPullRequests(c),
		getPullRequest(c), createIssue(c), addIssueComment(c), updateIssue(c), createPullRequest(c),
		mergePullRequest(c), deleteFile(c),
	}
}

func searchRepositories(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("search_repositories", "Search repositories",
			"Search GitHub repositories with GitHub's search syntax (e.g. \"topic:cli language:go org:acme\").", apitool.ReadOnly,
			opts([]mcp.ToolOption{mcp.WithString("query", mcp.Required(), mcp.Description("Search query"))}, paging())...),
		Resources: searchResources,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			res, _, err := c.Search.Repositories(ctx, a.String("query"), &gh.SearchOptions{ListOptions: listOptions(a)})
			if err != nil {
				return nil, classify(err)
			}
			type repo struct {
				FullName      string `json:"full_name"`
				Description   string `json:"description,omitempty"`
				Private       bool   `json:"private"`
				Stars         int    `json:"stars"`
				DefaultBranch string `json:"default_branch"`
				URL           string `json:"url"`
			}
			out := struct {
				Total int    `json:"total_count"`
				Items []repo `json:"items"`
			}{Total: res.GetTotal(), Items: []repo{}}
			for _, r := range res.Repositories {
				out.Items = append(out.Items, repo{r.GetFullName(), r.GetDescription(), r.GetPrivate(), r.GetStargazersCount(), r.GetDefaultBranch(), r.GetHTMLURL()})
			}
			return apitool.JSON(out)
		},
	}
}

func getFileContents(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_file_contents", "Get file or directory contents",
			"Read a file (as text) or list a directory of a repository.", apitool.ReadOnly,
			opts(ownerRepo(), []mcp.ToolOption{
				mcp.WithString("path", mcp.Description("Path in the repository; empty for the root")),
				mcp.WithString("ref", mcp.Description("Branch, tag or commit; default: the default branch")),
			})...),
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			p, err := repoPath(a.String("path"))
			if err != nil {
				return nil, err
			}
			file, dir, _, err := c.Repositories.GetContents(ctx, a.String("owner"), a.String("repo"), p, &gh.RepositoryContentGetOptions{Ref: a.String("ref")})
			if err != nil {
				return nil, classify(err)
			}
			if file != nil {
				text, err := file.GetContent()
				if err != nil {
					return nil, &apitool.Error{Kind: apitool.Invalid, Service: service, Message: "the file cannot be shown as text: " + err.Error()}
				}
				return apitool.Text(fmt.Sprintf("%s (%d bytes, sha %s)\n\n%s", file.GetPath(), file.GetSize(), file.GetSHA(), text)), nil
			}
			type entry struct {
				Name string `json:"name"`
				Type string `json:"type"`
				Path string `json:"path"`
				Size int    `json:"size"`
			}
			out := []entry{}
			for _, e := range dir {
				out = append(out, entry{e.GetName(), e.GetType(), e.GetPath(), e.GetSize()})
			}
			return apitool.JSON(out)
		},
	}
}

type issueSummary struct {
	Repo          string   `json:"repo,omitempty"`
	Number        int      `json:"number"`
	Title         string   `json:"title"`
	State         string   `json:"state"`
	User          string   `json:"user"`
	Labels        []string `json:"labels,omitempty"`
	IsPullRequest bool     `json:"is_pull_request,omitempty"`
	URL           string   `json:"url"`
}

func summarizeIssue(i *gh.Issue) issueSummary {
	s := issueSummary{Number: i.GetNumber(), Title: i.GetTitle(), State: i.GetState(), User: i.GetUser().GetLogin(),
		IsPullRequest: i.IsPullRequest(), URL: i.GetHTMLURL()}
	if r := i.GetRepositoryURL(); r != "" {
		s.Repo = strings.Join(strings.Split(r, "/")[max(0, len(strings.Split(r, "/"))-2):], "/")
	}
	for _, l := range i.Labels {
		s.Labels = append(s.Labels, l.GetName())
	}
	return s
}

func searchIssues(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("search_issues", "Search issues and pull requests",
			"Search issues and pull requests with GitHub's search syntax (e.g. \"repo:acme/widgets is:open label:bug\").", apitool.ReadOnly,
			opts([]mcp.ToolOption{mcp.WithString("query", mcp.Required(), mcp.Description("Search query"))}, paging())...),
		Resources: searchResources,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			res, _, err := c.Search.Issues(ctx, a.String("query"), &gh.SearchOptions{ListOptions: listOptions(a)})
			if err != nil {
				return nil, classify(err)
			}
			out := struct {
				Total int            `json:"total_count"`
				Items []issueSummary `json:"items"`
			}{Total: res.GetTotal(), Items: []issueSummary{}}
			for _, i := range res.Issues {
				out.Items = append(out.Items, summarizeIssue(i))
			}
			return apitool.JSON(out)
		},
	}
}

func issueNumber(name string) mcp.ToolOption {
	return mcp.WithInteger(name, mcp.Required(), mcp.Min(1), mcp.Description("Issue or pull request number"))
}

func getIssue(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_issue", "Get an issue", "Read one issue with its body.", apitool.ReadOnly,
			opts(ownerRepo(), []mcp.ToolOption{issueNumber("issue_number")})...),
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			i, _, err := c.Issues.Get(ctx, a.String("owner"), a.String("repo"), a.Int("issue_number", 0, 0))
			if err != nil {
				return nil, classify(err)
			}
			out := struct {
				issueSummary
				Body      string   `json:"body"`
				Assignees []string `json:"assignees,omitempty"`
				Comments  int      `json:"comments"`
				Created   string   `json:"created_at"`
			}{issueSummary: summarizeIssue(i), Body: apitool.Truncate(i.GetBody(), 16<<10), Comments: i.GetComments(),
				Created: i.GetCreatedAt().UTC().Format("2006-01-02T15:04:05Z")}
			for _, u := range i.Assignees {
				out.Assignees = append(out.Assignees, u.GetLogin())
			}
			return apitool.JSON(out)
		},
	}
}

type pullSummary struct {
	Number int    `json:"number"`
	Title  string `json:"title"`
	State  string `json:"state"`
	Draft  bool   `json:"draft,omitempty"`
	User   string `json:"user"`
	Head   string `json:"head"`
	Base   string `json:"base"`
	URL    string `json:"url"`
}

func summarizePull(p *gh.PullRequest) pullSummary {
	return pullSummary{p.GetNumber(), p.GetTitle(), p.GetState(), p.GetDraft(), p.GetUser().GetLogin(),
		p.GetHead().GetRef(), p.GetBase().GetRef(), p.GetHTMLURL()}
}

func listPullRequests(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("list_pull_requests", "List pull requests", "List a repository's pull requests.", apitool.ReadOnly,
			opts(ownerRepo(), []mcp.ToolOption{
				mcp.WithString("state", mcp.Enum("open", "closed", "all"), mcp.Description("Default: open")),
				mcp.WithString("base", mcp.Description("Only pull requests into this branch")),
			}, paging())...),
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			list, _, err := c.PullRequests.List(ctx, a.String("owner"), a.String("repo"), &gh.PullRequestListOptions{
				State: a.String("state"), Base: a.String("base"), ListOptions: listOptions(a)})
			if err != nil {
				return nil, classify(err)
			}
			out := []pullSummary{}
			for _, p := range list {
				out = append(out, summarizePull(p))
			}
			return apitool.JSON(out)
		},
	}
}

func getPullRequest(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_pull_request", "Get a pull request", "Read one pull request with its body and changed files.", apitool.ReadOnly,
			opts(ownerRepo(), []mcp.ToolOption{issueNumber("pull_number")})...),
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			owner, repo, n := a.String("owner"), a.String("repo"), a.Int("pull_number", 0, 0)
			p, _, err := c.PullRequests.Get(ctx, owner, repo, n)
			if err != nil {
				return nil, classify(err)
			}
			files, _, err := c.PullRequests.ListFiles(ctx, owner, repo, n, &gh.ListOptions{PerPage: 100})
			if err != nil {
				return nil, classify(err)
			}
			type file struct {
				Name      string `json:"filename"`
				Status    string `json:"status"`
				Additions int    `json:"additions"`
				Deletions int    `json:"deletions"`
			}
			out := struct {
				pullSummary
				Body      string `json:"body"`
				Merged    bool   `json:"merged"`
				Mergeable *bool  `json:"mergeable,omitempty"`
				Files     []file `json:"files"`
			}{pullSummary: summarizePull(p), Body: apitool.Truncate(p.GetBody(), 16<<10), Merged: p.GetMerged(), Mergeable: p.Mergeable, Files: []file{}}
			for _, f := range files {
				out.Files = append(out.Files, file{f.GetFilename(), f.GetStatus(), f.GetAdditions(), f.GetDeletions()})
			}
			return apitool.JSON(out)
		},
	}
}

func createIssue(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("create_issue", "Create an issue", "Open a new issue in a repository.", apitool.Writes,
			opts(ownerRepo(), []mcp.ToolOption{
				mcp.WithString("title", mcp.Required(), mcp.MinLength(1), mcp.Description("Issue title")),
				mcp.WithString("body", mcp.Description("Issue body (Markdown)")),
				mcp.WithArray("labels", mcp.WithStringItems(), mcp.Description("Label names")),
				mcp.WithArray("assignees", mcp.WithStringItems(), mcp.Description("Logins to assign")),
			})...),
		Scopes:    writeScopes,
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			req := &gh.IssueRequest{Title: gh.Ptr(a.String("title"))}
			if a.Has("body") {
				req.Body = gh.Ptr(a.String("body"))
			}
			if a.Has("labels") {
				req.Labels = gh.Ptr(a.Strings("labels"))
			}
			if a.Has("assignees") {
				req.Assignees = gh.Ptr(a.Strings("assignees"))
			}
			i, _, err := c.Issues.Create(ctx, a.String("owner"), a.String("repo"), req)
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(summarizeIssue(i))
		},
	}
}

func addIssueComment(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("add_issue_comment", "Comment on an issue or pull request", "Add a comment to an issue or pull request.", apitool.Writes,
			opts(ownerRepo(), []mcp.ToolOption{
				issueNumber("issue_number"),
				mcp.WithString("body", mcp.Required(), mcp.MinLength(1), mcp.Description("Comment (Markdown)")),
			})...),
		Scopes:    writeScopes,
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			cm, _, err := c.Issues.CreateComment(ctx, a.String("owner"), a.String("repo"), a.Int("issue_number", 0, 0), &gh.IssueComment{Body: gh.Ptr(a.String("body"))})
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]any{"id": cm.GetID(), "url": cm.GetHTMLURL()})
		},
	}
}

func updateIssue(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("update_issue", "Update an issue", "Change an issue's title, body, state, labels or assignees; omitted fields stay as they are.", apitool.Writes,
			opts(ownerRepo(), []mcp.ToolOption{
				issueNumber("issue_number"),
				mcp.WithString("title", mcp.Description("New title")),
				mcp.WithString("body", mcp.Description("New body")),
				mcp.WithString("state", mcp.Enum("open", "closed"), mcp.Description("New state")),
				mcp.WithArray("labels", mcp.WithStringItems(), mcp.Description("Replace the labels")),
				mcp.WithArray("assignees", mcp.WithStringItems(), mcp.Description("Replace the assignees")),
			})...),
		Scopes:    writeScopes,
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			req := &gh.IssueRequest{}
			for _, f := range []struct {
				name string
				dst  **string
			}{{"title", &req.Title}, {"body", &req.Body}, {"state", &req.State}} {
				if a.Has(f.name) {
					*f.dst = gh.Ptr(a.String(f.name))
				}
			}
			if a.Has("labels") {
				req.Labels = gh.Ptr(a.Strings("labels"))
			}
			if a.Has("assignees") {
				req.Assignees = gh.Ptr(a.Strings("assignees"))
			}
			i, _, err := c.Issues.Edit(ctx, a.String("owner"), a.String("repo"), a.Int("issue_number", 0, 0), req)
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(summarizeIssue(i))
		},
	}
}

func createPullRequest(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("create_pull_request", "Create a pull request", "Open a pull request from head into base.", apitool.Writes,
			opts(ownerRepo(), []mcp.ToolOption{
				mcp.WithString("title", mcp.Required(), mcp.MinLength(1), mcp.Description("Title")),
				mcp.WithString("head", mcp.Required(), mcp.Description("Branch with the changes (owner:branch for forks)")),
				mcp.WithString("base", mcp.Required(), mcp.Description("Branch to merge into")),
				mcp.WithString("body", mcp.Description("Description (Markdown)")),
				mcp.WithBoolean("draft", mcp.Description("Open as a draft")),
			})...),
		Scopes:    writeScopes,
		Resources: repoResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			req := &gh.NewPullRequest{Title: gh.Ptr(a.String("title")), Head: gh.Ptr(a.String("head")), Base: gh.Ptr(a.String("base"))}
			if a.Has("body") {
				req.Body = gh.Ptr(a.String("body"))
			}
			if a.Has("draft") {
				req.Draft = gh.Ptr(a.Bool("draft"))
			}
			p, _, err := c.PullRequests.Create(ctx, a.String("owner"), a.String("repo"), req)
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(summarizePull(p))
		},
	}
}

func mergePullRequest(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("merge_pull_request", "Merge a pull request", "Merge a pull request into its base branch. This changes the branch for everyone and cannot simply be undone.", apitool.Destroys,
			opts(ownerRepo(), []mcp.ToolOption{
				issueNumber("pull_number"),
				mcp.WithString("merge_method", mcp.Enum("merge", "squash", "rebase"), mcp.Description("Default: merge")),
				mcp.WithString("commit_title", mcp.Description("Title of the merge commit")),
				mcp.WithString("commit_message", mcp.Description("Extra detail for the merge commit")),
			})...),
		Scopes:     writeScopes,
		Resources:  repoResource,
		LookUpKind: policy.Branch,
		LookUp: func(ctx context.Context, a apitool.Args) ([]policy.Resource, error) {
			pr, _, err := c.PullRequests.Get(ctx, a.String("owner"), a.String("repo"), a.Int("pull_number", 0, 0))
			if err != nil {
				return nil, fmt.Errorf("reading the pull request's base branch: %w", classify(err))
			}
			return branchResource(pr.GetBase().GetRef(), pr.GetBase().GetRepo().GetDefaultBranch()), nil
		},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			res, _, err := c.PullRequests.Merge(ctx, a.String("owner"), a.String("repo"), a.Int("pull_number", 0, 0), a.String("commit_message"),
				&gh.PullRequestOptions{MergeMethod: a.String("merge_method"), CommitTitle: a.String("commit_title")})
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]any{"merged": res.GetMerged(), "sha": res.GetSHA(), "message": res.GetMessage()})
		},
	}
}

func deleteFile(c *gh.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("delete_file", "Delete a file", "Delete a file from a branch with a commit.", apitool.Destroys,
			opts(ownerRepo(), []mcp.ToolOption{
				mcp.WithString("path", mcp.Required(), mcp.MinLength(1), mcp.Description("Path of the file")),
				mcp.WithString("message", mcp.Required(), mcp.MinLength(1), mcp.Description("Commit message")),
				mcp.WithString("sha", mcp.Required(), mcp.Description("Blob SHA of the file being deleted (from get_file_contents)")),
				mcp.WithString("branch", mcp.Description("Branch; default: the default branch")),
			})...),
		Scopes:     writeScopes,
		Resources:  repoResource,
		LookUpKind: policy.Branch,
		LookUp: func(ctx context.Context, a apitool.Args) ([]policy.Resource, error) {
			return writtenBranch(ctx, c, a.String("owner"), a.String("repo"), a.String("branch"))
		},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			p, err := repoPath(a.String("path"))
			if err != nil {
				return nil, err
			}
			opt := &gh.RepositoryContentFileOptions{Message: gh.Ptr(a.String("message")), SHA: gh.Ptr(a.String("sha"))}
			if a.Has("branch") {
				opt.Branch = gh.Ptr(a.String("branch"))
			}
			res, _, err := c.Repositories.DeleteFile(ctx, a.String("owner"), a.String("repo"), p, opt)
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]any{"deleted": p, "commit": res.Commit.GetSHA()})
		},
	}
}
