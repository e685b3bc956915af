package control

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/policy"
)

// serveCore runs a real Core behind the control socket and returns a client.
func serveCore(t *testing.T) (*Client, string) {
	c, path, _ := serveCoreWith(t)
	return c, path
}

// serveCoreWith is serveCore, returning the core too.
func serveCoreWith(t *testing.T) (*Client, string, *core.Core) {
	t.Helper()
	dir := t.TempDir()
	co, err := core.Open(core.Config{DataDir: dir, Secrets: &secretstest.Memory{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	path := SocketPath(dir)
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, path, co, func() error { return ErrNoWindow }) }()
	t.Cleanup(func() { cancel(); <-done; co.Close() })
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := Dial(path, &secretstest.Memory{})
		if err == nil {
			return c, path, co
		}
		if time.Now().After(deadline) {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestClientDrivesEveryOperation(t *testing.T) {
	c, path := serveCore(t)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("socket mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"}); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("duplicate service over the socket: %v", err)
	}
	svcs, err := c.Services(t.Context())
	if err != nil || len(svcs) != 1 || filepath.Base(svcs[0].Command) != "true" {
		t.Fatalf("services %+v, %v", svcs, err)
	}
	nv, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs"}})
	if err != nil || nv.Token == "" {
		t.Fatalf("create %+v, %v", nv, err)
	}
	if _, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "fs_*", Decision: policy.Allow}); err != nil {
		t.Fatal(err)
	}
	d, err := c.Vault(t.Context(), nv.ID)
	if err != nil || d.Name != "work" || len(d.Rules) != 1 {
		t.Fatalf("vault %+v, %v", d, err)
	}
	if _, err := c.Vault(t.Context(), "nope"); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("missing vault over the socket: %v, want ErrNotFound", err)
	}
	tok, err := c.RotateToken(t.Context(), "work")
	if err != nil || tok == "" || tok == nv.Token {
		t.Fatalf("rotate %q, %v", tok, err)
	}
	vs, err := c.Vaults(t.Context())
	if err != nil || len(vs) != 1 {
		t.Fatalf("vaults %+v, %v", vs, err)
	}
	recs, err := c.AuditList(t.Context(), api.AuditQuery{Limit: 10})
	if err != nil || len(recs) != 0 {
		t.Fatalf("audit %+v, %v", recs, err)
	}
	var buf bytes.Buffer
	if err := c.AuditExport(t.Context(), &buf, "csv", api.AuditQuery{}); err != nil || !strings.HasPrefix(buf.String(), "time,seq,") {
		t.Fatalf("export %q, %v", buf.String(), err)
	}
	if err := c.AuditExport(t.Context(), &buf, "xml", api.AuditQuery{}); err == nil {
		t.Fatal("unknown export format accepted")
	}
	if err := c.Raise(t.Context()); !errors.Is(err, ErrNoWindow) {
		t.Fatalf("raising a headless server's window: %v, want ErrNoWindow", err)
	}
	if err := c.AuditExport(t.Context(), &buf, "csv", api.AuditQuery{Vault: "never-was"}); !errors.Is(err, api.ErrNotFound) {
		t.Fatalf("export of a vault that never existed: %v, want ErrNotFound", err)
	}
	if err := c.DeleteVault(t.Context(), "work"); err != nil {
		t.Fatal(err)
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	c, _ := serveCore(t)
	for _, body := range []string{`{"Ref":"x","Extra":1}`, `not json`, `{"Ref":`} {
		resp, err := c.http.Post("http://agentvault/v1/vault", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "bad control request") {
			t.Errorf("body %q: %d %s", body, resp.StatusCode, raw)
		}
	}
	resp, err := c.http.Get("http://agentvault/v1/vaults")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %d", resp.StatusCode)
	}
}

func TestDialFailsFastWithoutServer(t *testing.T) {
	if _, err := Dial(filepath.Join(t.TempDir(), SocketName), &secretstest.Memory{}); err == nil {
		t.Fatal("Dial succeeded with no server")
	}
}
