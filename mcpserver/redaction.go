package mcpserver

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers"
)

// redactDefinition takes the configured secrets out of a tool's
// definition (a description that repeats a credential).
func (e *endpoint) redactDefinition(t mcp.Tool) (mcp.Tool, error) {
	if e.srv.cfg.Redactor.Empty() {
		return t, nil
	}
	raw, err := json.Marshal(t)
	if err != nil {
		return t, err
	}
	clean, found := e.srv.cfg.Redactor.Bytes(raw)
	if !found {
		return t, nil
	}
	var out mcp.Tool
	if err := json.Unmarshal(clean, &out); err != nil {
		return t, err
	}
	return out, nil
}

// relayProgress is providers.RelayProgress with the configured secrets
// taken out of each message.
func (e *endpoint) relayProgress(token mcp.ProgressToken, send func(params map[string]any)) providers.ProgressFunc {
	return providers.RelayProgress(token, func(params map[string]any) {
		if msg, ok := params["message"].(string); ok {
			params["message"] = e.srv.cfg.Redactor.String(msg)
		}
		send(params)
	})
}

// redactResult takes the configured secrets out of a service's result.
func (e *endpoint) redactResult(t exposedTool, res *mcp.CallToolResult) (*mcp.CallToolResult, error) {
	if e.srv.cfg.Redactor.Empty() || res == nil {
		return res, nil
	}
	raw, err := json.Marshal(res)
	if err != nil {
		return nil, fmt.Errorf("service %s sent a result that cannot be encoded: %w", t.service, err)
	}
	clean, err := e.redactRaw(t, raw)
	if err != nil || len(clean) == len(raw) && bytes.Equal(clean, raw) {
		return res, err
	}
	return mcp.ParseCallToolResult((*json.RawMessage)(&clean))
}

// redactRaw takes the configured secrets out of a service's JSON result. A
// result that is no longer JSON after that (a secret spanned its structure)
// is refused rather than sent.
func (e *endpoint) redactRaw(t exposedTool, raw []byte) ([]byte, error) {
	clean, found := e.srv.cfg.Redactor.Bytes(raw)
	if found && !json.Valid(clean) {
		return nil, fmt.Errorf("service %s sent a result holding a configured secret that could not be removed", t.service)
	}
	return clean, nil
}
