package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/bench/upstreams"
	"github.com/agentvault/agentvault/internal/serving"
)

// listLatency measures tools/list through the first of `vaults` vaults
// offering an upstream with n tools.
func (e *env) listLatency(ctx context.Context, n, vaults, calls int) (listFigures, error) {
	s, err := newListSetup(ctx, n, vaults)
	if err != nil {
		return listFigures{}, err
	}
	defer s.close()
	var f listSamples
	if err := s.measure(ctx, calls, &f); err != nil {
		return listFigures{}, err
	}
	return f.figures(), nil
}

// vaultCounts measures tools/list (100 tools) with 1 vault and with 50,
// interleaved call by call, so that neither the machine's drift nor the
// garbage collector's cycles read as a difference between them.
func vaultCounts(ctx context.Context, cfg Config) (one, fifty listFigures, err error) {
	a, err := newListSetup(ctx, 100, 1)
	if err != nil {
		return one, fifty, err
	}
	defer a.close()
	b, err := newListSetup(ctx, 100, 50)
	if err != nil {
		return one, fifty, err
	}
	defer b.close()
	var fa, fb listSamples
	for range cfg.Rounds * cfg.Calls {
		if err := a.measureServer(1, &fa.server); err != nil {
			return one, fifty, err
		}
		if err := b.measureServer(1, &fb.server); err != nil {
			return one, fifty, err
		}
	}
	for range cfg.Rounds * cfg.Calls {
		if err := a.measureClient(ctx, 1, &fa.client); err != nil {
			return one, fifty, err
		}
		if err := b.measureClient(ctx, 1, &fb.client); err != nil {
			return one, fifty, err
		}
	}
	return fa.figures(), fb.figures(), nil
}

// listSetup is a vault server whose first of several vaults offers an
// upstream with n tools, and a client on a session with it.
type listSetup struct {
	n          int
	url, token string
	client     *client.Client
	closers    []func()
	raw        *bareConn
	// Whether the first requests, which are not timed, were made.
	serverWarm, clientWarm bool
}

func newListSetup(ctx context.Context, n, vaults int) (s *listSetup, err error) {
	s = &listSetup{n: n}
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	up := httptest.NewServer(server.NewStreamableHTTPServer(upstreams.Wide(n)))
	s.closers = append(s.closers, up.Close)
	dir, err := os.MkdirTemp("", "agentvault-bench-list-")
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { os.RemoveAll(dir) })
	co, err := openCore(dir)
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { co.Close() })
	if _, err := co.AddService(context.Background(), api.ServiceSpec{Name: "wide", URL: up.URL + "/mcp"}); err != nil {
		return s, err
	}
	srv, err := serving.New(context.Background(), co)
	if err != nil {
		return s, err
	}
	s.closers = append(s.closers, srv.Close)
	hs := httptest.NewServer(srv.Handler())
	s.closers = append(s.closers, hs.Close)
	for i := range vaults {
		nv, err := co.CreateVault(context.Background(), api.VaultSpec{Name: fmt.Sprintf("v%d", i), Services: []string{"wide"}})
		if err != nil {
			return s, err
		}
		if i == 0 {
			s.url, s.token = hs.URL+"/v/"+nv.ID+"/mcp", nv.Token
		}
	}
	if s.client, err = dialVersion(ctx, s.url, s.token, mcp.ProtocolVersion20251125); err != nil {
		return s, err
	}
	if s.raw, err = dialBare(s.url); err != nil {
		return s, err
	}
	s.closers = append(s.closers, func() { s.raw.c.Close() })
	s.closers = append(s.closers, func() { s.client.Close() })
	return s, nil
}

// close stops everything the setup started, newest first.
func (s *listSetup) close() {
	for i := len(s.closers) - 1; i >= 0; i-- {
		s.closers[i]()
	}
}

// listSamples collects tools/list latencies.
type listSamples struct{ client, server samples }

func (f *listSamples) figures() listFigures {
	return listFigures{server: f.server.p(50), client: f.client.p(50)}
}

// measure lists tools calls times both ways into f; the first lists of a
// setup, which load the upstream's tools, are not counted.
func (s *listSetup) measure(ctx context.Context, calls int, f *listSamples) error {
	if err := s.measureServer(calls, &f.server); err != nil {
		return err
	}
	return s.measureClient(ctx, calls, &f.client)
}

// measureServer times calls tools/list requests on the bare connection. The
// mcp-go client's lists are timed apart: the garbage its decoding leaves
// (this process's, not the vault's) would be collected inside these.
func (s *listSetup) measureServer(calls int, out *samples) error {
	warmUp := 0
	if !s.serverWarm {
		warmUp, s.serverWarm = 10, true
	}
	for i := range calls + warmUp {
		start := time.Now()
		if err := rawList(s.raw, s.url, s.token, s.client.GetSessionId()); err != nil {
			return err
		}
		end := time.Now()
		if n := bytes.Count(s.raw.body.Bytes(), []byte(`"inputSchema"`)); n != s.n {
			return fmt.Errorf("raw tools/list: %d tools, want %d", n, s.n)
		}
		if i >= warmUp {
			*out = append(*out, end.Sub(start))
		}
	}
	return nil
}

// measureClient times calls tools/list requests through mcp-go's client.
func (s *listSetup) measureClient(ctx context.Context, calls int, out *samples) error {
	warmUp := 0
	if !s.clientWarm {
		warmUp, s.clientWarm = 10, true
	}
	for i := range calls + warmUp {
		start := time.Now()
		res, err := s.client.ListTools(ctx, mcp.ListToolsRequest{})
		if err != nil {
			return err
		}
		if len(res.Tools) != s.n {
			return fmt.Errorf("listed %d tools, want %d", len(res.Tools), s.n)
		}
		if i >= warmUp {
			*out = append(*out, time.Since(start))
		}
	}
	return nil
}

// listFigures are tools/list latencies: as a bare JSON-RPC request whose
// answer is read whole (what AgentVault costs), and through mcp-go's client,
// which also decodes every tool into Go values.
type listFigures struct{ server, client time.Duration }

// bareConn is a keep-alive HTTP/1.1 connection used one request at a time
// on the calling goroutine: a client that adds as little as it can to what
// the server costs.
type bareConn struct {
	c    net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	body bytes.Buffer // the last answer's body, its memory reused
}

func dialBare(rawURL string) (*bareConn, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		return nil, err
	}
	return &bareConn{c: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}, nil
}

// rawList sends one tools/list on a session and reads the whole answer
// into bc.body.
func rawList(bc *bareConn, rawURL, token, session string) error {
	req, err := http.NewRequest(http.MethodPost, rawURL, strings.NewReader(`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json, text/event-stream")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Mcp-Session-Id", session)
	req.Header.Set("MCP-Protocol-Version", mcp.ProtocolVersion20251125)
	if err := req.Write(bc.w); err != nil {
		return err
	}
	if err := bc.w.Flush(); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bc.r, req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	bc.body.Reset()
	if _, err := bc.body.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("raw tools/list: status %d: %s", resp.StatusCode, bc.body.Bytes())
	}
	return nil
}
