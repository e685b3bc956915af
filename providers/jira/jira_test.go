package jira

import (
	"encoding/json"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
)

const site = "https://acme.atlassian.net"

func newProvider(t *testing.T, url string) providers.Provider {
	p, err := New(Config{HTTPClient: http.DefaultClient, BaseURL: url, SiteURL: site})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToolSnapshots(t *testing.T) { providertest.Snapshots(t, newProvider(t, "http://127.0.0.1:1")) }

type x = providertest.Exchange

// Answers shaped like the examples of Atlassian's REST v3 reference.
const (
	myselfJSON = `{"self":"https://acme.atlassian.net/rest/api/3/user?accountId=5b10a2844c20165700ede21g",
 "accountId":"5b10a2844c20165700ede21g","accountType":"atlassian","emailAddress":"mia@example.com",
 "avatarUrls":{"48x48":"https://avatar.example/MK-5.png"},"displayName":"Mia Krystof","active":true,
 "timeZone":"Australia/Sydney","groups":{"size":3,"items":[]},"applicationRoles":{"size":1,"items":[]}}`

	searchFields = `["summary","status","assignee","priority","issuetype","updated"]`

	opsIssue = `{"expand":"","id":"10002","key":"OPS-1","self":"https://acme.atlassian.net/rest/api/3/issue/10002",
 "fields":{"summary":"Disk full on db-1","status":{"name":"In Progress","id":"3"},
 "assignee":{"accountId":"5b10a2844c20165700ede21g","displayName":"Mia Krystof"},
 "priority":{"name":"High","id":"2"},"issuetype":{"name":"Bug","id":"10004"},"updated":"2026-11-02T09:15:00.000+0000"}}`

	secretIssue = `{"expand":"","id":"10040","key":"SECRET-9","self":"https://acme.atlassian.net/rest/api/3/issue/10040",
 "fields":{"summary":"Acquisition plans","status":{"name":"To Do"},"issuetype":{"name":"Task"},"updated":"2026-11-01T08:00:00.000+0000"}}`

	getIssueJSON = `{"id":"10002","key":"OPS-1","self":"https://acme.atlassian.net/rest/api/3/issue/10002",
 "fields":{"summary":"Disk full on db-1","status":{"name":"In Progress"},
 "assignee":{"accountId":"5b10a2844c20165700ede21g","displayName":"Mia Krystof"},
 "reporter":{"accountId":"5b109f2e9729b51b54dc274d","displayName":"Ann Lee"},
 "priority":{"name":"High"},"issuetype":{"name":"Bug"},"labels":["db","oncall"],
 "created":"2026-11-01T07:00:00.000+0000","updated":"2026-11-02T09:15:00.000+0000",
 "description":{"type":"doc","version":1,"content":[
  {"type":"paragraph","content":[{"type":"text","text":"The "},{"type":"text","text":"db-1","marks":[{"type":"code"}]},
   {"type":"text","text":" volume is full."},{"type":"hardBreak"},{"type":"mention","attrs":{"id":"5b10","text":"@Ann Lee"}}]},
  {"type":"bulletList","content":[
   {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"rotate logs"}]}]},
   {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"grow the disk"}]}]}]}]}}}`

	// current is the answer to the check made before acting on OPS-1.
	current = `{"expand":"renderedFields","id":"10002","key":"OPS-1","self":"https://acme.atlassian.net/rest/api/3/issue/10002",
 "fields":{"project":{"id":"10000","key":"OPS","name":"Operations","projectTypeKey":"software","simplified":false}}}`

	// moved: Jira answers to OPS-1, an issue since moved to SECRET.
	moved = `{"id":"10002","key":"SECRET-14","self":"https://acme.atlassian.net/rest/api/3/issue/10002",
 "fields":{"project":{"id":"10040","key":"SECRET","name":"Secret"}}}`
)

// check is the request made before acting on OPS-1.
func check(response string) x {
	return x{Method: "GET", Path: "/rest/api/3/issue/OPS-1", Query: "fields=project", Response: response}
}

func TestToolsOnTheWire(t *testing.T) {
	providertest.RunCases(t, newProvider, []providertest.Case{
		{Name: "get_myself", Tool: "get_myself",
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/myself", Response: myselfJSON}},
			Want:      []string{`"account_id":"5b10a2844c20165700ede21g"`, `"display_name":"Mia Krystof"`, `"time_zone":"Australia/Sydney"`}},
		{Name: "get_myself/revoked credential", Tool: "get_myself",
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/myself", Status: 401, Response: `{"code":401,"message":"Unauthorized"}`}},
			IsError:   true, Want: []string{"reconnect Jira", "Unauthorized"}},

		{Name: "search_issues/in a project, ORDER BY kept outside, other projects dropped", Tool: "search_issues",
			Args: map[string]any{"project": "OPS", "jql": `status = "In Progress" order by updated DESC`},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:     `{"jql":"project = \"OPS\" AND (status = \"In Progress\") order by updated DESC","maxResults":20,"fields":` + searchFields + `}`,
				Response: `{"isLast":true,"issues":[` + opsIssue + `,` + secretIssue + `]}`}},
			Want: []string{`{"key":"OPS-1","summary":"Disk full on db-1","status":"In Progress","assignee":"Mia Krystof","priority":"High","type":"Bug","updated":"2026-11-02T09:15:00.000+0000","url":"https://acme.atlassian.net/browse/OPS-1"}`,
				`"dropped_outside_project":1`, `"is_last":true`}},
		{Name: "search_issues/project only", Tool: "search_issues", Args: map[string]any{"project": "OPS", "max_results": 5.0},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:     `{"jql":"project = \"OPS\"","maxResults":5,"fields":` + searchFields + `}`,
				Response: `{"isLast":true,"issues":[]}`}},
			Want: []string{`"issues":[]`}},
		{Name: "search_issues/project with only ORDER BY", Tool: "search_issues", Args: map[string]any{"project": "OPS", "jql": "ORDER BY created"},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:     `{"jql":"project = \"OPS\" ORDER BY created","maxResults":20,"fields":` + searchFields + `}`,
				Response: `{"isLast":true,"issues":[]}`}},
			Want: []string{`"issues":[]`}},
		{Name: "search_issues/unbounded, next page", Tool: "search_issues",
			Args: map[string]any{"jql": "assignee = currentUser()", "max_results": 80.0, "next_page_token": "CAEaAggD"},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:     `{"jql":"assignee = currentUser()","maxResults":50,"fields":` + searchFields + `,"nextPageToken":"CAEaAggD"}`,
				Response: `{"isLast":false,"nextPageToken":"CAEaAggE","issues":[` + opsIssue + `,` + secretIssue + `]}`}},
			Want: []string{`"key":"OPS-1"`, `"key":"SECRET-9"`, `"next_page_token":"CAEaAggE"`, `"is_last":false`}},
		{Name: "search_issues/unbalanced parenthesis refused before any request", Tool: "search_issues",
			Args:    map[string]any{"project": "OPS", "jql": "status = Open) OR (project = SECRET"},
			IsError: true, Want: []string{"closes a parenthesis it did not open"}},
		{Name: "search_issues/open parenthesis refused", Tool: "search_issues",
			Args:    map[string]any{"project": "OPS", "jql": "status = Open OR (project = SECRET"},
			IsError: true, Want: []string{"leaves a parenthesis open"}},
		{Name: "search_issues/nothing to search", Tool: "search_issues",
			IsError: true, Want: []string{"give jql, project or both"}},
		{Name: "search_issues/bad JQL", Tool: "search_issues", Args: map[string]any{"jql": "stauts = Open"},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:   `{"jql":"stauts = Open","maxResults":20,"fields":` + searchFields + `}`,
				Status: 400, Response: `{"errorMessages":["Field 'stauts' does not exist or you do not have permission to view it."],"errors":{},"warningMessages":[]}`}},
			IsError: true, Want: []string{"Jira refused the request", "Field 'stauts' does not exist"}},
		{Name: "search_issues/rate limited", Tool: "search_issues", Args: map[string]any{"jql": "project = OPS"},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/search/jql",
				Body:   `{"jql":"project = OPS","maxResults":20,"fields":` + searchFields + `}`,
				Status: 429, Header: map[string]string{"Retry-After": "30", "X-RateLimit-Reason": "jira-burst-based"}, Response: ``}},
			IsError: true, Want: []string{"Jira: rate limited; retry after", "Too Many Requests"}},

		{Name: "get_issue", Tool: "get_issue", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/issue/OPS-1",
				Query: "fields=summary,status,assignee,reporter,priority,issuetype,labels,created,updated,description", Response: getIssueJSON}},
			Want: []string{`"key":"OPS-1"`, `"assignee_account_id":"5b10a2844c20165700ede21g"`, `"reporter":"Ann Lee"`, `"labels":["db","oncall"]`,
				`"description":"The db-1 volume is full.\n@Ann Lee\n\n- rotate logs\n- grow the disk"`, `"url":"https://acme.atlassian.net/browse/OPS-1"`}},
		{Name: "get_issue/not found", Tool: "get_issue", Args: map[string]any{"issue_key": "OPS-404"},
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/issue/OPS-404",
				Query: "fields=" + issueFields, Status: 404, Response: `{"errorMessages":["Issue does not exist or you do not have permission to see it."],"errors":{}}`}},
			IsError: true, Want: []string{"Jira: not found", "Issue does not exist"}},
		{Name: "get_issue/moved to another project refused", Tool: "get_issue", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/issue/OPS-1", Query: "fields=" + issueFields,
				Response: strings.Replace(getIssueJSON, `"key":"OPS-1"`, `"key":"SECRET-14"`, 1)}},
			IsError: true, Want: []string{`Jira answers for OPS-1 with issue "SECRET-14"`}},
		{Name: "get_issue/key that could reach another path refused", Tool: "get_issue", Args: map[string]any{"issue_key": "OPS-1/../../myself"},
			IsError: true, Want: []string{"issue_key"}},

		{Name: "list_projects", Tool: "list_projects", Args: map[string]any{"query": "op s", "max_results": 2.0, "start_at": 2.0},
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/project/search", Query: "maxResults=2&startAt=2&query=op+s",
				Response: `{"isLast":false,"maxResults":2,"nextPage":"https://acme.atlassian.net/rest/api/3/project/search?startAt=4&maxResults=2",
 "self":"https://acme.atlassian.net/rest/api/3/project/search?startAt=2&maxResults=2","startAt":2,"total":7,
 "values":[{"avatarUrls":{},"id":"10000","key":"OPS","name":"Operations","projectTypeKey":"software","self":"https://acme.atlassian.net/rest/api/3/project/10000","simplified":false,"style":"CLASSIC"},
 {"id":"10001","key":"OPSX","name":"Ops experiments","projectTypeKey":"business","simplified":true,"style":"NEXTGEN"}]}`}},
			Want: []string{`{"key":"OPS","name":"Operations","type":"software"}`, `"total":7`, `"start_at":2`, `"is_last":false`}},
		{Name: "list_projects/defaults", Tool: "list_projects",
			Exchanges: []x{{Method: "GET", Path: "/rest/api/3/project/search", Query: "maxResults=50&startAt=0",
				Response: `{"isLast":true,"maxResults":50,"startAt":0,"total":0,"values":[]}`}},
			Want: []string{`"projects":[]`}},

		{Name: "get_transitions", Tool: "get_transitions", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{check(current), {Method: "GET", Path: "/rest/api/3/issue/OPS-1/transitions",
				Response: `{"transitions":[{"id":"2","name":"Close Issue","to":{"self":"https://acme.atlassian.net/rest/api/3/status/10000","description":"","name":"Closed","id":"10000"},
 "hasScreen":false,"isGlobal":false,"isInitial":false,"isAvailable":true,"isConditional":false},
 {"id":"711","name":"QA Review","to":{"name":"In Review","id":"5"},"hasScreen":true}]}`}},
			Want: []string{`[{"id":"2","name":"Close Issue","to":"Closed"},{"id":"711","name":"QA Review","to":"In Review"}]`}},

		{Name: "create_issue", Tool: "create_issue",
			Args: map[string]any{"project": "OPS", "issue_type": "Bug", "summary": "Disk full on db-1",
				"description": "The volume is full.\r\nSince 9:00.\n\n\nRotate logs first.", "labels": []any{"db", "oncall"}},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/issue", Status: 201,
				Body: `{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Bug"},"summary":"Disk full on db-1","labels":["db","oncall"],
 "description":{"type":"doc","version":1,"content":[
  {"type":"paragraph","content":[{"type":"text","text":"The volume is full."},{"type":"hardBreak"},{"type":"text","text":"Since 9:00."}]},
  {"type":"paragraph","content":[{"type":"text","text":"Rotate logs first."}]}]}}}`,
				Response: `{"id":"10000","key":"OPS-24","self":"https://acme.atlassian.net/rest/api/3/issue/10000","transition":{"status":200,"errorCollection":{"errorMessages":[],"errors":{}}}}`}},
			Want: []string{`"key":"OPS-24"`, `"url":"https://acme.atlassian.net/browse/OPS-24"`}},
		{Name: "create_issue/invalid fields", Tool: "create_issue", Args: map[string]any{"project": "OPS", "issue_type": "Bgu", "summary": "x"},
			Exchanges: []x{{Method: "POST", Path: "/rest/api/3/issue", Body: `{"fields":{"project":{"key":"OPS"},"issuetype":{"name":"Bgu"},"summary":"x"}}`,
				Status: 400, Response: `{"errorMessages":["Field 'priority' is required"],"errors":{"issuetype":"Specify a valid issue type","labels":"Labels cannot contain spaces"}}`}},
			IsError: true, Want: []string{"Jira refused the request: Field 'priority' is required; issuetype: Specify a valid issue type; labels: Labels cannot contain spaces"}},
		{Name: "create_issue/lowercase project refused", Tool: "create_issue", Args: map[string]any{"project": "ops", "issue_type": "Bug", "summary": "x"},
			IsError: true, Want: []string{"project"}},

		{Name: "add_comment", Tool: "add_comment", Args: map[string]any{"issue_key": "OPS-1", "body": "On it."},
			Exchanges: []x{check(current), {Method: "POST", Path: "/rest/api/3/issue/OPS-1/comment", Status: 201,
				Body: `{"body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"On it."}]}]}}`,
				Response: `{"author":{"accountId":"5b10a2844c20165700ede21g","displayName":"Mia Krystof"},
 "body":{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"On it."}]}]},
 "created":"2026-11-02T10:00:00.000+0000","id":"10100","self":"https://acme.atlassian.net/rest/api/3/issue/10002/comment/10100",
 "updated":"2026-11-02T10:00:00.000+0000"}`}},
			Want: []string{`"id":"10100"`, `"url":"https://acme.atlassian.net/browse/OPS-1?focusedCommentId=10100"`}},
		{Name: "add_comment/issue moved to another project refused", Tool: "add_comment", Args: map[string]any{"issue_key": "OPS-1", "body": "On it."},
			Exchanges: []x{check(moved)},
			IsError:   true, Want: []string{`Jira answers for OPS-1 with issue "SECRET-14"`, "checked this call for project OPS only"}},

		{Name: "update_issue", Tool: "update_issue", Args: map[string]any{"issue_key": "OPS-1", "summary": "Disk full on db-1 and db-2", "description": "", "labels": []any{}},
			Exchanges: []x{check(current), {Method: "PUT", Path: "/rest/api/3/issue/OPS-1", Status: 204,
				Body: `{"fields":{"summary":"Disk full on db-1 and db-2","description":null,"labels":[]}}`}},
			Want: []string{`"updated":"OPS-1"`}},
		{Name: "update_issue/nothing to change", Tool: "update_issue", Args: map[string]any{"issue_key": "OPS-1"},
			IsError: true, Want: []string{"nothing to change"}},

		{Name: "transition_issue", Tool: "transition_issue", Args: map[string]any{"issue_key": "OPS-1", "transition_id": "2"},
			Exchanges: []x{check(current), {Method: "POST", Path: "/rest/api/3/issue/OPS-1/transitions", Status: 204, Body: `{"transition":{"id":"2"}}`}},
			Want:      []string{`"transitioned":"OPS-1"`, `"transition_id":"2"`}},
		{Name: "transition_issue/not available", Tool: "transition_issue", Args: map[string]any{"issue_key": "OPS-1", "transition_id": "99"},
			Exchanges: []x{check(current), {Method: "POST", Path: "/rest/api/3/issue/OPS-1/transitions", Body: `{"transition":{"id":"99"}}`,
				Status: 400, Response: `{"errorMessages":["Transition id '99' is not valid for this issue."],"errors":{}}`}},
			IsError: true, Want: []string{"Transition id '99' is not valid"}},

		{Name: "assign_issue", Tool: "assign_issue", Args: map[string]any{"issue_key": "OPS-1", "account_id": "5b10ac8d82e05b22cc7d4ef5"},
			Exchanges: []x{check(current), {Method: "PUT", Path: "/rest/api/3/issue/OPS-1/assignee", Status: 204, Body: `{"accountId":"5b10ac8d82e05b22cc7d4ef5"}`}},
			Want:      []string{`"assigned":"OPS-1"`, `"account_id":"5b10ac8d82e05b22cc7d4ef5"`}},
		{Name: "assign_issue/unassign", Tool: "assign_issue", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{check(current), {Method: "PUT", Path: "/rest/api/3/issue/OPS-1/assignee", Status: 204, Body: `{"accountId":null}`}},
			Want:      []string{`"account_id":null`}},

		{Name: "delete_issue", Tool: "delete_issue", Args: map[string]any{"issue_key": "OPS-1", "delete_subtasks": true},
			Exchanges: []x{check(current), {Method: "DELETE", Path: "/rest/api/3/issue/OPS-1", Query: "deleteSubtasks=true", Status: 204}},
			Want:      []string{`{"deleted":"OPS-1"}`}},
		{Name: "delete_issue/permission", Tool: "delete_issue", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{check(current), {Method: "DELETE", Path: "/rest/api/3/issue/OPS-1", Status: 403,
				Response: `{"errorMessages":["You do not have permission to delete issues in this project."],"errors":{}}`}},
			IsError: true, Want: []string{"Jira: permission denied: You do not have permission to delete issues"}},
		{Name: "delete_issue/moved issue not deleted", Tool: "delete_issue", Args: map[string]any{"issue_key": "OPS-1"},
			Exchanges: []x{check(moved)},
			IsError:   true, Want: []string{`"SECRET-14"`}},
	})
}

