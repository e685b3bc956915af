package upstream

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
)

// poster sends the calls of a session with an HTTP server as plain HTTP/1.1
// POSTs on kept-alive connections, writing the request and reading the answer
// on the calling goroutine, with the standard library's own request writer
// and response parser. net/http's client hands every request to a writer
// goroutine and every response back from a reader goroutine: on a busy
// two-core machine those hand-offs cost more than a loopback call itself. The
// session (initialize, the listening stream, tools/list) stays with mcp-go.
//
// An answer is a JSON body or an event stream carrying notifications (handed
// to notify), requests from the server (answered: ping with an empty result,
// anything else as not supported, as mcp-go's client does without handlers)
// and finally the response.
type poster struct {
	url    *url.URL
	header http.Header // the service's headers and the fixed ones of every POST
	dial   func(ctx context.Context) (net.Conn, error)
	notify func(mcp.JSONRPCNotification)

	mu     sync.Mutex
	idle   []*postConn
	closed bool
}

type postConn struct {
	net.Conn
	r         *bufio.Reader
	w         *bufio.Writer
	idleSince time.Time
	reused    bool // it carried an earlier call
}

// maxIdlePosts is how many idle connections a poster keeps, and
// maxIdleTime how long.
const (
	maxIdlePosts = 32
	maxIdleTime  = time.Second
)

// maxAnswer bounds an answer's body: a larger one is refused, not read.
const maxAnswer = 64 << 20

// errSessionGone is an HTTP 404 on a session: the server forgot it.
var errSessionGone = errors.New("the server ended the session")

// newPoster returns a poster for a plain-HTTP server reached without a
// proxy, the local servers where a call's cost shows; nil for anything else
// (TLS, HTTP/2, proxies: net/http's business), whose calls go through mcp-go.
func newPoster(rawURL string, headers map[string]string, notify func(mcp.JSONRPCNotification)) (*poster, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" || u.User != nil {
		return nil, nil
	}
	if proxy, err := http.ProxyFromEnvironment(&http.Request{URL: u}); err != nil || proxy != nil {
		return nil, nil
	}
	h := http.Header{}
	for k, v := range headers {
		h.Set(k, v)
	}
	h.Set("Content-Type", "application/json")
	h.Set("Accept", "application/json, text/event-stream")
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	d := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}
	dial := func(ctx context.Context) (net.Conn, error) { return d.DialContext(ctx, "tcp", host) }
	return &poster{url: u, header: h, dial: dial, notify: notify}, nil
}

// call posts one JSON-RPC request on session (speaking protocol) and
// returns the response: its result, or the JSON-RPC error the server
// answered with. err is everything that went wrong on the way (the
// connection is then not reused); errSessionGone says the session ended.
func (p *poster) call(ctx context.Context, session, protocol string, id mcp.RequestId, request []byte) (json.RawMessage, *mcp.JSONRPCErrorDetails, error) {
	resp, pc, done, err := p.post(ctx, session, protocol, request)
	if err != nil {
		return nil, nil, err
	}
	msg, stream, err := p.answer(ctx, resp, session, protocol)
	if !done() { // ctx ended and closed the connection meanwhile
		return nil, nil, ctx.Err()
	}
	if err == nil && msg.ID.String() != id.String() {
		err = errors.New("the response is for another request")
	}
	if err != nil {
		pc.Close()
		return nil, nil, err
	}
	if stream {
		// Servers end a call's stream after its response; the caller does
		// not wait for that.
		go p.keep(pc, resp.Body, resp.Close)
	} else {
		p.keep(pc, resp.Body, resp.Close)
	}
	return msg.Result, msg.Error, nil
}

