package jira

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers/apitool"
)

// Argument spellings Jira uses, validated before any request so that a
// value cannot reach another API path (paths are escaped all the same).
const (
	projectPattern    = `^[A-Z][A-Z0-9_]{0,9}$`
	issueKeyPattern   = `^[A-Z][A-Z0-9_]{0,9}-[1-9][0-9]{0,9}$`
	accountIDPattern  = `^[A-Za-z0-9:_-]{1,128}$`
	transitionPattern = `^[1-9][0-9]{0,9}$`
)

// summaryFields are the fields a search asks for.
var summaryFields = []string{"summary", "status", "assignee", "priority", "issuetype", "updated"}

// issueFields are the fields get_issue asks for.
const issueFields = "summary,status,assignee,reporter,priority,issuetype,labels,created,updated,description"

func opts(groups ...[]mcp.ToolOption) []mcp.ToolOption {
	var out []mcp.ToolOption
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func issueKey() []mcp.ToolOption {
	return []mcp.ToolOption{mcp.WithString("issue_key", mcp.Required(), mcp.Pattern(issueKeyPattern), mcp.Description("Issue key, e.g. OPS-12"))}
}

func tools(c *client) []apitool.Tool {
	return []apitool.Tool{
		getMyself(c), searchIssues(c), getIssue(c), listProjects(c), getTransitions(c),
		createIssue(c), addComment(c), updateIssue(c), transitionIssue(c), assignIssue(c),
		deleteIssue(c),
	}
}

// Jira's shapes, as far as the tools read them.
type (
	user struct {
		AccountID    string `json:"accountId"`
		DisplayName  string `json:"displayName"`
		EmailAddress string `json:"emailAddress"`
		TimeZone     string `json:"timeZone"`
		Active       bool   `json:"active"`
	}
	named struct {
		Name string `json:"name"`
	}
	issueJSON struct {
		ID     string `json:"id"`
		Key    string `json:"key"`
		Fields struct {
			Summary     string          `json:"summary"`
			Status      *named          `json:"status"`
			Assignee    *user           `json:"assignee"`
			Reporter    *user           `json:"reporter"`
			Priority    *named          `json:"priority"`
			IssueType   *named          `json:"issuetype"`
			Labels      []string        `json:"labels"`
			Created     string          `json:"created"`
			Updated     string          `json:"updated"`
			Description json.RawMessage `json:"description"`
		} `json:"fields"`
	}
)

func (n *named) name() string {
	if n == nil {
		return ""
	}
	return n.Name
}

func (u *user) name() string {
	if u == nil {
		return ""
	}
	return u.DisplayName
}

// issueSummary is what the agent reads of an issue in a list.
type issueSummary struct {
	Key      string `json:"key"`
	Summary  string `json:"summary"`
	Status   string `json:"status,omitempty"`
	Assignee string `json:"assignee,omitempty"`
	Priority string `json:"priority,omitempty"`
	Type     string `json:"type,omitempty"`
	Updated  string `json:"updated,omitempty"`
	URL      string `json:"url,omitempty"`
}

func (c *client) summarize(i *issueJSON) issueSummary {
	f := &i.Fields
	return issueSummary{Key: i.Key, Summary: f.Summary, Status: f.Status.name(), Assignee: f.Assignee.name(),
		Priority: f.Priority.name(), Type: f.IssueType.name(), Updated: f.Updated, URL: c.browse(i.Key)}
}

func getMyself(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_myself", "Get the connected user",
			"Read the Jira account AgentVault acts as: its account id (for assign_issue), name and time zone.", apitool.ReadOnly),
		Scopes: []string{scopeReadUser},
		Run: func(ctx context.Context, _ apitool.Args) (*mcp.CallToolResult, error) {
			var u user
			if err := c.do(ctx, http.MethodGet, "/rest/api/3/myself", nil, nil, &u); err != nil {
				return nil, err
			}
			return apitool.JSON(map[string]any{"account_id": u.AccountID, "display_name": u.DisplayName,
				"email": u.EmailAddress, "time_zone": u.TimeZone, "active": u.Active})
		},
	}
}