// TestSearchStaysInProject: whatever Jira makes of the query, a search
// limited to a project returns nothing of another.
func TestSearchStaysInProject(t *testing.T) {
	api := providertest.NewAPI(t, x{Method: "POST", Path: "/rest/api/3/search/jql",
		Body:     `{"jql":"project = \"OPS\" AND (issuekey in (SECRET-9, OPS-1))","maxResults":20,"fields":` + searchFields + `}`,
		Response: `{"isLast":true,"issues":[` + secretIssue + `,` + opsIssue + `]}`})
	res, err := newProvider(t, api.URL).Call(t.Context(), "search_issues", map[string]any{"project": "OPS", "jql": "issuekey in (SECRET-9, OPS-1)"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	text := providertest.ResultText(res)
	if res.IsError || strings.Contains(text, "SECRET") || strings.Contains(text, "Acquisition") || !strings.Contains(text, `"key":"OPS-1"`) {
		t.Errorf("result: %s", text)
	}
}

func TestRestrictJQL(t *testing.T) {
	for _, tc := range []struct{ jql, want, fail string }{
		{jql: "", want: `project = "OPS"`},
		{jql: "  status = Open  ", want: `project = "OPS" AND (status = Open)`},
		{jql: "status = Open ORDER BY priority DESC, updated", want: `project = "OPS" AND (status = Open) ORDER BY priority DESC, updated`},
		{jql: "(a = 1 OR b = 2)order\n\tby created", want: `project = "OPS" AND ((a = 1 OR b = 2)) order` + "\n\tby created"},
		{jql: `summary ~ "order by (" ORDER BY key`, want: `project = "OPS" AND (summary ~ "order by (") ORDER BY key`},
		{jql: `summary ~ 'it\'s )' AND text ~ "a\"("`, want: `project = "OPS" AND (summary ~ 'it\'s )' AND text ~ "a\"(")`},
		{jql: "reorder = 1 AND orderby = 2 AND border by = 3", want: `project = "OPS" AND (reorder = 1 AND orderby = 2 AND border by = 3)`},
		{jql: "a = 1) OR (b = 2", fail: "closes a parenthesis"},
		{jql: "a = 1 OR (b = 2", fail: "leaves a parenthesis open"},
		{jql: `summary ~ "open`, fail: "unterminated string"},
		{jql: "(a = 1 ORDER BY key)", fail: "ORDER BY inside parentheses"},
	} {
		got, err := restrictJQL("OPS", tc.jql)
		switch {
		case tc.fail != "" && (err == nil || !strings.Contains(err.Error(), tc.fail)):
			t.Errorf("%q: %q %v, want an error %q", tc.jql, got, err, tc.fail)
		case tc.fail == "" && (err != nil || got != tc.want):
			t.Errorf("%q:\n got %q %v\nwant %q", tc.jql, got, err, tc.want)
		}
	}
}

func TestADFText(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"null", `null`, ""},
		{"plain string", `"old text"`, "old text"},
		{"ordered list, nested", `{"type":"doc","version":1,"content":[{"type":"orderedList","attrs":{"order":3},"content":[
 {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"one"}]},
  {"type":"bulletList","content":[{"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"sub"}]}]}]}]},
 {"type":"listItem","content":[{"type":"paragraph","content":[{"type":"text","text":"two"}]}]}]}]}`, "3. one\n   - sub\n4. two"},
		{"heading, code, quote, rule, card, emoji, date, status", `{"type":"doc","version":1,"content":[
 {"type":"heading","attrs":{"level":2},"content":[{"type":"text","text":"Steps"}]},
 {"type":"codeBlock","attrs":{"language":"sh"},"content":[{"type":"text","text":"df -h\ndu -sh /var"}]},
 {"type":"blockquote","content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]},{"type":"paragraph","content":[{"type":"text","text":"b"}]}]},
 {"type":"rule"},
 {"type":"paragraph","content":[{"type":"inlineCard","attrs":{"url":"https://x.example/1"}},{"type":"text","text":" "},
  {"type":"emoji","attrs":{"shortName":":fire:","text":"🔥"}},{"type":"text","text":" due "},{"type":"date","attrs":{"timestamp":"1798761600000"}},
  {"type":"text","text":" "},{"type":"status","attrs":{"text":"BLOCKED","color":"red"}}]},
 {"type":"mediaSingle","content":[{"type":"media","attrs":{"type":"file","id":"abc"}}]},
 {"type":"table","content":[{"type":"tableRow","content":[{"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"host"}]}]},
  {"type":"tableHeader","content":[{"type":"paragraph","content":[{"type":"text","text":"use"}]}]}]},
  {"type":"tableRow","content":[{"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"db-1"}]}]},
  {"type":"tableCell","content":[{"type":"paragraph","content":[{"type":"text","text":"100%"}]}]}]}]},
 {"type":"panel","attrs":{"panelType":"info"},"content":[{"type":"paragraph","content":[{"type":"text","text":"note"}]}]}]}`,
			"Steps\n\ndf -h\ndu -sh /var\n\n> a\n> \n> b\n\n---\n\nhttps://x.example/1 🔥 due 2027-01-01 BLOCKED\n\n[attachment]\n\nhost | use\ndb-1 | 100%\n\nnote"},
	} {
		if got := fromADF(json.RawMessage(tc.doc)); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

func TestPlainTextToADF(t *testing.T) {
	for text, want := range map[string]string{
		"":               `{"type":"doc","version":1,"content":[]}`,
		"\n\n  \n":       `{"type":"doc","version":1,"content":[]}`,
		"a\n\nb":         `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]},{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}`,
		"a\n\n\nb\n":     `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"a"}]},{"type":"paragraph","content":[{"type":"text","text":"b"}]}]}`,
		"line 1\n\tline": `{"type":"doc","version":1,"content":[{"type":"paragraph","content":[{"type":"text","text":"line 1"},{"type":"hardBreak"},{"type":"text","text":"\tline"}]}]}`,
	} {
		got, _ := json.Marshal(toADF(text))
		if string(got) != want {
			t.Errorf("%q:\n got %s\nwant %s", text, got, want)
		}
	}
}

func TestArgumentsAreStrict(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1")
	for name, args := range map[string]map[string]any{
		"case-smuggled key":    {"Project": "SECRET", "project": "OPS", "issue_type": "Bug", "summary": "x"},
		"wrong type":           {"project": "OPS", "issue_type": "Bug", "summary": 5.0},
		"missing required":     {"project": "OPS", "issue_type": "Bug"},
		"project with JQL":     {"project": `OPS" OR project = "SECRET`, "issue_type": "Bug", "summary": "x"},
		"label not a string":   {"project": "OPS", "issue_type": "Bug", "summary": "x", "labels": []any{1.0}},
		"empty summary":        {"project": "OPS", "issue_type": "Bug", "summary": ""},
		"project key too long": {"project": "ABCDEFGHIJK", "issue_type": "Bug", "summary": "x"},
	} {
		res, err := p.Call(t.Context(), "create_issue", args, nil)
		if err != nil || !res.IsError {
			t.Errorf("%s: %v %+v", name, err, res)
		}
		if _, err := p.(providers.Guarded).Resources("create_issue", args); err == nil {
			t.Errorf("%s: resources read from arguments the call refuses", name)
		}
	}
	for _, key := range []string{"ops-1", "OPS-0", "OPS-1 ", "OPS-01", "OPS", "OPS-1/comment", "OPS-1?x=1", "../OPS-1", "OPS-1%2F"} {
		if _, err := p.(providers.Guarded).Resources("delete_issue", map[string]any{"issue_key": key}); err == nil {
			t.Errorf("issue key %q accepted", key)
		}
	}
}

func TestResources(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1").(providers.Guarded)
	project := func(v string) []policy.Resource { return []policy.Resource{{Kind: policy.Project, Value: v}} }
	for _, tc := range []struct {
		tool string
		args map[string]any
		want []policy.Resource
	}{
		{"get_myself", nil, nil},
		{"list_projects", map[string]any{"query": "SECRET"}, nil},
		{"search_issues", map[string]any{"project": "OPS", "jql": "project = SECRET"}, project("OPS")},
		{"search_issues", map[string]any{"jql": "project = OPS"}, project("")},
		{"get_issue", map[string]any{"issue_key": "OPS_2-17"}, project("OPS_2")},
		{"get_transitions", map[string]any{"issue_key": "A-1"}, project("A")},
		{"create_issue", map[string]any{"project": "ENG", "issue_type": "Task", "summary": "x"}, project("ENG")},
		{"add_comment", map[string]any{"issue_key": "OPS-1", "body": "x"}, project("OPS")},
		{"update_issue", map[string]any{"issue_key": "OPS-1", "summary": "x"}, project("OPS")},
		{"transition_issue", map[string]any{"issue_key": "OPS-1", "transition_id": "2"}, project("OPS")},
		{"assign_issue", map[string]any{"issue_key": "OPS-1"}, project("OPS")},
		{"delete_issue", map[string]any{"issue_key": "ENG-99"}, project("ENG")},
	} {
		got, err := p.Resources(tc.tool, tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: %v %v, want %v", tc.tool, tc.args, got, err, tc.want)
		}
	}
}

func TestScopesHideTools(t *testing.T) {
	p, err := New(Config{HTTPClient: http.DefaultClient, BaseURL: "https://api.atlassian.com/ex/jira/11223344-a1b2-3b33-c444-def123456789",
		Granted: []string{"read:jira-work", "offline_access"}})
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := p.Tools(t.Context())
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	if want := []string{"search_issues", "get_issue", "list_projects", "get_transitions"}; !reflect.DeepEqual(names, want) {
		t.Errorf("offered %v, want %v", names, want)
	}
	if n := len(p.Unavailable()); n != 7 {
		t.Errorf("unavailable: %+v", p.Unavailable())
	}
	res, _ := p.Call(t.Context(), "delete_issue", map[string]any{"issue_key": "OPS-1"}, nil)
	if !res.IsError || !strings.Contains(providertest.ResultText(res), "write:jira-work") {
		t.Errorf("unavailable tool ran: %s", providertest.ResultText(res))
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no client":       {BaseURL: site},
		"no base URL":     {HTTPClient: http.DefaultClient},
		"relative":        {HTTPClient: http.DefaultClient, BaseURL: "acme.atlassian.net"},
		"query":           {HTTPClient: http.DefaultClient, BaseURL: site + "/?x=1"},
		"user info":       {HTTPClient: http.DefaultClient, BaseURL: "https://me:token@acme.atlassian.net"},
		"bad site":        {HTTPClient: http.DefaultClient, BaseURL: site, SiteURL: "ftp://acme"},
		"other scheme":    {HTTPClient: http.DefaultClient, BaseURL: "file:///etc"},
		"fragment in URL": {HTTPClient: http.DefaultClient, BaseURL: site + "#x"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestLinks(t *testing.T) {
	for _, tc := range []struct{ base, site, want string }{
		{"https://acme.atlassian.net/", "", "https://acme.atlassian.net/browse/OPS-1"},
		{"https://api.atlassian.com/ex/jira/11223344-a1b2", "", ""},
		{"https://API.atlassian.com/ex/jira/11223344-a1b2", "https://acme.atlassian.net/", "https://acme.atlassian.net/browse/OPS-1"},
	} {
		c, err := newClient(Config{HTTPClient: http.DefaultClient, BaseURL: tc.base, SiteURL: tc.site})
		if err != nil {
			t.Fatal(err)
		}
		if got := c.browse("OPS-1"); got != tc.want {
			t.Errorf("%s %s: %q, want %q", tc.base, tc.site, got, tc.want)
		}
	}
}

func TestAnswerTooLarge(t *testing.T) {
	big := `{"accountId":"` + strings.Repeat("a", maxBody) + `"}`
	api := providertest.NewAPI(t, x{Method: "GET", Path: "/rest/api/3/myself", Response: big})
	res, err := newProvider(t, api.URL).Call(t.Context(), "get_myself", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Fatalf("%v %+v", err, res)
	}
}
