package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

// The server's name and version, as initialize and stateless results give them.
const (
	serverName    = "agentvault"
	serverVersion = "1"
)

// direct answers the two requests agents send most without mcp-go, and
// reports whether it did: a plain tools/list on a session, from the list
// encoded once per vault state, and a plain tools/call of an allowed tool,
// relayed as JSON. Either must come on a session mcp-go has handled lately;
// a call may also be a well-formed stateless request. Anything else is left
// to mcp-go, untouched.
func (e *endpoint) direct(w http.ResponseWriter, r *http.Request) bool {
	stateless := r.Header.Get(mcp.HeaderProtocolVersion) == mcp.ProtocolVersion20260728
	var client string
	if stateless {
		if r.Header.Get(mcp.HeaderMethod) != string(mcp.MethodToolsCall) || r.Header.Get(mcp.HeaderLastEventID) != "" {
			return false
		}
	} else {
		var owned bool
		client, owned = e.ownSession(r)
		if !owned {
			e.cancelRelayed(r)
			return false
		}
	}
	body, ok := jsonBody(r, e.srv.cfg.MaxBodyBytes)
	if !ok {
		return false
	}
	req, ok := decodeRequest(body)
	switch {
	case !ok:
		if !stateless {
			e.cancelRelayed(r)
		}
		return false
	case req.Method == string(mcp.MethodToolsCall) && req.Params.Cursor == "":
		return e.relay(w, r, &req, stateless, client)
	case !stateless && req.plainList():
		list := e.state.Load().toolList()
		if list == nil {
			return false
		}
		writeResult(w, http.StatusOK, req.ID, list)
		return true
	}
	return false
}

// relay answers a tools/call of an allowed tool, relayed as JSON. It goes
// through the same execute as mcp-go's, and the service's result goes back
// undecoded; the service's progress, when the agent asked for it, goes back
// as events before it. Approvals, blocked or unknown tools, and metadata or
// headers that are not as expected are left to mcp-go, and relay reports
// false.
func (e *endpoint) relay(w http.ResponseWriter, r *http.Request, call *request, stateless bool, client string) bool {
	if stateless {
		var ok bool
		if client, ok = call.statelessClient(r.Header); !ok {
			return false
		}
	} else if len(call.Params.Meta) > 1 || (len(call.Params.Meta) == 1 && call.Params.Meta[metaProgressToken] == nil) {
		return false
	}
	token := call.Params.Meta[metaProgressToken]
	if string(token) == "null" {
		token = nil // no token, as mcp-go reads it
	}
	if token != nil && !plainID(token) {
		return false
	}
	st := e.state.Load()
	t, known := st.tools[call.Params.Name]
	session := r.Header.Get(server.HeaderKeySessionID)
	if stateless {
		// mcp-go ignores a session id on a stateless request, and so must
		// grants and data flow: the agent is its name within the vault.
		session = ""
	}
	if !known || st.decisions[call.Params.Name].Decision != policy.Allow || (stateless && t.paramHeaders) ||
		(t.def.Execution != nil && t.def.Execution.TaskSupport == mcp.TaskSupportRequired) ||
		e.flowAsks(st, t, call.Params.Name, approval.Request{Session: session, Client: client}) {
		return false // mcp-go answers it, with progress while it waits for approval
	}

	ctx := r.Context()
	if !stateless { // stateless agents cancel by ending the request
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		key := relayKey(r.Header.Get(server.HeaderKeySessionID), call.ID)
		e.relayed.Store(key, cancel)
		defer func() { e.relayed.Delete(key); cancel() }()
	}

	var args any
	if call.Params.Arguments != nil {
		args = call.Params.Arguments
	}
	out := &reply{w: w, id: call.ID}
	var progress providers.ProgressFunc
	if token != nil {
		progress = e.relayProgress(token, out.progress)
	}
	var result json.RawMessage
	var head resultHead
	refusal, err := e.executeRecovered(ctx, st, callRequest{name: call.Params.Name, args: args, client: client, session: session},
		func(ctx context.Context, t exposedTool) (bool, error) {
			var err error
			result, err = e.runRaw(ctx, t, args, progress)
			if err == nil {
				result, err = e.redactRaw(t, result)
			}
			if err != nil {
				return false, err
			}
			if err := json.Unmarshal(result, &head); err != nil || len(result) == 0 || result[0] != '{' {
				return false, fmt.Errorf("service %s sent a malformed result", t.service)
			}
			return head.IsError, nil
		})
	switch {
	case err != nil:
		code, status := mcp.INTERNAL_ERROR, http.StatusOK
		if errors.Is(err, server.ErrToolNotFound) {
			code = mcp.INVALID_PARAMS
			if stateless {
				status = http.StatusBadRequest
			}
		}
		out.error(status, code, err.Error())
		return true
	case refusal != "":
		result, _ = json.Marshal(mcp.NewToolResultError(refusal))
		head = resultHead{}
	}
	if stateless {
		if result, err = head.complete(result); err != nil {
			out.error(http.StatusOK, mcp.INTERNAL_ERROR, fmt.Sprintf("service %s sent a malformed result", t.service))
			return true
		}
	}
	out.result(result)
	return true
}

