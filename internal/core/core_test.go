package core

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/providertest"
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

func TestVaultLifecycle(t *testing.T) {
	c := openCore(t)
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"nope"}}); err == nil {
		t.Fatal("vault with an unknown service created")
	}
	if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "bad/name", Services: []string{"fs"}}); err == nil {
		t.Fatal("vault with a bad name created")
	}
	nv, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs", "fs"}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(nv.Token, "avt_") || nv.URL != "http://"+DefaultListen+"/v/"+nv.ID+"/mcp" {
		t.Fatalf("new vault %+v", nv)
	}
	if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs"}}); err == nil {
		t.Fatal("duplicate vault name accepted")
	}
	if _, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "fs_*", Decision: policy.Block}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetRule(t.Context(), nv.ID, api.RuleSpec{Pattern: "fs read", Decision: policy.Allow}); err == nil {
		t.Fatal("invalid pattern accepted")
	}
	if _, err := c.SetRule(t.Context(), "missing", api.RuleSpec{Pattern: "fs_*", Decision: policy.Allow}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetRule on a missing vault: %v", err)
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
	tok, err := c.RotateToken(t.Context(), "work")
	if err != nil || tok == nv.Token {
		t.Fatalf("rotate: %q, %v", tok, err)
	}
	if kept, _ := c.secrets.Get(VaultTokenKey(nv.ID)); kept != tok {
		t.Fatal("the keychain kept the old token after rotation")
	}
	if err := c.SetListen("127.0.0.1:9"); err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults(t.Context())
	if len(vs) != 1 || vs[0].URL != "http://127.0.0.1:9/v/"+nv.ID+"/mcp" {
		t.Fatalf("vaults %+v", vs)
	}
	if err := c.DeleteVault(t.Context(), "work"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.secrets.Get(VaultTokenKey(nv.ID)); err == nil {
		t.Fatal("the deleted vault's token stayed in the keychain")
	}
	if err := c.DeleteVault(t.Context(), "work"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestReplacePolicyAndStatus(t *testing.T) {
	c := openCore(t)
	c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"})
	c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs"}})
	c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "fs_a", Decision: policy.Block, Anyway: true})
	want := policy.Policy{Rules: []policy.Rule{{Pattern: "fs_*", Decision: policy.Allow}}}
	if err := c.ReplacePolicy(t.Context(), "work", want); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Vault(t.Context(), "work")
	if len(d.Rules) != 1 || d.Rules[0] != want.Rules[0] {
		t.Fatalf("rules after replace: %+v", d.Rules)
	}
	if err := c.ReplacePolicy(t.Context(), "work", policy.Policy{Rules: []policy.Rule{{Pattern: "fs_*", Decision: "maybe"}}}); err == nil {
		t.Fatal("a policy with an unknown decision was accepted")
	}
	c.SetPaused(t.Context(), true)
	st, err := c.Status(t.Context())
	if err != nil || st != (api.Status{Vaults: 1, Paused: true}) {
		t.Fatalf("status %+v, %v", st, err)
	}
}

func TestTemplateRoundTrip(t *testing.T) {
	c := openCore(t)
	c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"})
	c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs"}, ApprovalTimeout: 90 * time.Second})
	c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "fs_*", Decision: policy.Block, Anyway: true})
	c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "fs_read_file", Decision: policy.Allow, Anyway: true})
	if err := c.SetRateLimit(t.Context(), "work", "*", "100/hour"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRateLimit(t.Context(), "work", "fs_*", "5/s"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetRateLimit(t.Context(), "work", "fs_*", "often"); err == nil {
		t.Fatal("a malformed limit was accepted")
	}
	if err := c.SetGuard(t.Context(), "work", policy.Guard{Kind: policy.Path, Allow: []string{"/home/me/project"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetGuard(t.Context(), "work", policy.Guard{Kind: policy.Path, Allow: []string{"relative"}}); err == nil {
		t.Fatal("an invalid guard was accepted")
	}
	on, yes := true, true
	if err := c.SetFlow(t.Context(), "work", api.FlowSpec{On: &on}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetFlow(t.Context(), "work", api.FlowSpec{Role: policy.Sink, Pattern: "fs_*", Is: &yes}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetFlow(t.Context(), "work", api.FlowSpec{Role: "drain", Pattern: "fs_*", Is: &yes}); err == nil {
		t.Fatal("an unknown flow role was accepted")
	}
	tpl, err := c.ExportVault(t.Context(), "work")
	if err != nil {
		t.Fatal(err)
	}
	if len(tpl.RateLimits) != 2 || len(tpl.Guards) != 1 || tpl.Guards[0].Allow[0] != "/home/me/project" || !tpl.Flow.On || len(tpl.Flow.Marks) != 1 {
		t.Fatalf("exported limits %+v, guards %+v, flow %+v", tpl.RateLimits, tpl.Guards, tpl.Flow)
	}
	if tpl.Version != 2 {
		t.Fatalf("exported template version %d", tpl.Version)
	}
	raw, _ := json.Marshal(tpl)
	if strings.Contains(string(raw), "avt_") || strings.Contains(string(raw), `"id"`) {
		t.Fatalf("template carries a token or an id: %s", raw)
	}
	decoded, err := policy.DecodeTemplate(raw)
	if err != nil {
		t.Fatal(err)
	}
	nv, err := c.ImportVault(t.Context(), decoded, "work-copy")
	if err != nil {
		t.Fatal(err)
	}
	again, _ := c.ExportVault(t.Context(), nv.ID)
	tpl.Name, again.Name = "", ""
	if !reflect.DeepEqual(tpl, again) {
		t.Fatalf("round trip changed the vault:\n%+v\n%+v", tpl, again)
	}
	if _, err := c.ImportVault(t.Context(), decoded, "work-copy"); err == nil {
		t.Fatal("imported a second vault with the same name")
	}
	bad := decoded
	bad.Services = []string{"missing"}
	if _, err := c.ImportVault(t.Context(), bad, "x"); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("template with an unknown service: %v", err)
	}
}

func TestSetExpiry(t *testing.T) {
	c := openCore(t)
	c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"})
	until := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	nv, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "temp", Services: []string{"fs"}, Expires: until})
	if err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults(t.Context())
	if !vs[0].Expires.Equal(until) || vs[0].Expired(time.Now()) || !vs[0].Expired(until) {
		t.Fatalf("vault %+v", vs[0])
	}
	if err := c.SetExpiry(t.Context(), nv.ID, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if vs, _ = c.Vaults(t.Context()); !vs[0].Expires.IsZero() || vs[0].ExpiryText(time.Now()) != "Expires: never" {
		t.Fatalf("after --never: %+v", vs[0])
	}
}

func TestRemoveServiceAndApprovalTimeout(t *testing.T) {
	c := openCore(t)
	c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"})
	c.AddService(t.Context(), api.ServiceSpec{Name: "remote", URL: "http://127.0.0.1:1/mcp", Headers: []string{"Authorization: Bearer x"}})
	c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"fs", "remote"}})
	if err := c.SetApprovalTimeout(t.Context(), "work", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := c.SetApprovalTimeout(t.Context(), "work", 2*time.Hour); err == nil {
		t.Fatal("a two-hour approval timeout was accepted")
	}
	svcs, _ := c.Services(t.Context())
	if len(svcs) != 2 || svcs[0].Status != "starts when an agent first needs it" {
		t.Fatalf("services %+v", svcs)
	}
	if err := c.RemoveService(t.Context(), "remote"); err != nil {
		t.Fatal(err)
	}
	vs, _ := c.Vaults(t.Context())
	if len(vs[0].Services) != 1 || vs[0].Services[0] != "fs" || vs[0].ApprovalTimeout != 5*time.Minute {
		t.Fatalf("vault after removing remote: %+v", vs[0])
	}
	if _, ok := c.Provider("remote"); ok {
		t.Fatal("the removed service's provider still runs")
	}
	if _, err := c.secrets.Get("service/remote/header/Authorization"); err == nil {
		t.Fatal("the removed service's header stayed in the keychain")
	}
	if err := c.RemoveService(t.Context(), "remote"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("removing twice: %v", err)
	}
}

func TestRulesMustMatchATool(t *testing.T) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close)
	c := openCore(t)
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "notes", URL: up.URL + "/mcp"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "work", Services: []string{"notes"}}); err != nil {
		t.Fatal(err)
	}
	_, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "notes_delete_nite", Decision: policy.Block})
	if err == nil || !strings.Contains(err.Error(), "notes_delete_note") {
		t.Fatalf("a rule for a misspelt tool: %v, want a refusal naming notes_delete_note", err)
	}
	if w, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "notes_delete_*", Decision: policy.Block}); err != nil || w != "" {
		t.Fatalf("a pattern matching a tool: %q, %v", w, err)
	}
	if _, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "notes_archive", Decision: policy.Block, Anyway: true}); err != nil {
		t.Fatalf("a rule kept anyway: %v", err)
	}
	d, _ := c.Vault(t.Context(), "work")
	if !slices.Equal(d.Unmatched, []string{"notes_archive"}) {
		t.Fatalf("unmatched rules %v, want [notes_archive]", d.Unmatched)
	}
	if _, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "notes_archive"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SetRule(t.Context(), "work", api.RuleSpec{Pattern: "notes_archive"}); err == nil {
		t.Fatal("removing a rule the vault does not have succeeded")
	}
	d, _ = c.Vault(t.Context(), "work")
	if len(d.Rules) != 1 || d.Rules[0].Pattern != "notes_delete_*" || len(d.Unmatched) != 0 {
		t.Fatalf("rules %+v, unmatched %v", d.Rules, d.Unmatched)
	}
}

