package apitool

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
)

// MaxText bounds the text of one result, so one large file or thread
// cannot flood the agent's context.
const MaxText = 64 << 10

// Truncate cuts s to at most n bytes at a character boundary and says how
// much was left out.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + fmt.Sprintf("\n[truncated by AgentVault: %d more bytes]", len(s)-cut)
}

// Text is a result of plain text, truncated to MaxText.
func Text(s string) *mcp.CallToolResult { return mcp.NewToolResultText(Truncate(s, MaxText)) }

// JSON is a result holding v as compact JSON text, truncated to MaxText.
func JSON(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encoding the result: %w", err)
	}
	return Text(string(b)), nil
}