// metaProgressToken is the _meta key of the token an agent wants its
// call's progress under.
const metaProgressToken = "progressToken"

// reply answers one relayed call: a JSON response, or, once the service
// reports progress, an event stream that ends with the response, as mcp-go
// answers. Progress may come from a goroutine shared by many calls (a stdio
// service's reader): it is queued, dropped when the agent reads too slowly
// (as mcp-go drops it), and written by a goroutine of the call's own.
// Nothing is sent after the response.
type reply struct {
	w  http.ResponseWriter
	id json.RawMessage

	mu     sync.Mutex
	done   bool
	events chan []byte   // progress to write; nil until the first
	wrote  chan struct{} // closed when the events are written

	streamed bool // the response is an event stream (touched by one writer at a time)
}

// progress queues one notifications/progress event.
func (a *reply) progress(params map[string]any) {
	raw, err := json.Marshal(map[string]any{"jsonrpc": "2.0", "method": string(mcp.MethodNotificationProgress), "params": params})
	if err != nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done {
		return
	}
	if a.events == nil {
		a.events, a.wrote = make(chan []byte, 64), make(chan struct{})
		go func() {
			defer close(a.wrote)
			for raw := range a.events {
				a.event(raw)
			}
		}()
	}
	select {
	case a.events <- raw:
	default:
	}
}

// finish stops progress and waits until the queued events are written.
func (a *reply) finish() {
	a.mu.Lock()
	a.done = true
	events := a.events
	a.mu.Unlock()
	if events != nil {
		close(events)
		<-a.wrote
	}
}

// event writes one message as an event, starting the stream if needed. A
// line break would end the event early, so the message is compacted.
func (a *reply) event(msg []byte) {
	if !a.streamed {
		a.streamed = true
		h := a.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache")
		a.w.WriteHeader(http.StatusOK)
	}
	var data bytes.Buffer
	if json.Compact(&data, msg) != nil {
		return
	}
	fmt.Fprintf(a.w, "event: message\ndata: %s\n\n", data.Bytes())
	if f, ok := a.w.(http.Flusher); ok {
		f.Flush()
	}
}

// result sends the response carrying result.
func (a *reply) result(result json.RawMessage) {
	if a.finish(); a.streamed {
		a.event(appendResult(nil, a.id, result))
		return
	}
	writeResult(a.w, http.StatusOK, a.id, result)
}

// error sends an error response.
func (a *reply) error(status, code int, msg string) {
	if a.finish(); a.streamed {
		raw, _ := json.Marshal(errorResponse(a.id, code, msg))
		a.event(raw)
		return
	}
	writeError(a.w, status, a.id, code, msg)
}

// relayKey names a relayed call by its session and request id, written as
// the agent may write it again in notifications/cancelled.
func relayKey(session string, id json.RawMessage) string {
	var s string
	if json.Unmarshal(id, &s) == nil {
		return session + "\x00s" + s
	}
	return session + "\x00n" + string(bytes.TrimSpace(id))
}

