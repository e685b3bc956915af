package core

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentvault/agentvault/policy"
)

func TestURLSecretsSplitAndJoin(t *testing.T) {
	for _, tc := range []struct{ name, in, shown string }{
		{"ok/no-secret", "https://h/mcp?region=eu", "https://h/mcp?region=eu"},
		{"ok/api-key", "https://h/mcp?api_key=K3y-value&region=eu", "https://h/mcp?api_key=[redacted]&region=eu"},
		{"ok/userinfo-and-token", "http://me:pw%40x@h:8/p?access_token=a%2Fb#frag", "http://[redacted]@h:8/p?access_token=[redacted]#frag"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			shown, parts, err := splitURLSecrets(tc.in)
			if err != nil || shown != tc.shown {
				t.Fatalf("shown %q, %v; want %q", shown, err, tc.shown)
			}
			if back := joinURLSecrets(shown, parts); back != tc.in {
				t.Fatalf("joined %q, want %q", back, tc.in)
			}
		})
	}
	if _, _, err := splitURLSecrets("ftp://me:hidden-pw@h/"); err == nil || strings.Contains(err.Error(), "hidden-pw") {
		t.Fatalf("a bad URL's error repeats it: %v", err)
	}
}

// A credential in a service URL goes to the keychain, is shown redacted,
// and still reaches the server.
func TestURLCredentialsAreKeptInTheKeychain(t *testing.T) {
	var got atomic.Value
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Store(r.URL.RawQuery)
		http.Error(w, "no", http.StatusTeapot)
	}))
	defer up.Close()
	c := openCore(t)
	info, err := c.AddService(ServiceSpec{Name: "remote", URL: up.URL + "/mcp?api_key=url-canary-123&x=1"})
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != up.URL+"/mcp?api_key=[redacted]&x=1" {
		t.Fatalf("shown URL %q", info.URL)
	}
	svc, _ := c.store.Service("remote")
	if strings.Contains(svc.URL, "url-canary-123") {
		t.Fatal("the URL credential is in the data folder")
	}
	if v, _ := c.secrets.Get(urlKey("remote", "api_key")); v != "url-canary-123" {
		t.Fatalf("keychain holds %q", v)
	}
	p, _ := c.Provider("remote")
	p.Tools(t.Context()) // the server refuses; what matters is what it received
	if q, _ := got.Load().(string); q != "api_key=url-canary-123&x=1" {
		t.Fatalf("the server got query %q", q)
	}
	list, _ := c.Services()
	if strings.Contains(list[0].Status, "url-canary-123") {
		t.Fatalf("status shows the credential: %s", list[0].Status)
	}
	if err := c.RemoveService("remote"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.secrets.Get(urlKey("remote", "api_key")); err == nil {
		t.Fatal("the URL credential outlived its service")
	}
}

func TestLimitsAreValidatedKeptAndApplied(t *testing.T) {
	c := openCore(t)
	l, err := c.Limits(t.Context())
	if err != nil || l.MaxPending != 16 || l.MaxSessions != 256 || l.BodyTimeout != 30*time.Second {
		t.Fatalf("defaults %+v, %v", l, err)
	}
	for _, bad := range []Limits{{MaxPending: -1}, {MaxSessions: 20000}, {BodyTimeout: time.Millisecond}} {
		if err := c.SetLimits(t.Context(), bad); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	if err := c.SetLimits(t.Context(), Limits{MaxPending: 3}); err != nil {
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
	if _, err := c.AddService(ServiceSpec{Name: "fs", Command: "true"}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateVault(VaultSpec{Name: "v", Services: []string{"fs"}}); err != nil {
		t.Fatal(err)
	}
	allow := []string{filepath.Join(root, "link", "p"), filepath.Join(root, "real"), "*"}
	if err := c.SetGuard("v", policy.Guard{Kind: policy.Path, Allow: allow}); err != nil {
		t.Fatal(err)
	}
	d, _ := c.Vault(t.Context(), "v")
	want := []string{filepath.Join(root, "real", "p"), filepath.Join(root, "real"), "*"}
	if g := d.Guards[0]; !slices.Equal(g.Allow, allow) || !slices.Equal(g.Resolved, want) {
		t.Fatalf("guard %+v, want resolved %q", g, want)
	}
	tmpl, _ := c.ExportVault("v")
	if tmpl.Guards[0].Resolved != nil {
		t.Fatalf("a template carries this machine's paths: %+v", tmpl.Guards[0])
	}
}
