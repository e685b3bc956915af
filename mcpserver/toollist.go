package mcpserver

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// sessionProtocols are the session-based protocol revisions whose tools/list
// AgentVault answers itself. Stateless 2026-07-28 requests, whose headers
// must be checked against their bodies, go to mcp-go.
var sessionProtocols = []string{mcp.ProtocolVersion20251125, "2025-06-18", "2025-03-26"}

// maxListRequest bounds the body of a tools/list AgentVault answers itself.
const maxListRequest = 4 << 10

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
			res.Tools = append(res.Tools, st.tools[n].def)
		}
		st.list, _ = json.Marshal(res)
	})
	return st.list
}

// listFromCache answers a plain tools/list on a live session with the
// pre-encoded list, and reports whether it did. Anything else — another
// method, a cursor, a stateless request, an unknown or terminated session,
// a session mcp-go has not seen for a quarter of the idle timeout (so that
// it never ends a session in use) — is left to mcp-go, untouched.
func (e *endpoint) listFromCache(w http.ResponseWriter, r *http.Request) bool {
	if _, ok := e.ownSession(r); !ok {
		return false
	}
	body, ok := jsonBody(r, maxListRequest)
	if !ok {
		return false
	}
	id, ok := plainToolsList(body)
	if !ok {
		return false
	}
	list := e.state.Load().toolList()
	if list == nil {
		return false
	}
	writeResult(w, http.StatusOK, id, list)
	return true
}

// plainToolsList reports whether body is exactly a tools/list request with
// no cursor and no stateless-protocol metadata, and returns its id.
func plainToolsList(body []byte) (json.RawMessage, bool) {
	var msg struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  *struct {
			Cursor string                     `json:"cursor"`
			Meta   map[string]json.RawMessage `json:"_meta"`
		} `json:"params"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&msg) != nil || dec.More() || msg.JSONRPC != "2.0" || msg.Method != string(mcp.MethodToolsList) {
		return nil, false
	}
	if !plainID(msg.ID) {
		return nil, false
	}
	if p := msg.Params; p != nil {
		if _, stateless := p.Meta[mcp.MetaKeyProtocolVersion]; p.Cursor != "" || stateless {
			return nil, false
		}
	}
	return msg.ID, true
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
