// Package auth0test runs a real OpenID provider on loopback for tests:
// npm oidc-provider configured like an Auth0 tenant (e2e/oidc/provider.mjs),
// with one user, Token Vault and CIBA. It needs `npm ci` in e2e/.
//
// It must never be linked into the product binary.
package auth0test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// The test tenant's application and user.
const (
	ClientID     = "agentvault"
	ClientSecret = "canary-client-secret-7f3k"
	User         = "auth0|tester"
)

// Provider is a running test tenant.
type Provider struct {
	// Base is its URL, usable as an auth0.Config Domain.
	Base string
	// CallbackPort is the login callback port registered for the client.
	CallbackPort int
}

// Start runs a provider for the test; connected lists the Token Vault
// connections the user has linked.
func Start(t testing.TB, connected ...string) *Provider {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	_, file, _, _ := runtime.Caller(0)
	script := filepath.Join(filepath.Dir(file), "..", "..", "..", "e2e", "oidc", "provider.mjs")
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "PORT=0", "CLIENT_ID="+ClientID, "CLIENT_SECRET="+ClientSecret,
		fmt.Sprintf("REDIRECT_URIS=http://127.0.0.1:%d/callback", port), "CONNECTED="+strings.Join(connected, ","))
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatalf("node: %v", err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	ready := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if f := strings.Fields(s.Text()); len(f) >= 2 && f[0] == "READY" {
				ready <- f[1]
			}
		}
		close(ready)
	}()
	var base string
	select {
	case base = <-ready:
	case <-time.After(30 * time.Second):
	}
	if base == "" {
		t.Fatal("the OpenID provider did not start (run `npm ci` in e2e/)")
	}
	return &Provider{Base: base, CallbackPort: port}
}

type pending struct {
	ID      string `json:"auth_req_id"`
	Binding string `json:"binding_message"`
	Sub     string `json:"login_hint_sub"`
}

// AnswerOnPhone waits for the user's CIBA push with binding message and
// answers it: action is "approve" or "deny".
func (p *Provider) AnswerOnPhone(t testing.TB, binding, action string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get(p.Base + "/test/ciba")
		if err != nil {
			t.Fatal(err)
		}
		var list []pending
		json.NewDecoder(resp.Body).Decode(&list)
		resp.Body.Close()
		for _, r := range list {
			if r.Binding == binding && r.Sub == User {
				resp, err := http.Post(p.Base+"/test/ciba/"+r.ID+"/"+action, "application/json", nil)
				if err != nil || resp.StatusCode != http.StatusOK {
					t.Fatalf("%s on the phone: %v %v", action, resp.Status, err)
				}
				return
			}
		}
	}
	t.Fatalf("no push with binding message %q reached the phone", binding)
}
