package core

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

func TestLimitsAreValidatedKeptAndApplied(t *testing.T) {
	c := openCore(t)
	l, err := c.Limits(t.Context())
	if err != nil || l.MaxPending != 16 || l.MaxSessions != 256 || l.BodyTimeout != 30*time.Second {
		t.Fatalf("defaults %+v, %v", l, err)
	}
	for _, bad := range []api.Limits{{MaxPending: -1}, {MaxSessions: 20000}, {BodyTimeout: time.Millisecond}} {
		if err := c.SetLimits(t.Context(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := c.SetLimits(t.Context(), api.Limits{MaxPending: 3}); err != nil {
		t.Fatal(err)
	}
	if l, _ := c.Limits(t.Context()); l.MaxPending != 3 || l.MaxSessions != 256 {
		t.Fatalf("after setting one limit: %+v", l)
	}
	st, _ := c.store.Settings()
	if st.MaxPending != 3 {
		t.Fatalf("not stored: %+v", st)
	}
}

// A path guard records where its entries lead when it is saved; a template
// does not carry that.
func TestPathGuardsAreResolvedWhenSaved(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	os.Mkdir(filepath.Join(root, "real"), 0o700)
	os.Symlink(filepath.Join(root, "real"), filepath.Join(root, "link"))
	c := openCore(t)
	if _, err := c.AddService(t.Context(), api.ServiceSpec{Name: "fs", Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVault(t.Context(), api.VaultSpec{Name: "v", Services: []string{"fs"}}); err != nil {
		t.Fatal(err)
	}
	allow := []string{filepath.Join(root, "link", "p"), filepath.Join(root, "real"), "*"}
	if err := c.SetGuard(t.Context(), "v", policy.Guard{Kind: policy.Path, Allow: allow}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Vault(t.Context(), "v")
	want := []string{filepath.Join(root, "real", "p"), filepath.Join(root, "real"), "*"}
	if g := d.Guards[0]; !slices.Equal(g.Allow, allow) || !slices.Equal(g.Resolved, want) {
		t.Fatalf("guard %+v, want resolved %q", g, want)
	}
	tmpl, _ := c.ExportVault(t.Context(), "v")
	if tmpl.Guards[0].Resolved != nil {
		t.Fatalf("a template carries this machine's paths: %+v", tmpl.Guards[0])
	}
}
