//go:build linux

package reliability

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// TestProtocolEdges sends what the MCP transport spec says a server must
// refuse; nothing may run and the server must keep serving.
func TestProtocolEdges(t *testing.T) {
	w := newWorld(t)
	v := w.vault(t, "a")
	url := w.url + "/v/" + v.ID + "/mcp"
	c := connect(t, url, v.Token)
	session := map[string]string{"Authorization": "Bearer " + v.Token, "Mcp-Session-Id": c.GetSessionId(), "MCP-Protocol-Version": "2025-11-25"}
	with := func(extra map[string]string) map[string]string {
		h := map[string]string{}
		for k, x := range session {
			h[k] = x
		}
		for k, x := range extra {
			if x == "" {
				delete(h, k)
			} else {
				h[k] = x
			}
		}
		return h
	}
	deep := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	cases := []struct {
		name    string
		body    string
		headers map[string]string
		want    func(status int, body string) bool
	}{
		{"unsupported protocol version", callBody, with(map[string]string{"MCP-Protocol-Version": "1999-01-01"}), is(http.StatusBadRequest)},
		{"missing session id", callBody, with(map[string]string{"Mcp-Session-Id": ""}), clientError},
		{"unknown session id", callBody, with(map[string]string{"Mcp-Session-Id": "av-00000000000000000000000000000000"}), is(http.StatusNotFound)},
		{"JSON-RPC batch", "[" + callBody + "," + callBody + "]", session, rpcError},
		{"oversize body", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"` + strings.Repeat("x", 5<<20) + `"}}}`, session, is(http.StatusRequestEntityTooLarge)},
		{"deep nesting", `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"x","n":` + deep + `}}}`, session, rpcError},
		{"not JSON", `{"jsonrpc":`, session, rpcError},
		{"wrong content type", callBody, with(map[string]string{"Content-Type": "text/plain"}), clientError},
		{"notification", `{"jsonrpc":"2.0","method":"notifications/initialized"}`, session, is(http.StatusAccepted)},
		{"call as notification", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"x"}}}`, session, is(http.StatusAccepted)},
		{"wrong jsonrpc version", `{"jsonrpc":"1.0","id":9,"method":"tools/call","params":{"name":"echo_echo","arguments":{"message":"x"}}}`, session, rpcError},
	}
	for _, tc := range cases {
		status, _, body := raw(t, http.MethodPost, url, tc.body, tc.headers)
		if !tc.want(status, body) {
			t.Errorf("%s: %d %.200s", tc.name, status, body)
		}
	}
	if calls := w.rec.Calls(); len(calls) != 0 {
		t.Errorf("the upstream ran %v", calls)
	}
	if res, err := callTool(c, "echo_echo", map[string]any{"message": "still here"}); err != nil || res.IsError {
		t.Fatalf("the server stopped serving: %v", err)
	}
	figure("protocol", "%d malformed or out-of-protocol requests, all refused as the spec says, 0 upstream calls, still serving", len(cases))
}

func is(want int) func(int, string) bool { return func(s int, _ string) bool { return s == want } }
func clientError(s int, _ string) bool   { return s >= 400 && s < 500 }

// rpcError accepts a JSON-RPC error answer (any 2xx/4xx status with an
// "error" member), never a result.
func rpcError(s int, body string) bool {
	return s < 500 && strings.Contains(body, `"error"`) && !strings.Contains(body, `"result"`)
}

func callTool(c *client.Client, name string, args map[string]any) (*mcp.CallToolResult, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = name, args
	return c.CallTool(context.Background(), req)
}

// TestParserDifferentials sends requests that different JSON parsers read
// differently: each must be refused, or decided on exactly what the upstream
// received.
func TestParserDifferentials(t *testing.T) {
	w := newWorld(t)
	v := w.vault(t, "a")
	// echo_echo is read-only (allowed); echo_delete_note is destructive (blocked).
	url := w.url + "/v/" + v.ID + "/mcp"
	c := connect(t, url, v.Token)
	session := map[string]string{"Authorization": "Bearer " + v.Token, "Mcp-Session-Id": c.GetSessionId(), "MCP-Protocol-Version": "2025-11-25"}
	call := func(params string) string {
		return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":` + params + `}`
	}
	cases := []struct{ name, body string }{
		{"duplicate name, allowed last", call(`{"name":"echo_delete_note","name":"echo_echo","arguments":{"message":"a"}}`)},
		{"duplicate name, blocked last", call(`{"name":"echo_echo","name":"echo_delete_note","arguments":{"message":"b"}}`)},
		{"case-folded Name", call(`{"Name":"echo_delete_note","arguments":{"id":"1"}}`)},
		{"case-folded NAME after name", call(`{"name":"echo_echo","NAME":"echo_delete_note","arguments":{"message":"c"}}`)},
		{"unicode-folded key (long s)", call(`{"name":"echo_echo","argument\u017f":{"message":"d"}}`)},
		{"unicode-folded key (Kelvin)", call(`{"name":"echo_echo","arguments":{"message":"e"},"\u212aey":1}`)},
		{"NUL-suffixed name", call(`{"name":"echo_echo\u0000","arguments":{"message":"f"}}`)},
		{"NUL-suffixed method", `{"jsonrpc":"2.0","id":7,"method":"tools/call\u0000","params":{"name":"echo_echo","arguments":{"message":"g"}}}`},
		{"duplicate argument", call(`{"name":"echo_echo","arguments":{"message":"first","message":"second"}}`)},
		{"duplicate arguments object", call(`{"name":"echo_echo","arguments":{"message":"h1"},"arguments":{"message":"h2"}}`)},
		{"blocked tool name with spaces", call(`{"name":" echo_delete_note","arguments":{}}`)},
	}
	consistent := 0
	for _, tc := range cases {
		before := len(w.rec.Requests())
		status, _, body := raw(t, http.MethodPost, url, tc.body, session)
		after := w.rec.Requests()
		ran := after[before:]
		// What AgentVault decided on: the request as Go parses it.
		var parsed struct {
			Method string `json:"method"`
			Params struct {
				Name      string         `json:"name"`
				Arguments map[string]any `json:"arguments"`
			} `json:"params"`
		}
		json.Unmarshal([]byte(tc.body), &parsed)
		switch {
		case len(ran) == 0:
			consistent++ // refused: nothing ran
		case len(ran) == 1 && "echo_"+ran[0].Name == parsed.Params.Name && parsed.Method == "tools/call" &&
			policy.Decide(policy.Policy{}, policy.Tool{Name: parsed.Params.Name, ReadOnly: ptr(true)}).Decision == policy.Allow:
			var got map[string]any
			json.Unmarshal(ran[0].Args, &got)
			if !sameJSON(got, parsed.Params.Arguments) {
				t.Errorf("%s: decided on %v, upstream received %s", tc.name, parsed.Params.Arguments, ran[0].Args)
				continue
			}
			if slices.Contains([]string{"echo_delete_note"}, "echo_"+ran[0].Name) {
				t.Errorf("%s: a blocked tool ran", tc.name)
				continue
			}
			consistent++
		default:
			t.Errorf("%s: status %d %.120s; upstream ran %+v", tc.name, status, body, ran)
		}
	}
	for _, r := range w.rec.Requests() {
		if r.Name != "echo" {
			t.Errorf("the upstream ran %s", r.Name)
		}
	}
	figure("parsing", "%d parser-differential requests: %d refused or decided on exactly what the upstream received", len(cases), consistent)
}

func ptr(b bool) *bool { return &b }

func sameJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}
