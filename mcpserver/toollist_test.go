package mcpserver

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// rawList posts a tools/list on a session and returns the status and body.
func rawList(t *testing.T, url, token, session, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Session-Id", session)
	req.Header.Set("MCP-Protocol-Version", legacy)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// The pre-encoded list is the list mcp-go gives, for every policy.
func TestCachedToolListIsMcpGosList(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.vault(t, "a", policy.Rule{Pattern: "echo_rich", Decision: policy.Block})
	session := f.connect(t, "a", tok, legacy).GetSessionId()
	stateless := f.connect(t, "a", tok, modern) // answered by mcp-go

	compare := func(stage string) {
		status, body := rawList(t, f.url+"/v/a/mcp", tok, session, `{"jsonrpc":"2.0","id":"x-1","method":"tools/list","params":{}}`)
		var cached struct {
			ID     string          `json:"id"`
			Result json.RawMessage `json:"result"`
		}
		if status != http.StatusOK || json.Unmarshal(body, &cached) != nil || cached.ID != "x-1" {
			t.Fatalf("%s: %d %s", stage, status, body)
		}
		res, err := stateless.ListTools(t.Context(), mcp.ListToolsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(res.Tools)
		var got struct{ Tools json.RawMessage }
		json.Unmarshal(cached.Result, &got)
		var a, b any
		json.Unmarshal(got.Tools, &a)
		json.Unmarshal(want, &b)
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("%s: cached list\n%s\nmcp-go's\n%s", stage, got.Tools, want)
		}
		if stage == "blocked" && strings.Contains(string(got.Tools), `"echo_rich"`) {
			t.Fatalf("%s: a blocked tool is listed", stage)
		}
	}
	compare("blocked")
	f.srv.PutVault(Vault{ID: "a", Name: "a", TokenDigest: f.srv.endpoint("a").tokenDigest(), Services: []string{"echo"}})
	compare("after a policy change")
}

func TestOnlyPlainToolListsAreAnsweredFromTheCache(t *testing.T) {
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, true},
		{`{"jsonrpc":"2.0","id":"a","method":"tools/list","params":{"_meta":{"progressToken":1}}}`, true},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"cursor":"abc"}}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/call"}`, false},
		{`{"jsonrpc":"2.0","method":"tools/list"}`, false},
		{`{"jsonrpc":"2.0","id":null,"method":"tools/list"}`, false},
		{`{"jsonrpc":"2.0","id":1e400,"method":"tools/list"}`, false},
		{`{"jsonrpc":"2.0","id":-7,"method":"tools/list"}`, true},
		{`{"jsonrpc":"1.0","id":1,"method":"tools/list"}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list","extra":1}`, false},
		{`[{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"} {}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}}`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}]`, false},
		{`{"jsonrpc":"2.0","id":1,"method":"tools/list"}` + " \n", true},
	} {
		if req, ok := decodeRequest([]byte(tc.body)); (ok && req.plainList()) != tc.ok {
			t.Errorf("%s: answered from the cache = %v", tc.body, ok)
		}
	}
}

// Sessions that only list tools, answered from the cache, stay alive: mcp-go
// sees one of their requests often enough to keep its idle timer fresh.
func TestListingFromTheCacheKeepsTheSessionAlive(t *testing.T) {
	f := newFixture(t, nil, idleAfter(time.Second))
	tok := f.vault(t, "a")
	session := f.connect(t, "a", tok, legacy).GetSessionId()
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if status, body := rawList(t, f.url+"/v/a/mcp", tok, session, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); status != http.StatusOK {
			t.Fatalf("session ended while in use: %d %s", status, body)
		}
	}
	time.Sleep(2500 * time.Millisecond) // idle now: mcp-go ends it
	if status, _ := rawList(t, f.url+"/v/a/mcp", tok, session, `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`); status != http.StatusNotFound {
		t.Fatalf("an idle session still answered: %d", status)
	}
}

// A read-only tool the vault makes wait for approval is not advertised as
// read-only, on either protocol; an allowed one still is.
func TestToolsTheVaultApprovesAreNotAdvertisedReadOnly(t *testing.T) {
	for _, proto := range []string{legacy, modern} {
		t.Run(proto, func(t *testing.T) {
			f := newFixture(t, nil)
			c := f.connect(t, "a", f.vault(t, "a", policy.Rule{Pattern: "echo_echo", Decision: policy.Approve}), proto)
			res, err := c.ListTools(t.Context(), mcp.ListToolsRequest{})
			if err != nil {
				t.Fatal(err)
			}
			readOnly := map[string]bool{}
			for _, tl := range res.Tools {
				readOnly[tl.Name] = tl.Annotations.ReadOnlyHint != nil && *tl.Annotations.ReadOnlyHint
			}
			if readOnly["echo_echo"] || !readOnly["echo_rich"] {
				t.Fatalf("read-only as advertised: %v", readOnly)
			}
		})
	}
}
