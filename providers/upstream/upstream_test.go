package upstream

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/providers/providertest"
)

// The test binary doubles as a stdio upstream: the echo server, plus a tool
// that waits until its call is cancelled and then leaves the file named by
// UPSTREAM_TEST_CANCELLED.
func TestMain(m *testing.M) {
	if os.Getenv("UPSTREAM_TEST_ROLE") == "echo" {
		s := providertest.NewEchoServer(providertest.NewRecorder())
		s.AddTool(mcp.NewTool("wait", mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
			func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				<-ctx.Done()
				os.WriteFile(os.Getenv("UPSTREAM_TEST_CANCELLED"), []byte("cancelled"), 0o600)
				return nil, ctx.Err()
			})
		s.AddTool(mcp.NewTool("environ", mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
			func(context.Context, mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return mcp.NewToolResultText(strings.Join(os.Environ(), "\n")), nil
			})
		if err := server.ServeStdio(s); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// stdioEcho returns a provider running this binary as the echo server; the
// running server's pid is written to pidFile.
func stdioEcho(t *testing.T, pidFile string, changed func()) *Provider {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	p, err := New(Config{
		Name:           "echo",
		Command:        []string{"sh", "-c", `echo $$ > "$0"; exec "$1"`, pidFile, self},
		Env:            []string{"UPSTREAM_TEST_ROLE=echo", "UPSTREAM_TEST_CANCELLED=" + filepath.Join(filepath.Dir(pidFile), "cancelled")},
		OnToolsChanged: changed,
		Logger:         quiet,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func echo(t *testing.T, p *Provider, msg string) (*mcp.CallToolResult, error) {
	t.Helper()
	return p.Call(t.Context(), "echo", map[string]any{"message": msg}, nil)
}

func TestStdioServerIsStartedOnDemandAndProxied(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	p := stdioEcho(t, pidFile, nil)
	if _, err := os.Stat(pidFile); err == nil {
		t.Fatal("server started before first use")
	}
	tools, err := p.Tools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
		if tl.Annotations.ReadOnlyHint == nil || tl.Annotations.DestructiveHint == nil {
			t.Errorf("tool %s lost its annotations", tl.Name)
		}
	}
	if !slices.Equal(names, []string{"delete_note", "echo", "environ", "fail", "rich", "slow", "wait", "write_note"}) {
		t.Fatalf("tools %v", names)
	}
	res, err := echo(t, p, "hi")
	if err != nil || res.Content[0].(mcp.TextContent).Text != "hi" {
		t.Fatalf("echo: %+v, %v", res, err)
	}
	var mu sync.Mutex
	var steps []float64
	res, err = p.Call(t.Context(), "slow", map[string]any{"steps": 3}, func(done, total float64, msg string) {
		mu.Lock()
		steps = append(steps, done)
		mu.Unlock()
		if total != 3 || !strings.HasPrefix(msg, "step ") {
			t.Errorf("progress total %v message %q", total, msg)
		}
	})
	if err != nil || res.IsError {
		t.Fatalf("slow: %+v, %v", res, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(steps) == 0 || steps[0] != 1 || !slices.IsSorted(steps) {
		t.Fatalf("progress %v", steps)
	}
}

func TestACancelledCallIsCancelledAtAStdioServer(t *testing.T) {
	dir := t.TempDir()
	p := stdioEcho(t, filepath.Join(dir, "pid"), nil)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(200 * time.Millisecond); cancel() }()
	if _, err := p.Call(ctx, "wait", nil, nil); err == nil {
		t.Fatal("a cancelled call succeeded")
	}
	// Over stdio only notifications/cancelled can tell the server.
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(dir, "cancelled")); err == nil {
			return
		}
	}
	t.Fatal("the server never heard that the call was cancelled")
}

func TestDeadStdioServerIsRestarted(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	var changes atomic.Int32
	p := stdioEcho(t, pidFile, func() { changes.Add(1) })
	if _, err := echo(t, p, "first"); err != nil {
		t.Fatal(err)
	}
	var pid int
	raw, _ := os.ReadFile(pidFile)
	fmt.Sscan(string(raw), &pid)
	server, err := os.FindProcess(pid)
	if err != nil {
		t.Fatal(err)
	}
	if err := server.Kill(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	// The call that finds the server dead fails; the next starts it again.
	for range 3 {
		if _, err = echo(t, p, "again"); err == nil {
			break
		}
	}
	if err != nil {
		t.Fatalf("no restart after the server died: %v", err)
	}
	raw, _ = os.ReadFile(pidFile)
	var newPid int
	fmt.Sscan(string(raw), &newPid)
	if newPid == pid || newPid == 0 {
		t.Fatalf("pid %d after restart, was %d", newPid, pid)
	}
	if changes.Load() == 0 {
		t.Fatal("OnToolsChanged not called after the server died")
	}
}

func TestFailedStartsBackOff(t *testing.T) {
	p, err := New(Config{Name: "missing", Command: []string{filepath.Join(t.TempDir(), "no-such-program")}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := p.Tools(t.Context()); err == nil {
		t.Fatal("a missing program started")
	}
	if _, err := p.Tools(t.Context()); err == nil {
		t.Fatal("a missing program started")
	}
	_, err = p.Tools(t.Context())
	if err == nil || !strings.Contains(err.Error(), "retrying in") {
		t.Fatalf("third attempt right after two failures: %v, want a backoff", err)
	}
}

func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{0: 0, 1: 0, 2: time.Second, 3: 2 * time.Second, 6: 16 * time.Second, 7: 30 * time.Second, 40: 30 * time.Second} {
		if got := backoff(n); got != want {
			t.Errorf("backoff(%d) = %v, want %v", n, got, want)
		}
	}
}

func TestHTTPServerGetsHeaders(t *testing.T) {
	var seen atomic.Value
	mcpSrv := server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder()))
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.Header.Get("X-Api-Key"))
		mcpSrv.ServeHTTP(w, r)
	}))
	defer hs.Close()
	p, err := New(Config{Name: "remote", URL: hs.URL + "/mcp", Headers: map[string]string{"X-Api-Key": "k1"}, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if _, err := echo(t, p, "x"); err != nil {
		t.Fatal(err)
	}
	if seen.Load() != "k1" {
		t.Fatalf("upstream saw X-Api-Key %q", seen.Load())
	}
}

func TestConfigNeedsExactlyOneTarget(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Fatal("no target accepted")
	}
	if _, err := New(Config{Command: []string{"x"}, URL: "http://h"}); err == nil {
		t.Fatal("two targets accepted")
	}
}

func TestClosedProviderRefuses(t *testing.T) {
	p := stdioEcho(t, filepath.Join(t.TempDir(), "pid"), nil)
	p.Close()
	if _, err := p.Call(context.Background(), "echo", nil, nil); err == nil {
		t.Fatal("closed provider ran a call")
	}
}

func TestStatusSaysWhatIsGoingOn(t *testing.T) {
	p := stdioEcho(t, filepath.Join(t.TempDir(), "pid"), nil)
	if s := p.Status(); s != "starts when an agent first needs it" {
		t.Fatalf("before use: %q", s)
	}
	p.Tools(t.Context())
	if s := p.Status(); s != "connected, 8 tools" {
		t.Fatalf("after listing: %q", s)
	}
	broken, _ := New(Config{Name: "missing", Command: []string{filepath.Join(t.TempDir(), "nope")}, Logger: quiet})
	defer broken.Close()
	broken.Tools(t.Context())
	if s := broken.Status(); !strings.HasPrefix(s, "not reachable: ") || !strings.Contains(s, "nope") {
		t.Fatalf("a server that cannot start: %q", s)
	}
}

// A server that does not start says why: how the command exited with the
// last lines it wrote, or what the address answered instead of MCP.
func TestStartFailuresSayWhy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		command []string
		url     string
		handler http.HandlerFunc
		want    []string
	}{
		{name: "exits", command: []string{"sh", "-c", "echo starting >&2; echo 'Error: API_KEY is not set' >&2; exit 3"},
			want: []string{"exited (exit status 3)", "starting\nError: API_KEY is not set"}},
		{name: "missing", command: []string{"/nonexistent/server"}, want: []string{"/nonexistent/server", "no such file"}},
		{name: "web page", handler: func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			io.WriteString(w, "<html>Welcome</html>")
		}, want: []string{"web page (HTTP 200, text/html)"}},
		{name: "unauthorized", handler: func(w http.ResponseWriter, _ *http.Request) { http.Error(w, "no", http.StatusUnauthorized) },
			want: []string{"HTTP 401 Unauthorized", "credential"}},
		{name: "not found", handler: http.NotFound, want: []string{"HTTP 404 Not Found"}},
		{name: "nothing listens", url: "http://127.0.0.1:1/mcp?api_key=k3y-canary", want: []string{"cannot reach the server", "connection refused"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := Config{Name: "s", Command: tc.command, URL: tc.url, Logger: quiet}
			if tc.handler != nil {
				srv := httptest.NewServer(tc.handler)
				t.Cleanup(srv.Close)
				cfg.URL = srv.URL
			}
			p, err := New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { p.Close() })
			_, err = p.Tools(t.Context())
			if err != nil && strings.Contains(err.Error(), "k3y-canary") {
				t.Errorf("the error repeats the address's key: %v", err)
			}
			for _, w := range tc.want {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("error %v, want it to say %q", err, w)
				}
			}
		})
	}
}