func searchIssues(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("search_issues", "Search issues",
			"Search issues with JQL (e.g. \"status = \\\"In Progress\\\" AND assignee = currentUser() ORDER BY updated DESC\"). "+
				"Jira refuses unbounded queries: give project, or a restriction such as updated >= -30d. "+
				"With project, only issues of that project are returned.", apitool.ReadOnly,
			mcp.WithString("jql", mcp.Description("JQL query; may be empty when project is given")),
			mcp.WithString("project", mcp.Pattern(projectPattern), mcp.Description("Only issues of this project (key, e.g. OPS)")),
			mcp.WithInteger("max_results", mcp.Min(1), mcp.Max(50), mcp.Description("Issues per page (default 20, at most 50)")),
			mcp.WithString("next_page_token", mcp.Description("next_page_token of the previous page"))),
		Scopes:    []string{scopeReadWork},
		Resources: projectResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			project, jql := a.String("project"), a.String("jql")
			if project == "" && jql == "" {
				return nil, invalid("give jql, project or both")
			}
			if project != "" {
				var err error
				if jql, err = restrictJQL(project, jql); err != nil {
					return nil, err
				}
			}
			req := map[string]any{"jql": jql, "maxResults": a.Int("max_results", 20, 50), "fields": summaryFields}
			if t := a.String("next_page_token"); t != "" {
				req["nextPageToken"] = t
			}
			var res struct {
				Issues        []issueJSON `json:"issues"`
				NextPageToken string      `json:"nextPageToken"`
				IsLast        bool        `json:"isLast"`
			}
			if err := c.do(ctx, http.MethodPost, "/rest/api/3/search/jql", nil, req, &res); err != nil {
				return nil, err
			}
			out := struct {
				Issues        []issueSummary `json:"issues"`
				NextPageToken string         `json:"next_page_token,omitempty"`
				IsLast        bool           `json:"is_last"`
				Dropped       int            `json:"dropped_outside_project,omitempty"`
			}{Issues: []issueSummary{}, NextPageToken: res.NextPageToken, IsLast: res.IsLast}
			for i := range res.Issues {
				if project != "" && projectOf(res.Issues[i].Key) != project {
					out.Dropped++ // the guard checked project only
					continue
				}
				out.Issues = append(out.Issues, c.summarize(&res.Issues[i]))
			}
			return apitool.JSON(out)
		},
	}
}

func getIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def:       apitool.Def("get_issue", "Get an issue", "Read one issue with its description as plain text.", apitool.ReadOnly, issueKey()...),
		Scopes:    []string{scopeReadWork},
		Resources: issueResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			key := a.String("issue_key")
			var i issueJSON
			if err := c.do(ctx, http.MethodGet, issuePath(key), url.Values{"fields": {issueFields}}, nil, &i); err != nil {
				return nil, err
			}
			if err := checkKey(key, i.Key); err != nil {
				return nil, err
			}
			out := struct {
				issueSummary
				AssigneeID  string   `json:"assignee_account_id,omitempty"`
				Reporter    string   `json:"reporter,omitempty"`
				Labels      []string `json:"labels,omitempty"`
				Created     string   `json:"created,omitempty"`
				Description string   `json:"description"`
			}{issueSummary: c.summarize(&i), Reporter: i.Fields.Reporter.name(), Labels: i.Fields.Labels,
				Created: i.Fields.Created, Description: apitool.Truncate(fromADF(i.Fields.Description), 16<<10)}
			if i.Fields.Assignee != nil {
				out.AssigneeID = i.Fields.Assignee.AccountID
			}
			return apitool.JSON(out)
		},
	}
}

func listProjects(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("list_projects", "List projects", "List the projects the account can see, optionally matching a name or key.", apitool.ReadOnly,
			mcp.WithString("query", mcp.Description("Only projects whose name or key contains this")),
			mcp.WithInteger("max_results", mcp.Min(1), mcp.Max(50), mcp.Description("Projects per page (default 50, at most 50)")),
			mcp.WithInteger("start_at", mcp.Min(0), mcp.Description("Index of the first project, from 0"))),
		Scopes: []string{scopeReadWork},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			q := url.Values{
				"maxResults": {strconv.Itoa(a.Int("max_results", 50, 50))},
				"startAt":    {strconv.Itoa(max(0, a.Int("start_at", 0, 0)))},
			}
			if s := a.String("query"); s != "" {
				q.Set("query", s)
			}
			var res struct {
				StartAt int  `json:"startAt"`
				Total   int  `json:"total"`
				IsLast  bool `json:"isLast"`
				Values  []struct {
					Key            string `json:"key"`
					Name           string `json:"name"`
					ProjectTypeKey string `json:"projectTypeKey"`
				} `json:"values"`
			}
			if err := c.do(ctx, http.MethodGet, "/rest/api/3/project/search", q, nil, &res); err != nil {
				return nil, err
			}
			type project struct {
				Key  string `json:"key"`
				Name string `json:"name"`
				Type string `json:"type,omitempty"`
			}
			out := struct {
				Projects []project `json:"projects"`
				Total    int       `json:"total"`
				StartAt  int       `json:"start_at"`
				IsLast   bool      `json:"is_last"`
			}{Projects: []project{}, Total: res.Total, StartAt: res.StartAt, IsLast: res.IsLast}
			for _, p := range res.Values {
				out.Projects = append(out.Projects, project{p.Key, p.Name, p.ProjectTypeKey})
			}
			return apitool.JSON(out)
		},
	}
}

