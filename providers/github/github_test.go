package github

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/apitool"
	"github.com/agentvault/agentvault/providers/providertest"
)

// noRedirects is how AgentVault's service clients treat redirects.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func newProvider(t *testing.T, url string) providers.Provider {
	p, err := New(Config{HTTPClient: noRedirects, BaseURL: url})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToolSnapshots(t *testing.T) { providertest.Snapshots(t, newProvider(t, "http://127.0.0.1:1")) }

type x = providertest.Exchange

const issueJSON = `{"number":7,"title":"Flaky test","state":"open","user":{"login":"ann"},"labels":[{"name":"bug"}],
 "html_url":"https://github.com/acme/widgets/issues/7","repository_url":"https://api.github.com/repos/acme/widgets",
 "body":"It fails on Tuesdays.","comments":2,"created_at":"2026-11-01T10:00:00Z","assignees":[{"login":"bob"}]}`

const pullJSON = `{"number":9,"title":"Fix flake","state":"open","draft":false,"user":{"login":"ann"},
 "head":{"ref":"fix"},"base":{"ref":"main"},"html_url":"https://github.com/acme/widgets/pull/9","body":"Fixes #7","merged":false,"mergeable":true}`

func TestToolsOnTheWire(t *testing.T) {
	providertest.RunCases(t, newProvider, []providertest.Case{
		{Name: "search_repositories", Tool: "search_repositories", Args: map[string]any{"query": "org:acme cli", "per_page": 5.0},
			Exchanges: []x{{Method: "GET", Path: "/search/repositories", Query: "q=org%3Aacme+cli&per_page=5&page=1",
				Response: `{"total_count":1,"incomplete_results":false,"items":[{"full_name":"acme/widgets","description":"Widgets","private":true,"stargazers_count":3,"default_branch":"main","html_url":"https://github.com/acme/widgets"}]}`}},
			Want: []string{`"full_name":"acme/widgets"`, `"total_count":1`}},
		{Name: "search_repositories/rate limited", Tool: "search_repositories", Args: map[string]any{"query": "cli"},
			Exchanges: []x{{Method: "GET", Path: "/search/repositories", Query: "q=cli&per_page=20&page=1", Status: 403,
				Header:   map[string]string{"X-RateLimit-Limit": "30", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "4102444800"},
				Response: `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/resources-in-the-rest-api#rate-limiting"}`}},
			IsError: true, Want: []string{"rate limited", "retry after 2100-01-01T00:00:00Z"}},
		{Name: "get_file_contents/file", Tool: "get_file_contents", Args: map[string]any{"owner": "acme", "repo": "widgets", "path": "docs/a b.md", "ref": "dev"},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/widgets/contents/docs/a%20b.md", Query: "ref=dev",
				Response: `{"type":"file","encoding":"base64","size":6,"name":"a b.md","path":"docs/a b.md","sha":"abc123","content":"aGVsbG8K"}`}},
			Want: []string{"docs/a b.md (6 bytes, sha abc123)", "hello"}},
		{Name: "get_file_contents/dir", Tool: "get_file_contents", Args: map[string]any{"owner": "acme", "repo": "widgets"},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/widgets/contents/",
				Response: `[{"type":"dir","name":"docs","path":"docs","size":0},{"type":"file","name":"go.mod","path":"go.mod","size":42}]`}},
			Want: []string{`{"name":"docs","type":"dir","path":"docs","size":0}`, `"go.mod"`}},
		{Name: "get_file_contents/traversal refused before any request", Tool: "get_file_contents", Args: map[string]any{"owner": "acme", "repo": "widgets", "path": "../../orgs/evil"},
			IsError: true, Want: []string{"must be relative and clean"}},
		{Name: "get_file_contents/owner with slash refused", Tool: "get_file_contents", Args: map[string]any{"owner": "acme/../evil", "repo": "widgets"},
			IsError: true, Want: []string{"owner"}},
		{Name: "search_issues", Tool: "search_issues", Args: map[string]any{"query": "repo:acme/widgets is:open"},
			Exchanges: []x{{Method: "GET", Path: "/search/issues", Query: "q=repo%3Aacme%2Fwidgets+is%3Aopen&per_page=20&page=1",
				Response: `{"total_count":1,"items":[` + issueJSON + `]}`}},
			Want: []string{`"repo":"acme/widgets"`, `"number":7`, `"labels":["bug"]`}},
		{Name: "get_issue", Tool: "get_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "issue_number": 7.0},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/widgets/issues/7", Response: issueJSON}},
			Want:      []string{`"body":"It fails on Tuesdays."`, `"assignees":["bob"]`}},
		{Name: "get_issue/not found", Tool: "get_issue", Args: map[string]any{"owner": "acme", "repo": "secret", "issue_number": 1.0},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/secret/issues/1", Status: 404, Response: `{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}`}},
			IsError:   true, Want: []string{"not found", "not visible to the connected account"}},
		{Name: "get_issue/moved repository", Tool: "get_issue", Args: map[string]any{"owner": "acme", "repo": "old", "issue_number": 1.0},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/old/issues/1", Status: 301,
				Header: map[string]string{"Location": "https://api.github.com/repositories/42/issues/1"}, Response: `{"message":"Moved Permanently"}`}},
			IsError: true, Want: []string{"renamed or transferred", "/repositories/42/issues/1"}},
		{Name: "list_pull_requests", Tool: "list_pull_requests", Args: map[string]any{"owner": "acme", "repo": "widgets", "state": "all", "base": "main"},
			Exchanges: []x{{Method: "GET", Path: "/repos/acme/widgets/pulls", Query: "state=all&base=main&per_page=20&page=1", Response: `[` + pullJSON + `]`}},
			Want:      []string{`"head":"fix"`, `"base":"main"`}},
		{Name: "get_pull_request", Tool: "get_pull_request", Args: map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 9.0},
			Exchanges: []x{
				{Method: "GET", Path: "/repos/acme/widgets/pulls/9", Response: pullJSON},
				{Method: "GET", Path: "/repos/acme/widgets/pulls/9/files", Query: "per_page=100",
					Response: `[{"filename":"x_test.go","status":"modified","additions":3,"deletions":1}]`}},
			Want: []string{`"mergeable":true`, `"filename":"x_test.go"`}},
		{Name: "create_issue", Tool: "create_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "title": "Flaky test", "body": "It fails.", "labels": []any{"bug"}},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/issues", Body: `{"title":"Flaky test","body":"It fails.","labels":["bug"]}`, Status: 201, Response: issueJSON}},
			Want:      []string{`"number":7`, "issues/7"}},
		{Name: "create_issue/validation failed", Tool: "create_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "title": "x", "assignees": []any{"nobody"}},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/issues", Body: `{"title":"x","assignees":["nobody"]}`, Status: 422,
				Response: `{"message":"Validation Failed","errors":[{"value":"nobody","resource":"Issue","field":"assignees","code":"invalid"}]}`}},
			IsError: true, Want: []string{"Validation Failed", "assignees invalid"}},
		{Name: "create_issue/revoked credential", Tool: "create_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "title": "x"},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/issues", Body: `{"title":"x"}`, Status: 401, Response: `{"message":"Bad credentials"}`}},
			IsError:   true, Want: []string{"reconnect GitHub"}},
		{Name: "create_issue/missing scope", Tool: "create_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "title": "x"},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/issues", Body: `{"title":"x"}`, Status: 403,
				Header: map[string]string{"X-Accepted-OAuth-Scopes": "repo", "X-RateLimit-Remaining": "4000"}, Response: `{"message":"Resource not accessible by integration"}`}},
			IsError: true, Want: []string{"permission denied", `lacks the "repo" scope`}},
		{Name: "add_issue_comment", Tool: "add_issue_comment", Args: map[string]any{"owner": "acme", "repo": "widgets", "issue_number": 7.0, "body": "On it."},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/issues/7/comments", Body: `{"body":"On it."}`, Status: 201,
				Response: `{"id":99,"html_url":"https://github.com/acme/widgets/issues/7#issuecomment-99","body":"On it."}`}},
			Want: []string{`"id":99`}},
		{Name: "update_issue", Tool: "update_issue", Args: map[string]any{"owner": "acme", "repo": "widgets", "issue_number": 7.0, "state": "closed", "labels": []any{}},
			Exchanges: []x{{Method: "PATCH", Path: "/repos/acme/widgets/issues/7", Body: `{"state":"closed","labels":[]}`, Response: issueJSON}},
			Want:      []string{`"number":7`}},
		{Name: "create_pull_request", Tool: "create_pull_request", Args: map[string]any{"owner": "acme", "repo": "widgets", "title": "Fix flake", "head": "fix", "base": "main", "draft": true},
			Exchanges: []x{{Method: "POST", Path: "/repos/acme/widgets/pulls", Body: `{"title":"Fix flake","head":"fix","base":"main","draft":true}`, Status: 201, Response: pullJSON}},
			Want:      []string{`"number":9`}},
		{Name: "merge_pull_request", Tool: "merge_pull_request", Args: map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 9.0, "merge_method": "squash"},
			Exchanges: []x{{Method: "PUT", Path: "/repos/acme/widgets/pulls/9/merge", Body: `{"merge_method":"squash"}`,
				Response: `{"sha":"6dcb09b","merged":true,"message":"Pull Request successfully merged"}`}},
			Want: []string{`"merged":true`}},
		{Name: "merge_pull_request/not mergeable", Tool: "merge_pull_request", Args: map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 9.0},
			Exchanges: []x{{Method: "PUT", Path: "/repos/acme/widgets/pulls/9/merge", Body: `{}`, Status: 405, Response: `{"message":"Pull Request is not mergeable"}`}},
			IsError:   true, Want: []string{"not mergeable"}},
		{Name: "delete_file", Tool: "delete_file", Args: map[string]any{"owner": "acme", "repo": "widgets", "path": "old.txt", "message": "Remove old", "sha": "abc123", "branch": "main"},
			Exchanges: []x{{Method: "DELETE", Path: "/repos/acme/widgets/contents/old.txt", Body: `{"message":"Remove old","content":null,"sha":"abc123","branch":"main"}`,
				Response: `{"content":null,"commit":{"sha":"7638417"}}`}},
			Want: []string{`"commit":"7638417"`}},
	})
}