// post writes one POST and reads the status line and headers of its answer,
// on an idle connection or a new one. Until done is called, a cancelled ctx
// closes the connection, which ends the request at the server; done reports
// whether it had not.
//
// A kept connection the server closed while it was idle fails before any
// answer; the request is then sent once more on a new connection (what a
// server that took a request does not do is close without answering).
func (p *poster) post(ctx context.Context, session, protocol string, body []byte) (*http.Response, *postConn, func() bool, error) {
	h := p.header.Clone()
	if session != "" {
		h.Set("Mcp-Session-Id", session)
	}
	h.Set(mcp.HeaderProtocolVersion, protocol)
	for {
		pc, err := p.conn(ctx)
		if err != nil {
			return nil, nil, nil, err
		}
		req := &http.Request{Method: http.MethodPost, URL: p.url, Host: p.url.Host, Header: h, ProtoMajor: 1, ProtoMinor: 1,
			Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		done := context.AfterFunc(ctx, func() { pc.Close() })
		var resp *http.Response
		answered := false // a byte of answer came back
		if err = req.Write(pc.w); err == nil {
			err = pc.w.Flush()
		}
		if err == nil {
			if _, err = pc.r.Peek(1); err == nil {
				answered = true
				resp, err = http.ReadResponse(pc.r, req)
			}
		}
		if err == nil {
			return resp, pc, done, nil
		}
		done()
		pc.Close()
		if ctx.Err() != nil {
			return nil, nil, nil, ctx.Err()
		}
		gone := errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
		if !pc.reused || !gone || answered {
			return nil, nil, nil, err
		}
	}
}

// answer reads the answer to a request: a JSON body, or an event stream
// (stream) up to the response.
func (p *poster) answer(ctx context.Context, resp *http.Response, session, protocol string) (msg *message, stream bool, err error) {
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound:
		return nil, false, errSessionGone
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, false, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	body := io.LimitReader(resp.Body, maxAnswer+1)
	switch mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt {
	case "application/json":
		msg, err = readJSON(body)
		return msg, false, err
	case "text/event-stream":
		msg, err = p.readEvents(ctx, bufio.NewReader(body), session, protocol)
		return msg, true, err
	}
	return nil, false, fmt.Errorf("unexpected content type %q", resp.Header.Get("Content-Type"))
}

// keep gives a connection back for the next call once the rest of an
// answer (events after the response, if any) is read to its end, or closes
// it.
func (p *poster) keep(pc *postConn, rest io.Reader, closing bool) {
	const most = 1 << 20
	pc.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	n, err := io.Copy(io.Discard, io.LimitReader(rest, most+1))
	if err != nil || n > most || closing || pc.r.Buffered() > 0 || pc.SetReadDeadline(time.Time{}) != nil {
		pc.Close()
		return
	}
	pc.idleSince, pc.reused = time.Now(), true
	p.mu.Lock()
	if !p.closed && len(p.idle) < maxIdlePosts {
		p.idle = append(p.idle, pc)
		pc = nil
	}
	p.mu.Unlock()
	if pc != nil {
		pc.Close()
	}
}

// message is any JSON-RPC message a server sends.
type message struct {
	ID     mcp.RequestId            `json:"id"`
	Method string                   `json:"method"`
	Params json.RawMessage          `json:"params"`
	Result json.RawMessage          `json:"result"`
	Error  *mcp.JSONRPCErrorDetails `json:"error"`
}

func readJSON(r io.Reader) (*message, error) {
	raw, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	if len(raw) > maxAnswer {
		return nil, errors.New("the answer is too large")
	}
	var m message
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("decoding the answer: %w", err)
	}
	return &m, nil
}

// readEvents reads an event stream up to the response, handing
// notifications to notify and answering the server's requests.
func (p *poster) readEvents(ctx context.Context, r *bufio.Reader, session, protocol string) (*message, error) {
	var data []byte
	read := 0
	for {
		line, err := r.ReadSlice('\n')
		if err == bufio.ErrBufferFull { // a long line: read it whole
			rest, rerr := r.ReadBytes('\n')
			line, err = append(append([]byte(nil), line...), rest...), rerr
		}
		if err != nil {
			if err == io.EOF {
				err = errors.New("the event stream ended before the response")
			}
			return nil, err
		}
		if read += len(line); read > maxAnswer {
			return nil, errors.New("the answer is too large")
		}
		line = bytes.TrimRight(line, "\r\n")
		if field, ok := bytes.CutPrefix(line, []byte("data:")); ok {
			if len(data) > 0 {
				data = append(data, '\n')
			}
			data = append(data, bytes.TrimPrefix(field, []byte(" "))...)
			continue
		}
		if len(line) > 0 || len(data) == 0 {
			continue // another field (event, id, retry), a comment, or no data yet
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			return nil, fmt.Errorf("decoding an event: %w", err)
		}
		switch {
		case m.Method == "":
			return &m, nil
		case m.ID.IsNil():
			var n mcp.JSONRPCNotification
			if json.Unmarshal(data, &n) == nil && p.notify != nil {
				p.notify(n)
			}
		default:
			p.reply(ctx, session, protocol, &m)
		}
		data = data[:0]
	}
}

// reply answers a request the server made during a call: AgentVault offers
// agents' upstreams no sampling, elicitation or roots.
func (p *poster) reply(ctx context.Context, session, protocol string, req *message) {
	out := map[string]any{"jsonrpc": "2.0", "id": req.ID}
	if req.Method == string(mcp.MethodPing) {
		out["result"] = struct{}{}
	} else {
		out["error"] = map[string]any{"code": mcp.METHOD_NOT_FOUND, "message": "AgentVault does not support " + strconv.Quote(req.Method)}
	}
	body, _ := json.Marshal(out)
	resp, pc, done, err := p.post(ctx, session, protocol, body)
	if err != nil {
		return
	}
	if done() {
		p.keep(pc, resp.Body, resp.Close)
	}
}

// conn returns a recently idle connection, or a new one. Connections idle
// longer than maxIdleTime are closed: servers close theirs after a few
// seconds (Node.js and uvicorn: 5 s), and a POST sent on a connection the
// server is closing could not be told apart from one the server took.
func (p *poster) conn(ctx context.Context) (*postConn, error) {
	if err := ctx.Err(); err != nil {
		// Cancelling closes the connection from another goroutine, maybe
		// only after the request was written: send nothing instead.
		return nil, err
	}
	p.mu.Lock()
	for n := len(p.idle); n > 0; n = len(p.idle) {
		pc := p.idle[n-1]
		p.idle = p.idle[:n-1]
		if time.Since(pc.idleSince) < maxIdleTime {
			p.mu.Unlock()
			return pc, nil
		}
		pc.Close()
	}
	p.mu.Unlock()
	c, err := p.dial(ctx)
	if err != nil {
		return nil, err
	}
	return &postConn{Conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}, nil
}

// close closes the idle connections, and those of calls still under way as
// they end.
func (p *poster) close() {
	p.mu.Lock()
	idle := p.idle
	p.idle, p.closed = nil, true
	p.mu.Unlock()
	for _, pc := range idle {
		pc.Close()
	}
}