// The audit log of a deleted vault stays reachable by its name; a vault
// that never existed is an error, not an empty log.
func TestAuditOfADeletedVault(t *testing.T) {
	c := openCore(t)
	nv, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	c.Audit().Record(audit.Record{Phase: audit.Outcome, CallID: "c", VaultID: nv.ID, Vault: "gone", Tool: "t", Outcome: audit.Blocked})
	if err := c.DeleteVault(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	for _, ref := range []string{"gone", nv.ID} {
		if rows, err := c.AuditList(t.Context(), api.AuditQuery{Vault: ref}); err != nil || len(rows) != 1 || rows[0].Phase != audit.Call {
			t.Fatalf("audit of the deleted vault by %q: %+v, %v", ref, rows, err)
		}
	}
	if _, err := c.AuditList(t.Context(), api.AuditQuery{Vault: "never-was"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("audit of a vault that never existed: %v", err)
	}
}

// New vaults from the ask-for-writes and developer presets watch their data
// flow; other presets, and presets applied to a vault later, leave it as
// it is.
func TestPresetsTurnDataFlowOnForNewVaults(t *testing.T) {
	up := httptest.NewServer(server.NewStreamableHTTPServer(providertest.NewEchoServer(providertest.NewRecorder())))
	t.Cleanup(up.Close)
	c := openCore(t)
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "notes", URL: up.URL + "/mcp"}); err != nil {
		t.Fatal(err)
	}
	for preset, want := range map[string]bool{"ask-for-writes": true, "developer": true, "read-only": false, "": false} {
		name := "v-" + preset
		if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: name, Services: []string{"notes"}, Preset: preset}); err != nil {
			t.Fatal(err)
		}
		if d, _ := c.Vault(t.Context(), name); d.Flow.On != want {
			t.Errorf("a new vault with preset %q: data flow on %v, want %v", preset, d.Flow.On, want)
		}
	}
	if err := c.ApplyPreset(t.Context(), "v-read-only", "developer"); err != nil {
		t.Fatal(err)
	}
	if d, _ := c.Vault(t.Context(), "v-read-only"); d.Flow.On {
		t.Error("applying a preset to an existing vault turned data flow on")
	}
	// A version 1 template is still read, without data flow.
	v1, err := policy.DecodeTemplate([]byte(`{"kind":"agentvault-vault-template","version":1,"name":"old","services":["notes"],"rules":[]}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ImportVault(t.Context(), v1, ""); err != nil {
		t.Fatal(err)
	}
}