func TestArgumentsAreStrict(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1")
	for name, args := range map[string]map[string]any{
		"case-smuggled key": {"Owner": "evil", "owner": "acme", "repo": "widgets", "title": "x"},
		"wrong type":        {"owner": "acme", "repo": "widgets", "title": 5.0},
		"missing required":  {"owner": "acme", "repo": "widgets"},
		"fractional number": {"owner": "acme", "repo": "widgets", "title": "x", "labels": []any{1.5}},
	} {
		res, err := p.Call(t.Context(), "create_issue", args, nil)
		if err != nil || !res.IsError {
			t.Errorf("%s: %v %+v", name, err, res)
		}
		if _, err := p.(providers.Guarded).Resources("create_issue", args); err == nil {
			t.Errorf("%s: resources read from arguments the call refuses", name)
		}
	}
}

func TestResources(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1").(providers.Guarded)
	repo := func(v string) policy.Resource { return policy.Resource{Kind: policy.Repo, Value: v} }
	for _, tc := range []struct {
		tool string
		args map[string]any
		want []policy.Resource
	}{
		{"create_issue", map[string]any{"owner": "acme", "repo": "widgets", "title": "x"}, []policy.Resource{repo("acme/widgets")}},
		{"search_issues", map[string]any{"query": "is:open repo:acme/widgets repo:evil/x"}, []policy.Resource{repo("acme/widgets"), repo("evil/x")}},
		{"search_issues", map[string]any{"query": "is:open -repo:acme/widgets"}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": "repo:acme/widgets OR is:public"}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": "NOT repo:acme/widgets"}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": `"x repo:acme/widgets"`}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": `"repo:acme/widgets" password`}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": `-"a repo:acme/widgets" is:private`}, []policy.Resource{repo("")}},
		{"search_issues", map[string]any{"query": `repo:acme/widgets "open a" bug`}, []policy.Resource{repo("acme/widgets")}},
		{"search_issues", map[string]any{"query": `repo:acme/widgets "unclosed`}, []policy.Resource{repo("")}},
		{"search_repositories", map[string]any{"query": "ORG:acme cli"}, []policy.Resource{repo("acme/*")}},
		{"search_issues", map[string]any{"query": "is:open label:bug"}, []policy.Resource{repo("")}},
	} {
		got, err := p.Resources(tc.tool, tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: %v %v, want %v", tc.tool, tc.args, got, err, tc.want)
		}
	}
}