// cancelRelayed cancels the relayed call a notifications/cancelled on r's
// session names, if it is one; mcp-go still gets the notification for the
// calls it runs.
func (e *endpoint) cancelRelayed(r *http.Request) {
	session := r.Header.Get(server.HeaderKeySessionID)
	if session == "" {
		return
	}
	body, ok := jsonBody(r, e.srv.cfg.MaxBodyBytes)
	if !ok {
		return
	}
	var n struct {
		Method string `json:"method"`
		Params struct {
			RequestID json.RawMessage `json:"requestId"`
		} `json:"params"`
	}
	if json.Unmarshal(body, &n) != nil || n.Method != string(mcp.MethodNotificationCancelled) || n.Params.RequestID == nil {
		return
	}
	if cancel, ok := e.relayed.Load(relayKey(session, n.Params.RequestID)); ok {
		cancel.(context.CancelFunc)()
	}
}

// executeRecovered is execute, with a panic turned into an error as mcp-go
// does for its handlers.
func (e *endpoint) executeRecovered(ctx context.Context, st *state, req callRequest, run func(context.Context, exposedTool) (bool, error)) (refusal string, err error) {
	defer func() {
		if v := recover(); v != nil {
			e.srv.log.Error("panic in a tool call", "tool", req.name, "panic", v)
			refusal, err = "", fmt.Errorf("panic recovered in %s tool handler: %v", req.name, v)
		}
	}()
	return e.execute(ctx, st, req, run)
}

// runRaw calls the service with the decided arguments, as JSON when the
// provider relays JSON.
func (e *endpoint) runRaw(ctx context.Context, t exposedTool, args any, progress providers.ProgressFunc) (json.RawMessage, error) {
	p, ok := e.srv.cfg.Catalog.Provider(t.service)
	if !ok {
		return nil, fmt.Errorf("service %s is not configured", t.service)
	}
	if rc, ok := p.(providers.RawCaller); ok {
		raw, err := json.Marshal(args)
		if err != nil {
			return nil, err
		}
		return rc.CallRaw(ctx, t.name, raw, progress)
	}
	res, err := p.Call(ctx, t.name, args, progress)
	if err != nil {
		return nil, err
	}
	return json.Marshal(res)
}

// request is a JSON-RPC request AgentVault may answer itself: these fields
// and no others.
type request struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  string          `json:"method"`
	Params  struct {
		Name      string                     `json:"name"`
		Arguments map[string]any             `json:"arguments"`
		Cursor    string                     `json:"cursor"`
		Meta      map[string]json.RawMessage `json:"_meta"`
	} `json:"params"`
}

// decodeRequest decodes body as exactly one request with a plain id,
// object arguments if any, and no other fields.
func decodeRequest(body []byte) (request, bool) {
	var req request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if dec.Decode(&req) != nil || len(bytes.TrimSpace(body[dec.InputOffset():])) > 0 || req.JSONRPC != "2.0" || !plainID(req.ID) {
		return request{}, false
	}
	return req, true
}

// statelessClient checks a stateless request's metadata against its headers
// as mcp-go would — the same protocol version in both, the tool's name in
// Mcp-Name, no metadata but the client's identity and capabilities — and
// returns the client's name and version.
func (c *request) statelessClient(h http.Header) (string, bool) {
	if name, ok := mcp.DecodeHeaderValue(h.Get(mcp.HeaderName)); !ok || name != c.Params.Name {
		return "", false
	}
	var version string
	if json.Unmarshal(c.Params.Meta[mcp.MetaKeyProtocolVersion], &version) != nil || version != h.Get(mcp.HeaderProtocolVersion) {
		return "", false
	}
	var caps *mcp.ClientCapabilities
	if json.Unmarshal(c.Params.Meta[mcp.MetaKeyClientCapabilities], &caps) != nil || caps == nil {
		return "", false // mcp-go refuses a stateless request without them
	}
	var info mcp.Implementation
	for key, raw := range c.Params.Meta {
		switch key {
		case mcp.MetaKeyProtocolVersion, mcp.MetaKeyClientCapabilities, metaProgressToken:
		case mcp.MetaKeyClientInfo:
			if json.Unmarshal(raw, &info) != nil {
				return "", false
			}
		default:
			return "", false
		}
	}
	return clientLabel(info), true
}

// resultHead is what the relay reads of a tools/call result.
type resultHead struct {
	IsError    bool            `json:"isError"`
	Meta       json.RawMessage `json:"_meta"`
	ResultType json.RawMessage `json:"resultType"`
}

