//go:build linux

package reliability

import (
	"net/http"
	"strings"
	"testing"
)

// TestAuthMatrix presents every kind of wrong credential to every endpoint
// with every method: all must be rejected, and nothing may run.
func TestAuthMatrix(t *testing.T) {
	w := newWorld(t)
	a, b, gone := w.vault(t, "a"), w.vault(t, "b"), w.vault(t, "gone")
	rotatedFrom := a.Token
	newToken, err := w.co.RotateToken(t.Context(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.co.DeleteVault(t.Context(), "gone"); err != nil {
		t.Fatal(err)
	}
	endpoints := map[string]string{
		"vault":         w.url + "/v/" + a.ID + "/mcp",
		"deleted vault": w.url + "/v/" + gone.ID + "/mcp",
		"unknown vault": w.url + "/v/vnosuchvault/mcp",
	}
	credentials := map[string]map[string]string{
		"no header":         {},
		"malformed":         {"Authorization": "Bearer"},
		"wrong scheme":      {"Authorization": "Basic " + newToken},
		"empty":             {"Authorization": "Bearer "},
		"other vault":       {"Authorization": "Bearer " + b.Token},
		"rotated":           {"Authorization": "Bearer " + rotatedFrom},
		"deleted vault's":   {"Authorization": "Bearer " + gone.Token},
		"upper-cased token": {"Authorization": "Bearer " + strings.ToUpper(newToken)},
		// (Whitespace around the value is not a variant: HTTP strips it.)
		"double space":       {"Authorization": "Bearer  " + newToken},
		"tab":                {"Authorization": "Bearer\t" + newToken},
		"truncated":          {"Authorization": "Bearer " + newToken[:len(newToken)-1]},
		"no scheme":          {"Authorization": newToken},
		"token in cookie":    {"Cookie": "token=" + newToken},
		"token as X-Api-Key": {"X-Api-Key": newToken},
	}
	methods := []struct{ name, method, body string }{
		{"initialize", http.MethodPost, initBody},
		{"tools/list", http.MethodPost, listBody},
		{"tools/call", http.MethodPost, callBody},
		{"GET stream", http.MethodGet, ""},
		{"DELETE", http.MethodDelete, ""},
	}
	requests, rejected := 0, 0
	answers := map[string]string{} // credentials × method → the body every endpoint gave
	for ename, url := range endpoints {
		for cname, headers := range credentials {
			for _, m := range methods {
				for _, u := range []string{url, url + "?token=" + newToken + "&access_token=" + newToken} {
					requests++
					status, hdr, body := raw(t, m.method, u, m.body, headers)
					if status == http.StatusUnauthorized {
						rejected++
					} else {
						t.Errorf("%s × %s × %s: status %d", ename, cname, m.name, status)
					}
					// Whether a vault exists cannot be told without its token.
					if seen, ok := answers[cname+m.name]; ok && seen != body {
						t.Errorf("%s × %s × %s: answered %q, another endpoint %q", ename, cname, m.name, body, seen)
					}
					answers[cname+m.name] = body
					if hdr.Get("Mcp-Session-Id") != "" {
						t.Errorf("%s × %s × %s: a session id was issued", ename, cname, m.name)
					}
				}
			}
		}
	}
	upstream, executed := len(w.rec.Calls()), w.executed(t)
	if upstream != 0 || executed != 0 {
		t.Errorf("%d upstream calls and %d executed records after rejected requests", upstream, executed)
	}
	// The right token still works, so the rejections were about credentials.
	if status, _, _ := raw(t, http.MethodPost, endpoints["vault"], initBody, map[string]string{"Authorization": "Bearer " + newToken}); status != http.StatusOK {
		t.Fatalf("the valid token was refused: %d", status)
	}
	figure("auth", "%d requests, %.0f%% rejected with 401, unknown and deleted vaults answered as wrong tokens, %d upstream calls, %d executed records", requests, 100*float64(rejected)/float64(requests), upstream, executed)
}

// TestBrowserAndNetwork plays a web page and a DNS-rebinding attacker.
func TestBrowserAndNetwork(t *testing.T) {
	w := newWorld(t)
	a, b := w.vault(t, "a"), w.vault(t, "b")
	url := w.url + "/v/" + a.ID + "/mcp"
	auth := "Bearer " + a.Token
	attacks := map[string]map[string]string{
		"foreign origin":        {"Authorization": auth, "Origin": "http://evil.example"},
		"null origin":           {"Authorization": auth, "Origin": "null"},
		"lookalike origin":      {"Authorization": auth, "Origin": "http://localhost.evil.example"},
		"origin with path":      {"Authorization": auth, "Origin": "http://localhost/x"},
		"rebinding host":        {"Authorization": auth, "Host": "evil.example"},
		"rebinding host + port": {"Authorization": auth, "Host": "evil.example:7878"},
		"text/plain cross-site": {"Authorization": auth, "Origin": "http://evil.example", "Content-Type": "text/plain"},
	}
	n := 0
	for name, headers := range attacks {
		for _, method := range []string{http.MethodPost, http.MethodGet, http.MethodDelete, http.MethodOptions} {
			n++
			status, hdr, _ := raw(t, method, url, initBody, headers)
			if status != http.StatusForbidden {
				t.Errorf("%s %s: %d, want 403", name, method, status)
			}
			for k := range hdr {
				if strings.HasPrefix(strings.ToLower(k), "access-control-") {
					t.Errorf("%s %s: CORS header %s sent", name, method, k)
				}
			}
		}
	}
	// A session of vault a is useless with vault b's token at vault b.
	c := connect(t, url, a.Token)
	status, _, _ := raw(t, http.MethodPost, w.url+"/v/"+b.ID+"/mcp", listBody, map[string]string{
		"Authorization": "Bearer " + b.Token, "Mcp-Session-Id": c.GetSessionId(), "MCP-Protocol-Version": "2025-11-25"})
	if status != http.StatusNotFound {
		t.Errorf("vault a's session at vault b: %d, want 404", status)
	}
	if len(w.rec.Calls()) != 0 {
		t.Error("an attack reached the upstream")
	}
	figure("browser", "%d cross-site and rebinding requests, 100%% refused with 403, 0 CORS headers, foreign session ids refused", n)
}
