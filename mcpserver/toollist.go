package mcpserver

import (
	"encoding/json"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// sessionProtocols are the session-based protocol revisions whose tools/list
// AgentVault answers itself. Stateless 2026-07-28 requests, whose headers
// must be checked against their bodies, go to mcp-go.
var sessionProtocols = []string{mcp.ProtocolVersion20251125, "2025-06-18", "2025-03-26"}

// toolList is the vault's tools/list result, encoded once per state: the
// tools mcp-go would list (sorted by name, blocked ones left out), encoded by
// mcp-go's own types.
func (st *state) toolList() []byte {
	st.listOnce.Do(func() {
		names := make([]string, 0, len(st.tools))
		for name := range st.tools {
			if st.decisions[name].Decision != policy.Block {
				names = append(names, name)
			}
		}
		sort.Strings(names)
		res := mcp.ListToolsResult{Tools: make([]mcp.Tool, 0, len(names))}
		for _, n := range names {
			res.Tools = append(res.Tools, st.honest(st.tools[n].def))
		}
		st.list, _ = json.Marshal(res)
	})
	return st.list
}

// plainList reports whether req is a tools/list AgentVault answers from the
// list encoded once per state: no cursor, nothing of the stateless protocol.
func (req *request) plainList() bool {
	_, stateless := req.Params.Meta[mcp.MetaKeyProtocolVersion]
	return req.Method == string(mcp.MethodToolsList) && req.Params.Cursor == "" && req.Params.Name == "" &&
		req.Params.Arguments == nil && !stateless
}

// plainID accepts a JSON-RPC id that is a string or a plain integer, the
// ids every client sends; anything else (exponents, fractions) is mcp-go's
// to judge.
func plainID(id json.RawMessage) bool {
	if len(id) > 0 && id[0] == '"' {
		var s string
		return json.Unmarshal(id, &s) == nil
	}
	digits := strings.TrimPrefix(string(id), "-")
	return len(digits) > 0 && len(digits) <= 15 && strings.Trim(digits, "0123456789") == ""
}

// honest is t as the vault advertises it: a tool the vault makes wait for
// approval is never advertised as read-only, whatever its service declares,
// so that clients' plan and read-only modes do not call it as a read.
func (st *state) honest(t mcp.Tool) mcp.Tool {
	ro := t.Annotations.ReadOnlyHint
	if ro == nil || !*ro || st.decisions[t.Name].Decision != policy.Approve {
		return t
	}
	t.Annotations.ReadOnlyHint = mcp.ToBoolPtr(false)
	return t
}
