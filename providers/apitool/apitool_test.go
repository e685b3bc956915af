package apitool

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers"
)

func testTool(run func(context.Context, Args) (*mcp.CallToolResult, error)) Tool {
	return Tool{
		Def: Def("t", "T", "A tool.", Writes,
			mcp.WithString("name", mcp.Required(), mcp.Pattern(`^[a-z]+$`)),
			mcp.WithInteger("count"),
			mcp.WithString("mode", mcp.Enum("a", "b")),
			mcp.WithArray("tags", mcp.WithStringItems()),
		),
		Scopes: []string{"write"},
		Run:    run,
	}
}

func TestParseIsStrict(t *testing.T) {
	schema := testTool(nil).Def.InputSchema
	for name, raw := range map[string]any{
		"not an object":      []any{"x"},
		"unknown argument":   map[string]any{"name": "a", "extra": 1.0},
		"differently cased":  map[string]any{"Name": "a"},
		"missing required":   map[string]any{"count": 1.0},
		"wrong type":         map[string]any{"name": 1.0},
		"fractional integer": map[string]any{"name": "a", "count": 1.5},
		"outside the enum":   map[string]any{"name": "a", "mode": "c"},
		"pattern":            map[string]any{"name": "A/../b"},
		"array of numbers":   map[string]any{"name": "a", "tags": []any{1.0}},
	} {
		if _, err := Parse(schema, raw); err == nil {
			t.Errorf("%s: accepted %v", name, raw)
		}
	}
	a, err := Parse(schema, map[string]any{"name": "a", "count": 500.0, "tags": []any{"x"}})
	if err != nil || a.String("name") != "a" || a.Int("count", 20, 100) != 100 || a.Int("missing", 20, 100) != 20 || a.Strings("tags")[0] != "x" {
		t.Fatalf("Parse = %+v, %v", a, err)
	}
}

func TestFromStatus(t *testing.T) {
	h := http.Header{"Retry-After": {"30"}}
	for status, want := range map[int]Kind{401: Reconnect, 403: Permission, 404: NotFound, 410: NotFound, 422: Invalid, 429: RateLimited} {
		var e *Error
		if err := FromStatus("X", status, http.Header{}, "m"); !errors.As(err, &e) || e.Kind != want {
			t.Errorf("%d: %v", status, err)
		}
	}
	var e *Error
	if err := FromStatus("X", 403, h, "m"); !errors.As(err, &e) || e.Kind != RateLimited || time.Until(e.Reset) < 20*time.Second {
		t.Errorf("403 with Retry-After: %+v", e)
	}
	if err := FromStatus("X", 502, nil, "bad gateway"); errors.As(err, &e) {
		t.Error("a 5xx is an infrastructure error, not an agent's")
	}
}

func TestTruncateKeepsCharactersWhole(t *testing.T) {
	s := strings.Repeat("é", 100)
	got := Truncate(s, 51)
	if !utf8.ValidString(got) || !strings.Contains(got, "truncated by AgentVault: 150 more bytes") {
		t.Fatalf("Truncate = %q", got)
	}
	if Truncate("short", 10) != "short" {
		t.Fatal("a short text changed")
	}
}

func TestProviderScopesAndRefusedSignIn(t *testing.T) {
	fail := true
	p := New("X", []Tool{testTool(func(context.Context, Args) (*mcp.CallToolResult, error) {
		if fail {
			return nil, providers.ErrReconnect
		}
		return Text("ok"), nil
	})}, []string{"read"})
	if tools, _ := p.Tools(t.Context()); len(tools) != 0 || len(p.Unavailable()) != 1 {
		t.Fatalf("a tool without its scope is offered: %v", tools)
	}
	p = New("X", p.tools, nil)
	res, err := p.Call(t.Context(), "t", map[string]any{"name": "a"}, nil)
	if err != nil || !res.IsError || !strings.Contains(res.Content[0].(mcp.TextContent).Text, "reconnect X") {
		t.Fatalf("refused credential: %+v %v", res, err)
	}
	if _, refused := p.Refused(); !refused {
		t.Fatal("the refusal was not remembered")
	}
	fail = false
	if res, _ := p.Call(t.Context(), "t", map[string]any{"name": "a"}, nil); res.IsError {
		t.Fatal(res)
	}
	if _, refused := p.Refused(); refused {
		t.Fatal("a working call did not clear the refusal")
	}
}
