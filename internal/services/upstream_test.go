package services

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
	"github.com/agentvault/agentvault/internal/store"
)

func TestAddServiceValidates(t *testing.T) {
	sec := &secretstest.Memory{}
	dir := t.TempDir()
	c := openRegistry(t, dir, sec)
	tests := []struct {
		name string
		spec api.ServiceSpec
		want string
	}{
		{"fail/name with underscore", api.ServiceSpec{Name: "my_fs", Command: "x"}, "service name"},
		{"fail/empty name", api.ServiceSpec{Name: "", Command: "x"}, "service name"},
		{"fail/neither", api.ServiceSpec{Name: "a"}, "a command or a URL"},
		{"fail/both", api.ServiceSpec{Name: "a", Command: "x", URL: "http://h"}, "not both"},
		{"fail/unbalanced quote", api.ServiceSpec{Name: "a", Command: `x "y`}, "cannot parse"},
		{"fail/bad url", api.ServiceSpec{Name: "a", URL: "ftp://h"}, "http://"},
		{"fail/bad header", api.ServiceSpec{Name: "a", URL: "http://h", Headers: []string{"novalue"}}, "Name: value"},
		{"fail/header on stdio", api.ServiceSpec{Name: "a", Command: "x", Headers: []string{"A: b"}}, "reached by URL"},
		{"fail/agentvault variable", api.ServiceSpec{Name: "a", Command: "x", Env: []string{"AGENTVAULT_DATA=/x"}}, "never given"},
		{"fail/passing an agentvault variable", api.ServiceSpec{Name: "a", Command: "x", PassEnv: []string{"agentvault_passphrase"}}, "never given"},
		{"fail/env on url", api.ServiceSpec{Name: "a", URL: "http://h", PassEnv: []string{"X"}}, "started as a command"},
		{"fail/url secret twice", api.ServiceSpec{Name: "a", URL: "http://h/?token=a&token=b"}, "twice"},
		{"fail/bad env names only its name", api.ServiceSpec{Name: "a", Command: "x", Env: []string{"1BAD=hidden-value"}}, "1BAD=…"},
		{"fail/program not found", api.ServiceSpec{Name: "a", Command: "no-such-mcp-server --stdio"}, "no-such-mcp-server: not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.Add(t.Context(), tt.spec); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("AddService(%+v) = %v, want error containing %q", tt.spec, err, tt.want)
			}
		})
	}
	info, err := c.Add(t.Context(), api.ServiceSpec{Name: "remote", URL: "http://127.0.0.1:1/mcp", Headers: []string{"authorization: Bearer secret-value"}})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(fmt.Sprintf("%+v", info), "secret-value") || len(info.Headers) != 1 || info.Headers[0] != "Authorization" {
		t.Fatalf("service info %+v shows a header value or lost the header name", info)
	}
	if v, _ := sec.Get(headerKey("remote", "Authorization")); v != "Bearer secret-value" {
		t.Fatalf("header value in the keychain: %q", v)
	}
	if raw, _ := os.ReadFile(filepath.Join(dir, store.FileName)); bytes.Contains(raw, []byte("secret-value")) {
		t.Fatal("a header value reached the store file")
	}
	if _, err := c.Add(t.Context(), api.ServiceSpec{Name: "remote", Command: "x"}); err == nil {
		t.Fatal("duplicate service name accepted")
	}
	// The program is kept as found in PATH now.
	info, _ = c.Add(t.Context(), api.ServiceSpec{Name: "local", Command: `sh "my server.js" --flag`})
	sh, _ := exec.LookPath("sh")
	if info.Command != sh+` 'my server.js' --flag` || !filepath.IsAbs(sh) {
		t.Fatalf("command shown as %q", info.Command)
	}
}

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
	sec := &secretstest.Memory{}
	dir := t.TempDir()
	c := openRegistry(t, dir, sec)
	info, err := c.Add(t.Context(), api.ServiceSpec{Name: "remote", URL: up.URL + "/mcp?api_key=url-canary-123&x=1"})
	if err != nil {
		t.Fatal(err)
	}
	if info.URL != up.URL+"/mcp?api_key=[redacted]&x=1" {
		t.Fatalf("shown URL %q", info.URL)
	}
	svc, _ := c.cfg.Store.Service("remote")
	if strings.Contains(svc.URL, "url-canary-123") {
		t.Fatal("the URL credential is in the data folder")
	}
	if v, _ := sec.Get(urlKey("remote", "api_key")); v != "url-canary-123" {
		t.Fatalf("keychain holds %q", v)
	}
	p, _ := c.Provider("remote")
	p.Tools(t.Context()) // the server refuses; what matters is what it received
	if q, _ := got.Load().(string); q != "api_key=url-canary-123&x=1" {
		t.Fatalf("the server got query %q", q)
	}
	list, _ := c.List(t.Context())
	if strings.Contains(list[0].Status, "url-canary-123") {
		t.Fatalf("status shows the credential: %s", list[0].Status)
	}
	if err := c.Remove("remote"); err != nil {
		t.Fatal(err)
	}
	if _, err := sec.Get(urlKey("remote", "api_key")); err == nil {
		t.Fatal("the URL credential outlived its service")
	}
}
