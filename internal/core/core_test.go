package core

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/policy"
)

func openCore(t *testing.T) *Core {
	t.Helper()
	c, err := Open(Config{DataDir: t.TempDir(), Secrets: &secretstest.Memory{}, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestAddServiceValidates(t *testing.T) {
	c := openCore(t)
	tests := []struct {
		name string
		spec ServiceSpec
		want string
	}{
		{"fail/name with underscore", ServiceSpec{Name: "my_fs", Command: "x"}, "service name"},
		{"fail/empty name", ServiceSpec{Name: "", Command: "x"}, "service name"},
		{"fail/neither", ServiceSpec{Name: "a"}, "a command or a URL"},
		{"fail/both", ServiceSpec{Name: "a", Command: "x", URL: "http://h"}, "not both"},
		{"fail/unbalanced quote", ServiceSpec{Name: "a", Command: `x "y`}, "cannot parse"},
		{"fail/bad url", ServiceSpec{Name: "a", URL: "ftp://h"}, "http://"},
		{"fail/bad header", ServiceSpec{Name: "a", URL: "http://h", Headers: []string{"novalue"}}, "Name: value"},
		{"fail/header on stdio", ServiceSpec{Name: "a", Command: "x", Headers: []string{"A: b"}}, "reached by URL"},
		{"fail/agentvault variable", ServiceSpec{Name: "a", Command: "x", Env: []string{"AGENTVAULT_DATA=/x"}}, "never given"},
		{"fail/passing an agentvault variable", ServiceSpec{Name: "a", Command: "x", PassEnv: []string{"agentvault_passphrase"}}, "never given"},
		{"fail/env on url", ServiceSpec{Name: "a", URL: "http://h", PassEnv: []string{"X"}}, "started as a command"},
		{"fail/url secret twice", ServiceSpec{Name: "a", URL: "http://h/?token=a&token=b"}, "twice"},
		{"fail/bad env names only its name", ServiceSpec{Name: "a", Command: "x", Env: []string{"1BAD=hidden-value"}}, "1BAD=…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.AddService(tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AddService(%+v) = %v, want error containing %q", tt.spec, err, tt.want)
			}
		})
	}
	info, err := c.AddService(ServiceSpec{Name: "remote", URL: "http://127.0.0.1:1/mcp", Headers: []string{"authorization: Bearer secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", info), "secret-value") || len(info.Headers) != 1 || info.Headers[0] != "Authorization" {
		t.Fatalf("service info %+v shows a header value or lost the header name", info)
	}
	if v, _ := c.secrets.Get(headerKey("remote", "Authorization")); v != "Bearer secret-value" {
		t.Fatalf("header value in the keychain: %q", v)
	}
	if raw, _ := os.ReadFile(c.store.Path()); bytes.Contains(raw, []byte("secret-value")) {
		t.Fatal("a header value reached the store file")
	}
	if _, err := c.AddService(ServiceSpec{Name: "remote", Command: "x"}); err == nil {
		t.Fatal("duplicate service name accepted")
	}
	info, _ = c.AddService(ServiceSpec{Name: "local", Command: `node "my server.js" --flag`})
	if info.Command != `node 'my server.js' --flag` {
		t.Fatalf("command shown as %q", info.Command)
	}
}

func TestVaultLifecycle(t *testing.T) {
	c := openCore(t)
	if _, err := c.AddService(ServiceSpec{Name: "fs", Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVault(VaultSpec{Name: "work", Services: []string{"nope"}}); err == nil {
		t.Fatal("vault with an unknown service created")
	}
	if _, err := c.CreateVault(VaultSpec{Name: "bad/name", Services: []string{"fs"}}); err == nil {
		t.Fatal("vault with a bad name created")
	}
	nv, err := c.CreateVault(VaultSpec{Name: "work", Services: []string{"fs", "fs"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nv.Token, "avt_") || nv.URL != "http://"+DefaultListen+"/v/"+nv.ID+"/mcp" {
		t.Fatalf("new vault %+v", nv)
	}
	if _, err := c.CreateVault(VaultSpec{Name: "work", Services: []string{"fs"}}); err == nil {
		t.Fatal("duplicate vault name accepted")
	}
	if err := c.SetPolicy("work", "fs_*", policy.Block); err != nil {
		t.Fatal(err)
	}
	if err := c.SetPolicy(nv.ID, "fs read", policy.Allow); err == nil {
		t.Fatal("invalid pattern accepted")
	}
	if err := c.SetPolicy("missing", "fs_*", policy.Allow); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetPolicy on a missing vault: %v", err)
	}
	d, err := c.Vault(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if d.ID != nv.ID || len(d.Services) != 1 || len(d.Rules) != 1 || d.Rules[0] != (policy.Rule{Pattern: "fs_*", Decision: policy.Block}) {
		t.Fatalf("vault detail %+v", d)
	}
	if d.Warning == "" {
		t.Fatal("a service that cannot list tools gave no warning")
	}
	if kept, _ := c.secrets.Get(VaultTokenKey(nv.ID)); kept != nv.Token {
		t.Fatal("the new vault's token is not in the keychain")
	}
	tok, err := c.RotateToken("work")
	if err != nil || tok == nv.Token {
		t.Fatalf("rotate: %q, %v", tok, err)
	}
	if kept, _ := c.secrets.Get(VaultTokenKey(nv.ID)); kept != tok {
		t.Fatal("the keychain kept the old token after rotation")
	}
	if err := c.SetListen("127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults()
	if len(vs) != 1 || vs[0].URL != "http://127.0.0.1:9/v/"+nv.ID+"/mcp" {
		t.Fatalf("vaults %+v", vs)
	}
	if err := c.DeleteVault("work"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.secrets.Get(VaultTokenKey(nv.ID)); err == nil {
		t.Fatal("the deleted vault's token stayed in the keychain")
	}
	if err := c.DeleteVault("work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestReplacePolicyAndStatus(t *testing.T) {
	c := openCore(t)
	c.AddService(ServiceSpec{Name: "fs", Command: "true"})
	c.CreateVault(VaultSpec{Name: "work", Services: []string{"fs"}})
	c.SetPolicy("work", "fs_a", policy.Block)
	want := policy.Policy{Rules: []policy.Rule{{Pattern: "fs_*", Decision: policy.Allow}}}
	if err := c.ReplacePolicy("work", want); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Vault(t.Context(), "work")
	if len(d.Rules) != 1 || d.Rules[0] != want.Rules[0] {
		t.Fatalf("rules after replace: %+v", d.Rules)
	}
	if err := c.ReplacePolicy("work", policy.Policy{Rules: []policy.Rule{{Pattern: "fs_*", Decision: "maybe"}}}); err == nil {
		t.Fatal("a policy with an unknown decision was accepted")
	}
	c.SetPaused(true)
	st, err := c.Status()
	if err != nil || st != (Status{Vaults: 1, Paused: true}) {
		t.Fatalf("status %+v, %v", st, err)
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	c := openCore(t)
	c.AddService(ServiceSpec{Name: "fs", Command: "true"})
	c.CreateVault(VaultSpec{Name: "work", Services: []string{"fs"}, ApprovalTimeout: 90 * time.Second})
	c.SetPolicy("work", "fs_*", policy.Block)
	c.SetPolicy("work", "fs_read_file", policy.Allow)
	if err := c.SetRateLimit("work", "*", "100/hour"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRateLimit("work", "fs_*", "5/s"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRateLimit("work", "fs_*", "often"); err == nil {
		t.Fatal("a malformed limit was accepted")
	}
	if err := c.SetGuard("work", policy.Guard{Kind: policy.Path, Allow: []string{"/home/me/project"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetGuard("work", policy.Guard{Kind: policy.Path, Allow: []string{"relative"}}); err == nil {
		t.Fatal("an invalid guard was accepted")
	}
	tpl, err := c.ExportVault("work")
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.RateLimits) != 2 || len(tpl.Guards) != 1 || tpl.Guards[0].Allow[0] != "/home/me/project" {
		t.Fatalf("exported limits %+v, guards %+v", tpl.RateLimits, tpl.Guards)
	}
	raw, _ := json.Marshal(tpl)
	if strings.Contains(string(raw), "avt_") || strings.Contains(string(raw), `"id"`) {
		t.Fatalf("template carries a token or an id: %s", raw)
	}
	decoded, err := policy.DecodeTemplate(raw)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := c.ImportVault(decoded, "work-copy")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.ExportVault(nv.ID)
	tpl.Name, again.Name = "", ""
	if !reflect.DeepEqual(tpl, again) {
		t.Fatalf("round trip changed the vault:\n%+v\n%+v", tpl, again)
	}
	if _, err := c.ImportVault(decoded, "work-copy"); err == nil {
		t.Fatal("imported a second vault with the same name")
	}
	bad := decoded
	bad.Services = []string{"missing"}
	if _, err := c.ImportVault(bad, "x"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("template with an unknown service: %v", err)
	}
}

func TestSetExpiry(t *testing.T) {
	c := openCore(t)
	c.AddService(ServiceSpec{Name: "fs", Command: "true"})
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	nv, err := c.CreateVault(VaultSpec{Name: "temp", Services: []string{"fs"}, Expires: until})
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults()
	if !vs[0].Expires.Equal(until) || vs[0].Expired(time.Now()) || !vs[0].Expired(until) {
		t.Fatalf("vault %+v", vs[0])
	}
	if err := c.SetExpiry(nv.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if vs, _ = c.Vaults(); !vs[0].Expires.IsZero() || vs[0].ExpiryText(time.Now()) != "Expires: never" {
		t.Fatalf("after --never: %+v", vs[0])
	}
}

func TestRemoveServiceAndApprovalTimeout(t *testing.T) {
	c := openCore(t)
	c.AddService(ServiceSpec{Name: "fs", Command: "true"})
	c.AddService(ServiceSpec{Name: "remote", URL: "http://127.0.0.1:1/mcp", Headers: []string{"Authorization: Bearer x"}})
	c.CreateVault(VaultSpec{Name: "work", Services: []string{"fs", "remote"}})
	if err := c.SetApprovalTimeout("work", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.SetApprovalTimeout("work", 2*time.Hour); err == nil {
		t.Fatal("a two-hour approval timeout was accepted")
	}
	svcs, _ := c.Services()
	if len(svcs) != 2 || svcs[0].Status != "starts when an agent first needs it" {
		t.Fatalf("services %+v", svcs)
	}
	if err := c.RemoveService("remote"); err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults()
	if len(vs[0].Services) != 1 || vs[0].Services[0] != "fs" || vs[0].ApprovalTimeout != 5*time.Minute {
		t.Fatalf("vault after removing remote: %+v", vs[0])
	}
	if _, ok := c.Provider("remote"); ok {
		t.Fatal("the removed service's provider still runs")
	}
	if _, err := c.secrets.Get(headerKey("remote", "Authorization")); err == nil {
		t.Fatal("the removed service's header stayed in the keychain")
	}
	if err := c.RemoveService("remote"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}