// serverInfo is the server's identity in the _meta of stateless results.
var serverInfo = json.RawMessage(`{"name":"` + serverName + `","version":"` + serverVersion + `"}`)

// complete makes result, whose head h is, a stateless-protocol result, as
// mcp-go makes its own: resultType "complete" (whatever the service said)
// and the server's identity in _meta, beside any _meta of the service's.
func (h resultHead) complete(result json.RawMessage) (json.RawMessage, error) {
	if h.Meta == nil && h.ResultType == nil {
		// The usual case: both go in front of the service's fields.
		rest := bytes.TrimLeft(result[1:], " \t\r\n")
		out := make([]byte, 0, len(result)+100)
		out = append(out, `{"_meta":{"`+mcp.MetaKeyServerInfo+`":`...)
		out = append(out, serverInfo...)
		out = append(out, `},"resultType":"complete"`...)
		if len(rest) > 0 && rest[0] != '}' {
			out = append(out, ',')
		}
		return append(out, rest...), nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(result, &fields); err != nil {
		return nil, err
	}
	var meta map[string]json.RawMessage
	if h.Meta != nil {
		if err := json.Unmarshal(h.Meta, &meta); err != nil {
			return nil, err
		}
	}
	if meta == nil {
		meta = map[string]json.RawMessage{}
	}
	meta[mcp.MetaKeyServerInfo] = serverInfo
	var err error
	if fields["_meta"], err = json.Marshal(meta); err != nil {
		return nil, err
	}
	fields["resultType"] = json.RawMessage(`"complete"`)
	return json.Marshal(fields)
}

// ownSession reports whether a request on a session-based protocol may be
// answered without mcp-go — its session is live and mcp-go handled one of its
// requests less than a quarter of the idle timeout ago, so that mcp-go never
// ends a session in use — and returns the session's agent.
func (e *endpoint) ownSession(r *http.Request) (client string, ok bool) {
	if !slices.Contains(sessionProtocols, r.Header.Get(mcp.HeaderProtocolVersion)) {
		return "", false
	}
	return e.ids.recent(r.Header.Get(server.HeaderKeySessionID), e.srv.cfg.SessionIdleTimeout/4)
}

// jsonBody reads the body of a JSON POST of at most limit bytes, leaving
// r.Body to be read again from the start if mcp-go is to answer after all.
func jsonBody(r *http.Request, limit int64) ([]byte, bool) {
	if r.Method != http.MethodPost || r.ContentLength <= 0 || r.ContentLength > limit {
		return nil, false
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), r.Body))
	return body, err == nil
}

// writeResult writes a JSON-RPC response carrying result, in one write: a
// response in pieces costs the agent's side more reads than the copy costs.
// The copy's buffer is reused: a list of many tools is tens of kilobytes.
func writeResult(w http.ResponseWriter, status int, id, result json.RawMessage) {
	buf := responses.Get().(*[]byte)
	out := append(appendResult((*buf)[:0], id, result), '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(status)
	w.Write(out)
	if cap(out) <= maxPooledResponse {
		*buf = out
		responses.Put(buf)
	}
}

// appendResult appends the JSON-RPC response to request id carrying result.
func appendResult(dst []byte, id, result json.RawMessage) []byte {
	dst = append(dst, `{"jsonrpc":"2.0","id":`...)
	dst = append(dst, id...)
	dst = append(dst, `,"result":`...)
	dst = append(dst, result...)
	return append(dst, '}')
}

// responses holds response buffers for reuse, up to maxPooledResponse bytes.
var responses = sync.Pool{New: func() any { return new([]byte) }}

const maxPooledResponse = 1 << 20

// writeError writes a JSON-RPC error response.
func writeError(w http.ResponseWriter, status int, id json.RawMessage, code int, msg string) {
	out, _ := json.Marshal(errorResponse(id, code, msg))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(out, '\n'))
}

// errorResponse is a JSON-RPC error response.
func errorResponse(id json.RawMessage, code int, msg string) any {
	type details struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	return struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Error   details         `json:"error"`
	}{"2.0", id, details{code, msg}}
}
