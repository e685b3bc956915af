//go:build linux

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/dbustest"
	"github.com/agentvault/agentvault/internal/store"
)

// TestSessionChurn connects and disconnects sessions many times; goroutines
// and heap must come back to where they started.
func TestSessionChurn(t *testing.T) {
	cycles := 2000
	if long {
		cycles = 10000
	}
	w := newWorld(t)
	v := w.vault(t, "churn")
	url := w.url + "/v/" + v.ID + "/mcp"
	cycle := func() {
		tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + v.Token}))
		if err != nil {
			t.Fatal(err)
		}
		c := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
		if err := c.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "churn", Version: "1"}
		if _, err := c.Initialize(context.Background(), init); err != nil {
			t.Fatal(err)
		}
		// End the session as a client should: DELETE with its credentials.
		// (mcp-go's client sends its DELETE without the custom headers, so
		// AgentVault rightly refuses that one.)
		if status, _, _ := raw(t, "DELETE", url, "", map[string]string{"Authorization": "Bearer " + v.Token,
			"Mcp-Session-Id": c.GetSessionId(), "MCP-Protocol-Version": "2025-11-25"}); status != 200 {
			t.Fatalf("DELETE: %d", status)
		}
		c.Close()
	}
	for range 50 { // warm up pools and caches
		cycle()
	}
	g0, h0 := settle()
	for range cycles {
		cycle()
	}
	g1, h1 := settle()
	if g1 > g0+10 {
		t.Errorf("goroutines %d → %d after %d sessions", g0, g1, cycles)
	}
	if h1 > h0+4<<20 {
		t.Errorf("heap %d KB → %d KB after %d sessions", h0>>10, h1>>10, cycles)
	}
	figure("leaks", "%d session connect/disconnect cycles: goroutines %d → %d, heap %d KB → %d KB", cycles, g0, g1, h0>>10, h1>>10)
}

// settle lets background work finish and returns goroutines and live heap.
func settle() (int, uint64) {
	var m runtime.MemStats
	for range 5 {
		time.Sleep(100 * time.Millisecond)
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return runtime.NumGoroutine(), m.HeapAlloc
}

// TestSecretsHygiene plants canaries in every credential AgentVault handles
// and looks for them everywhere it writes.
func TestSecretsHygiene(t *testing.T) {
	w := newWorld(t)
	home := t.TempDir()
	bus, err := dbustest.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer bus.Stop()
	env, err := bus.StartKeyring(home)
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	env = append(env, "TMPDIR="+tmp)
	data := filepath.Join(t.TempDir(), "data")
	const headerCanary = "canary-header-5f1d9"
	v := setUp(t, w, data, env, "Authorization: Bearer "+headerCanary)
	const envCanary = "canary-env-0c4e2"
	cli(t, env, "service", "add-mcp", "tool", "--command", "true", "--no-check", "--env", "API_TOKEN="+envCanary, "--data", data)
	// A GitHub connection whose token the fake service then calls revoked.
	const ghCanary = "ghp_canary1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"
	var ghAuth atomic.Value
	gh := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ghAuth.Store(r.Header.Get("Authorization"))
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/user" {
			w.Header().Set("X-OAuth-Scopes", "repo")
			io.WriteString(w, `{"login":"octocat"}`)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"message":"Bad credentials"}`)
	}))
	defer gh.Close()
	var export bytes.Buffer
	export.WriteString(cliInput(t, env, ghCanary+"\n", "service", "connect", "github", "--token-stdin", "--api-url", gh.URL, "--data", data))
	var gv api.NewVault
	json.Unmarshal([]byte(cli(t, env, "vault", "create", "g", "--service", "github", "--json", "--data", data)), &gv)
	cli(t, env, "vault", "policy", "g", "github_create_issue", "allow", "--data", data)

	c := serve(t, data, env)
	url := "http://" + c.addr + "/v/" + v.ID + "/mcp"
	cl := connect(t, url, v.Token)
	if _, err := callTool(cl, "echo_echo", map[string]any{"message": "hello", "api_key": "canary-arg-77ab"}); err != nil {
		t.Fatal(err)
	}
	res, err := callTool(connect(t, "http://"+c.addr+"/v/"+gv.ID+"/mcp", gv.Token), "github_create_issue", map[string]any{"owner": "acme", "repo": "x", "title": "t"})
	if err != nil || !res.IsError || !strings.Contains(fmt.Sprint(res.Content), "reconnect") {
		t.Fatalf("revoked GitHub credential: %+v %v", res, err)
	}
	if got, _ := ghAuth.Load().(string); got != "Bearer "+ghCanary {
		t.Fatalf("GitHub received %q, not the connected token", got)
	}
	json.NewEncoder(&export).Encode(res)
	callTool(cl, "echo_delete_note", map[string]any{"id": "1"}) // blocked
	wrong := "avt_canary-wrong-token-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	raw(t, "POST", url, initBody, map[string]string{"Authorization": "Bearer " + wrong})
	var rotated struct{ Token string }
	json.Unmarshal([]byte(cli(t, env, "vault", "rotate", "v", "--data", data, "--json")), &rotated)
	export.WriteString(cli(t, env, "audit", "export", "--format", "jsonl", "--data", data))
	export.WriteString(cli(t, env, "audit", "export", "--format", "csv", "--data", data))
	export.WriteString(cli(t, env, "service", "list", "--json", "--data", data))
	export.WriteString(cli(t, env, "vault", "show", "v", "--json", "--data", data))
	c.kill()

	canaries := map[string]string{"upstream header": headerCanary, "vault token": v.Token, "wrong token": wrong,
		"stdio server variable": envCanary, "GitHub token": ghCanary,
		"rotated token":           rotated.Token,
		"secret-looking argument": "canary-arg-77ab"}
	places := map[string][]byte{"serve output": c.allOutput(), "exports and CLI output": export.Bytes()}
	db, _ := os.ReadFile(filepath.Join(data, store.FileName))
	places["store file"] = db
	filepath.Walk(tmp, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			b, _ := os.ReadFile(p)
			places["temp file "+p] = b
		}
		return nil
	})
	found := 0
	for cname, canary := range canaries {
		for pname, b := range places {
			if cname == "rotated token" && pname == "exports and CLI output" {
				continue // shown once, on purpose, by `vault rotate`
			}
			if bytes.Contains(b, []byte(canary)) {
				found++
				t.Errorf("%s found in %s", cname, pname)
			}
		}
	}
	if !bytes.Contains(export.Bytes(), []byte("[redacted]")) {
		t.Error("the secret-looking argument was not redacted in the audit summary")
	}
	figure("secrets", "%d canaries × %d places (serve output, store file, audit exports, CLI output, tool results, temp files): %d found", len(canaries), len(places), found)
}
