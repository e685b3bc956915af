package services

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"golang.org/x/oauth2"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/internal/store"
)

func TestConnectServiceKeepsCredentialsInTheKeychain(t *testing.T) {
	var auth []string
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth = append(auth, r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"number":1,"title":"t","state":"open","user":{"login":"octocat"}}`)
	}))
	defer gh.Close()
	sec := &secretstest.Memory{}
	dir := t.TempDir()
	c := openRegistry(t, dir, sec)

	const token = "ghp_connect_canary_0123456789"
	info, err := c.Connect(t.Context(), api.ConnectSpec{Kind: "github", Auth: "token", Token: &oauth2.Token{AccessToken: token},
		APIURL: gh.URL, Account: "octocat", Scopes: []string{"repo"}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "github" || info.Account != "octocat" || !slices.Equal(info.Scopes, []string{"repo"}) {
		t.Fatalf("service %+v", info)
	}
	if !slices.ContainsFunc(info.Grants, func(g string) bool { return strings.HasPrefix(g, "repo: ") }) {
		t.Fatalf("connecting says nothing of what the repo scope grants: %q", info.Grants)
	}
	p, ok := c.Provider("github")
	if !ok {
		t.Fatal("no provider")
	}
	res, err := p.Call(t.Context(), "get_issue", map[string]any{"owner": "acme", "repo": "w", "issue_number": 1.0}, nil)
	if err != nil || res.IsError {
		t.Fatalf("call: %+v %v", res, err)
	}
	if len(auth) != 1 || auth[0] != "Bearer "+token {
		t.Fatalf("GitHub received Authorization %q", auth)
	}
	// A redirect elsewhere is not followed: the token stays with GitHub.
	var leaked atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked.Store(r.Header.Get("Authorization") != "")
	}))
	defer elsewhere.Close()
	redirecting := httptest.NewServer(http.RedirectHandler(elsewhere.URL+"/x", http.StatusFound))
	defer redirecting.Close()
	if _, err := c.Connect(t.Context(), api.ConnectSpec{Kind: "github", Name: "moved", Auth: "token", Token: &oauth2.Token{AccessToken: token}, APIURL: redirecting.URL}); err != nil {
		t.Fatal(err)
	}
	moved, _ := c.Provider("moved")
	if res, err := moved.Call(t.Context(), "get_issue", map[string]any{"owner": "acme", "repo": "w", "issue_number": 1.0}, nil); err != nil || !res.IsError {
		t.Fatalf("redirected call: %+v %v", res, err)
	}
	if leaked.Load() {
		t.Fatal("the token followed a redirect to another server")
	}

	db, _ := os.ReadFile(filepath.Join(dir, store.FileName))
	if strings.Contains(string(db), token) {
		t.Fatal("the token is in the store file")
	}

	// Reconnecting replaces the credential; a service of another kind under
	// the same name is refused.
	if _, err := c.Connect(t.Context(), api.ConnectSpec{Kind: "github", Auth: "token", Token: &oauth2.Token{AccessToken: "ghp_new"}, APIURL: gh.URL}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Connect(t.Context(), api.ConnectSpec{Kind: "slack", Name: "github", Auth: "token", Token: &oauth2.Token{AccessToken: "x"}}); err == nil {
		t.Fatal("a Slack service replaced the GitHub one")
	}
	for _, bad := range []api.ConnectSpec{
		{Kind: "gitlab", Auth: "token", Token: &oauth2.Token{AccessToken: "x"}},
		{Kind: "github", Auth: "token"},
		{Kind: "github", Auth: "token", Token: &oauth2.Token{AccessToken: "x", RefreshToken: "r"}},
		{Kind: "jira", Auth: "basic", Email: "me@acme.com", APIToken: "t"},
		{Kind: "github", Auth: "password"},
	} {
		if _, err := c.Connect(t.Context(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}

	if err := c.Remove("github"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{credentialKey("github"), tokenKey("github")} {
		if _, err := sec.Get(k); !errors.Is(err, secrets.ErrNotFound) {
			t.Errorf("%s survived disconnect: %v", k, err)
		}
	}
}

func TestStdioServerVariablesLiveInTheKeychain(t *testing.T) {
	sec := &secretstest.Memory{}
	c := openRegistry(t, t.TempDir(), sec)
	info, err := c.Add(t.Context(), api.ServiceSpec{Name: "tool", Command: "true", Env: []string{"API_TOKEN=s3cret", "REGION=eu"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(info.Env, []string{"API_TOKEN", "REGION"}) {
		t.Fatalf("env names %v", info.Env)
	}
	if v, _ := sec.Get(envKey("tool", "API_TOKEN")); v != "s3cret" {
		t.Fatalf("keychain holds %q", v)
	}
	for _, bad := range []api.ServiceSpec{
		{Name: "a", Command: "true", Env: []string{"NOEQUALS"}},
		{Name: "b", Command: "true", Env: []string{"1BAD=x"}},
		{Name: "c", URL: "http://127.0.0.1:1/mcp", Env: []string{"A=b"}},
	} {
		if _, err := c.Add(t.Context(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := c.Remove("tool"); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.Get(envKey("tool", "API_TOKEN")); !errors.Is(err, secrets.ErrNotFound) {
		t.Fatalf("variable survived removal: %v", err)
	}
}
