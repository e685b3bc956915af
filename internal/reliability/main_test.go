//go:build linux

package reliability

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/internal/serving"
	"github.com/agentvault/agentvault/providers/providertest"
)

// long selects the on-demand version of the suite.
var long = os.Getenv("RELIABILITY") == "long"

// bin is the agentvault binary built for this run.
var bin string

var (
	figuresMu sync.Mutex
	figures   = map[string]string{}
)

// figure records an area's one-line result, printed after the suite.
func figure(area, format string, args ...any) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	figures[area] = fmt.Sprintf(format, args...)
}

// noKeychain keeps the processes tests start away from the developer's own
// keychain: a test that wants one starts a private one and names its bus
// (later in the environment, so it wins).
const noKeychain = "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/agentvault-test-bus"

// role, when the test binary is started as an upstream server, is which.
const roleEnv = "RELIABILITY_ROLE"

// roleBin is a copy of this test binary that any user may run, started as
// an upstream with roleEnv set.
var roleBin string

func TestMain(m *testing.M) {
	if role := os.Getenv(roleEnv); role != "" {
		serveRole(role)
		return
	}
	// The MCP client library logs every refused connection of the crash
	// trials through slog's default; the figures are what this suite prints.
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	dir, err := os.MkdirTemp("", "agentvault-reliability-")
	if err != nil {
		panic(err)
	}
	// Tests run AgentVault as another user too (see asOther).
	if err := os.Chmod(dir, 0o755); err != nil {
		panic(err)
	}
	roleBin = filepath.Join(dir, "role.test")
	if err := copyFile(roleBin); err != nil {
		panic(err)
	}
	bin = filepath.Join(dir, "agentvault")
	build := exec.Command("go", "build", "-o", bin, "github.com/agentvault/agentvault")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building agentvault: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	areas := make([]string, 0, len(figures))
	for a := range figures {
		areas = append(areas, a)
	}
	sort.Strings(areas)
	fmt.Println("\nreliability figures:")
	for _, a := range areas {
		fmt.Printf("  %-14s %s\n", a+":", figures[a])
	}
	os.Exit(code)
}

// world is an echo upstream with AgentVault in front of it, in process.
type world struct {
	co       *core.Core
	rec      *providertest.Recorder
	url      string // the vault server's base URL
	upstream string // the upstream's MCP URL
}

func newWorld(t *testing.T) *world {
	t.Helper()
	rec := providertest.NewRecorder()
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(rec)))
	t.Cleanup(up.Close)
	co, err := core.Open(core.Config{DataDir: t.TempDir(), Secrets: &secretstest.Memory{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { co.Close() })
	if _, err := co.AddService(t.Context(), api.ServiceSpec{Name: "echo", URL: up.URL + "/mcp"}); err != nil {
		t.Fatal(err)
	}
	srv, err := serving.New(t.Context(), co)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	return &world{co: co, rec: rec, url: hs.URL, upstream: up.URL + "/mcp"}
}

func (w *world) vault(t *testing.T, name string) api.NewVault {
	t.Helper()
	v, err := w.co.CreateVault(t.Context(), api.VaultSpec{Name: name, Services: []string{"echo"}})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// executed counts audit outcome records of calls that ran.
func (w *world) executed(t *testing.T) int {
	t.Helper()
	recs, err := w.co.AuditList(t.Context(), api.AuditQuery{Phases: true})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range recs {
		if r.Outcome == audit.Executed {
			n++
		}
	}
	return n
}

// connect opens an MCP client (protocol 2025-11-25, with a session).
func connect(t *testing.T, url, token string) *client.Client {
	t.Helper()
	tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	if err != nil {
		t.Fatal(err)
	}
	c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
	t.Cleanup(func() { c.Close() })
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
	init.Params.ClientInfo = mcp.Implementation{Name: "reliability", Version: "1"}
	if _, err := c.Initialize(context.Background(), init); err != nil {
		t.Fatal(err)
	}
	return c
}

// rawClient gives up on a response that does not end (an accepted stream).
var rawClient = &http.Client{Timeout: 5 * time.Second}

// raw sends one HTTP request and returns the status, headers and body.
func raw(t *testing.T, method, url, body string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	for k, v := range headers {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := rawClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	return resp.StatusCode, resp.Header, string(b)
}

const (
	initBody = `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`
	listBody = `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`
	callBody = `{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"hi"}}}`
)