func getTransitions(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_transitions", "List an issue's transitions",
			"List the workflow transitions the account can make on an issue now, with their ids for transition_issue.", apitool.ReadOnly, issueKey()...),
		Scopes:    []string{scopeReadWork},
		Resources: issueResource,
		Run: c.onIssue(func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error) {
			var res struct {
				Transitions []struct {
					ID   string `json:"id"`
					Name string `json:"name"`
					To   *named `json:"to"`
				} `json:"transitions"`
			}
			if err := c.do(ctx, http.MethodGet, issuePath(key, "transitions"), nil, nil, &res); err != nil {
				return nil, err
			}
			type transition struct {
				ID   string `json:"id"`
				Name string `json:"name"`
				To   string `json:"to,omitempty"`
			}
			out := []transition{}
			for _, t := range res.Transitions {
				out = append(out, transition{t.ID, t.Name, t.To.name()})
			}
			return apitool.JSON(out)
		}),
	}
}

func createIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("create_issue", "Create an issue", "Create an issue in a project.", apitool.Writes,
			mcp.WithString("project", mcp.Required(), mcp.Pattern(projectPattern), mcp.Description("Project key, e.g. OPS")),
			mcp.WithString("issue_type", mcp.Required(), mcp.MinLength(1), mcp.Description("Issue type name, e.g. Task, Bug, Story")),
			mcp.WithString("summary", mcp.Required(), mcp.MinLength(1), mcp.Description("One-line summary")),
			mcp.WithString("description", mcp.Description("Plain text; blank lines separate paragraphs")),
			mcp.WithArray("labels", mcp.WithStringItems(), mcp.Description("Labels (no spaces)"))),
		Scopes:    []string{scopeWriteWork},
		Resources: projectResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			fields := map[string]any{
				"project":   map[string]string{"key": a.String("project")},
				"issuetype": map[string]string{"name": a.String("issue_type")},
				"summary":   a.String("summary"),
			}
			if a.Has("description") {
				fields["description"] = toADF(a.String("description"))
			}
			if a.Has("labels") {
				fields["labels"] = a.Strings("labels")
			}
			var res struct {
				ID  string `json:"id"`
				Key string `json:"key"`
			}
			if err := c.do(ctx, http.MethodPost, "/rest/api/3/issue", nil, map[string]any{"fields": fields}, &res); err != nil {
				return nil, err
			}
			return done(map[string]any{"key": res.Key, "id": res.ID}, c.browse(res.Key))
		},
	}
}

func addComment(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("add_comment", "Comment on an issue", "Add a comment to an issue.", apitool.Writes,
			opts(issueKey(), []mcp.ToolOption{
				mcp.WithString("body", mcp.Required(), mcp.MinLength(1), mcp.Description("Plain text; blank lines separate paragraphs")),
			})...),
		Scopes:    []string{scopeWriteWork},
		Resources: issueResource,
		Run: c.onIssue(func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error) {
			var res struct {
				ID      string `json:"id"`
				Created string `json:"created"`
			}
			if err := c.do(ctx, http.MethodPost, issuePath(key, "comment"), nil, map[string]any{"body": toADF(a.String("body"))}, &res); err != nil {
				return nil, err
			}
			out := map[string]any{"issue": key, "id": res.ID, "created": res.Created}
			if u := c.browse(key); u != "" {
				out["url"] = u + "?focusedCommentId=" + url.QueryEscape(res.ID)
			}
			return apitool.JSON(out)
		}),
	}
}

func updateIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("update_issue", "Update an issue", "Change an issue's summary, description or labels; omitted fields stay as they are.", apitool.Writes,
			opts(issueKey(), []mcp.ToolOption{
				mcp.WithString("summary", mcp.MinLength(1), mcp.Description("New summary")),
				mcp.WithString("description", mcp.Description("New description, plain text; empty clears it")),
				mcp.WithArray("labels", mcp.WithStringItems(), mcp.Description("Replace the labels")),
			})...),
		Scopes:    []string{scopeWriteWork},
		Resources: issueResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			key := a.String("issue_key")
			fields := map[string]any{}
			if a.Has("summary") {
				fields["summary"] = a.String("summary")
			}
			if a.Has("description") {
				if d := a.String("description"); d != "" {
					fields["description"] = toADF(d)
				} else {
					fields["description"] = nil
				}
			}
			if a.Has("labels") {
				fields["labels"] = a.Strings("labels")
			}
			if len(fields) == 0 {
				return nil, invalid("nothing to change: give summary, description or labels")
			}
			// Not onIssue: an empty change is refused before any request.
			if err := c.current(ctx, key); err != nil {
				return nil, err
			}
			if err := c.do(ctx, http.MethodPut, issuePath(key), nil, map[string]any{"fields": fields}, nil); err != nil {
				return nil, err
			}
			return done(map[string]any{"updated": key}, c.browse(key))
		},
	}
}

func transitionIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("transition_issue", "Move an issue through its workflow",
			"Make a workflow transition on an issue (e.g. to In Progress or Done); get_transitions lists the ids.", apitool.Writes,
			opts(issueKey(), []mcp.ToolOption{
				mcp.WithString("transition_id", mcp.Required(), mcp.Pattern(transitionPattern), mcp.Description("Transition id from get_transitions")),
			})...),
		Scopes:    []string{scopeWriteWork},
		Resources: issueResource,
		Run: c.onIssue(func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error) {
			id := a.String("transition_id")
			body := map[string]any{"transition": map[string]string{"id": id}}
			if err := c.do(ctx, http.MethodPost, issuePath(key, "transitions"), nil, body, nil); err != nil {
				return nil, err
			}
			return done(map[string]any{"transitioned": key, "transition_id": id}, c.browse(key))
		}),
	}
}

func assignIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("assign_issue", "Assign an issue", "Assign an issue to an account, or unassign it.", apitool.Writes,
			opts(issueKey(), []mcp.ToolOption{
				mcp.WithString("account_id", mcp.Pattern(accountIDPattern),
					mcp.Description("Account id of the new assignee (get_myself gives yours; issues give their assignee's); omit to unassign")),
			})...),
		Scopes:    []string{scopeWriteWork},
		Resources: issueResource,
		Run: c.onIssue(func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error) {
			var account any // null unassigns
			if a.Has("account_id") {
				account = a.String("account_id")
			}
			if err := c.do(ctx, http.MethodPut, issuePath(key, "assignee"), nil, map[string]any{"accountId": account}, nil); err != nil {
				return nil, err
			}
			return done(map[string]any{"assigned": key, "account_id": account}, c.browse(key))
		}),
	}
}

func deleteIssue(c *client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("delete_issue", "Delete an issue",
			"Delete an issue for good, with its comments and history. This cannot be undone.", apitool.Destroys,
			opts(issueKey(), []mcp.ToolOption{
				mcp.WithBoolean("delete_subtasks", mcp.Description("Delete its subtasks too; without it, an issue with subtasks is not deleted")),
			})...),
		Scopes:    []string{scopeWriteWork},
		Resources: issueResource,
		Run: c.onIssue(func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error) {
			var q url.Values
			if a.Bool("delete_subtasks") {
				q = url.Values{"deleteSubtasks": {"true"}}
			}
			if err := c.do(ctx, http.MethodDelete, issuePath(key), q, nil, nil); err != nil {
				return nil, err
			}
			return apitool.JSON(map[string]any{"deleted": key})
		}),
	}
}

// onIssue is the Run of a tool that acts on the issue issue_key names: run
// gets the key once c.current has checked that it still names an issue of
// the project the call was checked for.
func (c *client) onIssue(run func(ctx context.Context, a apitool.Args, key string) (*mcp.CallToolResult, error)) func(context.Context, apitool.Args) (*mcp.CallToolResult, error) {
	return func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
		key := a.String("issue_key")
		if err := c.current(ctx, key); err != nil {
			return nil, err
		}
		return run(ctx, a, key)
	}
}

// done is the result of a change: what was done and, when the site is
// known, a link.
func done(out map[string]any, link string) (*mcp.CallToolResult, error) {
	if link != "" {
		out["url"] = link
	}
	return apitool.JSON(out)
}
