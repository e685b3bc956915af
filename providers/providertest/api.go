package providertest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers"
)

// Exchange is one request a provider must send, exactly, and the answer a
// fake service gives it (shaped like the service's documentation).
type Exchange struct {
	Method string
	Path   string // the escaped path, e.g. /repos/acme/widgets/contents/a%2Fb
	// Query is compared as parsed values; "" means none.
	Query string
	// Body is compared as JSON when it starts with '{' or '[', as form values
	// when the request is a form, byte for byte otherwise; "" means none.
	Body string
	// Status of the answer; 0: 200.
	Status int
	// Header of the answer.
	Header   map[string]string
	Response string
}

// API is a fake service that expects exactly its exchanges, in order, and
// fails the test on any difference or on an unexpected request.
type API struct {
	*httptest.Server
	t    *testing.T
	mu   sync.Mutex
	want []Exchange
	next int
}

// NewAPI starts a fake service; it is closed when the test ends, and the
// test fails if an exchange was never requested.
func NewAPI(t *testing.T, want ...Exchange) *API {
	t.Helper()
	a := &API{t: t, want: want}
	a.Server = httptest.NewServer(http.HandlerFunc(a.serve))
	t.Cleanup(func() {
		a.Close()
		a.mu.Lock()
		defer a.mu.Unlock()
		if a.next < len(a.want) {
			t.Errorf("request %d (%s %s) never came", a.next+1, a.want[a.next].Method, a.want[a.next].Path)
		}
	})
	return a
}

func (a *API) serve(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	if a.next >= len(a.want) {
		a.t.Errorf("unexpected request %s %s %s", r.Method, r.URL, body)
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	x := a.want[a.next]
	a.next++
	if r.Method != x.Method || r.URL.EscapedPath() != x.Path {
		a.t.Errorf("request %d: got %s %s, want %s %s", a.next, r.Method, r.URL.EscapedPath(), x.Method, x.Path)
	}
	if got, want := r.URL.Query(), mustQuery(a.t, x.Query); !reflect.DeepEqual(got, want) {
		a.t.Errorf("request %d (%s): query %v, want %v", a.next, x.Path, got, want)
	}
	if !sameBody(r, body, x.Body) {
		a.t.Errorf("request %d (%s): body\n%s\nwant\n%s", a.next, x.Path, body, x.Body)
	}
	for k, v := range x.Header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	status := x.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	io.WriteString(w, x.Response)
}

func mustQuery(t *testing.T, q string) url.Values {
	v, err := url.ParseQuery(q)
	if err != nil {
		t.Fatalf("bad expected query %q: %v", q, err)
	}
	return v
}

func sameBody(r *http.Request, got []byte, want string) bool {
	switch {
	case want == "":
		return len(bytes.TrimSpace(got)) == 0
	case strings.HasPrefix(want, "{") || strings.HasPrefix(want, "["):
		var g, w any
		return json.Unmarshal(got, &g) == nil && json.Unmarshal([]byte(want), &w) == nil && reflect.DeepEqual(g, w)
	case strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"):
		g, err1 := url.ParseQuery(string(got))
		w, err2 := url.ParseQuery(want)
		return err1 == nil && err2 == nil && reflect.DeepEqual(g, w)
	}
	return string(got) == want
}

// Case is one tool call against a fake service.
type Case struct {
	Name string
	Tool string
	Args map[string]any
	// Exchanges are the requests the call must make, in order.
	Exchanges []Exchange
	// Want are fragments the result's text must contain.
	Want []string
	// IsError: the result must be a tool error.
	IsError bool
}

// RunCases runs every case against its own fake service, built by
// newProvider from the fake's URL, and fails when a tool of the provider
// has no case: every tool is checked on the wire.
func RunCases(t *testing.T, newProvider func(t *testing.T, baseURL string) providers.Provider, cases []Case) {
	t.Helper()
	covered := map[string]bool{}
	for _, tc := range cases {
		covered[tc.Tool] = true
		t.Run(tc.Name, func(t *testing.T) {
			api := NewAPI(t, tc.Exchanges...)
			p := newProvider(t, api.URL)
			res, err := p.Call(t.Context(), tc.Tool, tc.Args, nil)
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			text := ResultText(res)
			if res.IsError != tc.IsError {
				t.Fatalf("IsError = %v, want %v: %s", res.IsError, tc.IsError, text)
			}
			for _, w := range tc.Want {
				if !strings.Contains(text, w) {
					t.Errorf("result lacks %q:\n%s", w, text)
				}
			}
		})
	}
	p := newProvider(t, "http://127.0.0.1:1")
	tools, err := p.Tools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range tools {
		if !covered[tool.Name] {
			t.Errorf("tool %s has no wire test", tool.Name)
		}
	}
}

// ResultText joins a result's text contents.
func ResultText(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// UpdateSnapshots is the environment variable that rewrites tool snapshots.
const UpdateSnapshots = "UPDATE_TOOLSNAPS"

// Snapshots compares every tool definition of p with its golden file
// testdata/toolsnaps/<tool>.snap. A missing or different snapshot fails;
// UPDATE_TOOLSNAPS=1 writes them instead. Snapshots of tools that no longer
// exist fail too, so the directory is the exact list of tools.
func Snapshots(t *testing.T, p providers.Provider) {
	t.Helper()
	tools, err := p.Tools(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("testdata", "toolsnaps")
	update := os.Getenv(UpdateSnapshots) == "1"
	if update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	for _, tool := range tools {
		name := tool.Name + ".snap"
		names = append(names, name)
		got, err := json.MarshalIndent(tool, "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join(dir, name)
		if update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Errorf("tool %s has no snapshot (%v): run with %s=1 and review it", tool.Name, err, UpdateSnapshots)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("tool %s differs from %s (run with %s=1 if intended):\n%s", tool.Name, path, UpdateSnapshots, got)
		}
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.snap"))
	for _, f := range files {
		if !slices.Contains(names, filepath.Base(f)) {
			if update {
				os.Remove(f)
			} else {
				t.Errorf("snapshot %s names no tool", f)
			}
		}
	}
}