func TestScopesHideTools(t *testing.T) {
	p, err := New(Config{HTTPClient: http.DefaultClient, Granted: []string{"read:org"}})
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := p.Tools(t.Context())
	for _, tool := range tools {
		if tool.Name == "create_issue" {
			t.Fatal("create_issue offered without repo scope")
		}
	}
	if len(p.Unavailable()) != 6 {
		t.Fatalf("unavailable: %+v", p.Unavailable())
	}
	res, _ := p.Call(t.Context(), "create_issue", map[string]any{"owner": "a", "repo": "b", "title": "c"}, nil)
	if !res.IsError {
		t.Fatal("unavailable tool ran")
	}
	_ = apitool.MaxText
}

// With a branch guard, the calls that write to a branch ask GitHub which one
// it is to the repository: the default branch or another.
func TestBranchWritesAreLookedUp(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.EscapedPath())
		mu.Unlock()
		switch r.URL.EscapedPath() {
		case "/repos/acme/widgets/pulls/9":
			io.WriteString(w, `{"number":9,"base":{"ref":"main","repo":{"default_branch":"main"}}}`)
		case "/repos/acme/widgets/pulls/10":
			io.WriteString(w, `{"number":10,"base":{"ref":"release-1","repo":{"default_branch":"main"}}}`)
		case "/repos/acme/widgets":
			io.WriteString(w, `{"full_name":"acme/widgets","default_branch":"main"}`)
		case "/repos/acme/widgets/branches/fix%2Fflake":
			io.WriteString(w, `{"name":"fix/flake"}`)
		case "/repos/acme/widgets/branches/refs%2Fheads%2Fmain":
			io.WriteString(w, `{"name":"main"}`) // how GitHub may resolve a spelling of main
		case "/repos/acme/widgets/branches/Fix%2FFlake":
			io.WriteString(w, `{"name":"fix/flake"}`) // GitHub's name for another spelling
		default:
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"message":"Not Found"}`)
		}
	}))
	defer hs.Close()
	p := newProvider(t, hs.URL).(providers.LookingUp)
	branch := func(k policy.Kind) bool { return k == policy.Branch }
	del := func(b string) map[string]any {
		a := map[string]any{"owner": "acme", "repo": "widgets", "path": "a.txt", "message": "rm", "sha": "abc"}
		if b != "" {
			a["branch"] = b
		}
		return a
	}
	for _, tc := range []struct {
		tool string
		args map[string]any
		want string // the branch resource's value
		asks []string
	}{
		{"merge_pull_request", map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 9.0}, "default", []string{"GET /repos/acme/widgets/pulls/9"}},
		{"merge_pull_request", map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 10.0}, "other", []string{"GET /repos/acme/widgets/pulls/10"}},
		{"delete_file", del(""), "default", nil},
		{"delete_file", del("fix/flake"), "other", []string{"GET /repos/acme/widgets", "GET /repos/acme/widgets/branches/fix%2Fflake"}},
		{"delete_file", del("refs/heads/main"), "default", []string{"GET /repos/acme/widgets", "GET /repos/acme/widgets/branches/refs%2Fheads%2Fmain"}},
		{"delete_file", del("gone"), "default", []string{"GET /repos/acme/widgets", "GET /repos/acme/widgets/branches/gone"}},
		{"delete_file", del("Fix/Flake"), "default", []string{"GET /repos/acme/widgets", "GET /repos/acme/widgets/branches/Fix%2FFlake"}},
	} {
		mu.Lock()
		asked = nil
		mu.Unlock()
		got, err := p.LookUp(t.Context(), tc.tool, tc.args, branch)
		want := []policy.Resource{{Kind: policy.Branch, Value: tc.want}}
		mu.Lock()
		requests := slices.Clone(asked)
		mu.Unlock()
		if err != nil || !reflect.DeepEqual(got, want) || !slices.Equal(requests, tc.asks) {
			t.Errorf("%s %v: %v, %v after %q; want %v after %q", tc.tool, tc.args, got, err, requests, want, tc.asks)
		}
	}
	if got, err := p.LookUp(t.Context(), "merge_pull_request", map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 9.0},
		func(policy.Kind) bool { return false }); got != nil || err != nil {
		t.Errorf("without a branch guard: %v, %v", got, err)
	}
	if got, err := p.LookUp(t.Context(), "delete_file", del(".."), branch); err == nil {
		t.Errorf("a branch named .. (a path out of /branches/): %v", got)
	}
	if _, err := p.LookUp(t.Context(), "merge_pull_request", map[string]any{"owner": "acme", "repo": "widgets", "pull_number": 404.0}, branch); err == nil ||
		!strings.Contains(err.Error(), "reading the pull request's base branch") {
		t.Errorf("a pull request GitHub cannot find: %v", err)
	}
}
