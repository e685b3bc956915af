// Package upstream is the Provider for any MCP server: one started as a
// command speaking stdio, or one reached over streamable HTTP.
//
// The connection is made on first use and kept. A stdio server that dies is
// started again on the next call, with exponential backoff between failed
// starts. Results, progress and cancellation pass through unchanged: the
// upstream's progress notifications reach the caller's ProgressFunc, and a
// cancelled context sends notifications/cancelled upstream.
//
// It must never give a server AgentVault's own environment, nor follow a path for a server that is not on this machine.
package upstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers"
)

// Config says how to reach one upstream server. Exactly one of Command and URL
// is set.
type Config struct {
	// Name identifies the service in logs and errors.
	Name string
	// Command is the program and its arguments, for a stdio server.
	Command []string
	// Env holds the command's own KEY=VALUE entries. The command gets these,
	// the variables named in PassEnv, and a short list of AgentVault's own
	// (PATH, HOME, the locale, proxies…), never anything else of
	// AgentVault's environment.
	Env []string
	// PassEnv names variables of AgentVault's environment the command also
	// gets (never an AGENTVAULT_* one).
	PassEnv []string
	// URL is the streamable HTTP endpoint, for a remote server.
	URL string
	// Headers are sent with every HTTP request (for example Authorization).
	Headers map[string]string
	// OnToolsChanged, if set, is called when the upstream says its tool list
	// changed (or it was restarted). It must not block.
	OnToolsChanged func()
	// Logger receives connection events and the server's stderr; nil: slog.Default.
	Logger *slog.Logger
	// ConnectTimeout bounds starting and initializing the server; 0: 60 s.
	ConnectTimeout time.Duration
	// Client is how AgentVault introduces itself to the server; zero:
	// "agentvault".
	Client mcp.Implementation
	// Contain, if set, turns the command line into one that starts it
	// contained (a sandbox), at each start.
	Contain func(argv []string) ([]string, error)
}

// protocolVersion is what AgentVault asks upstream servers to speak: the
// session-based revision current servers speak, over which a call is one
// plain JSON-RPC request that can be relayed without decoding its result.
const protocolVersion = mcp.ProtocolVersion20251125

// Provider proxies one upstream MCP server.
type Provider struct {
	cfg Config
	log *slog.Logger

	life   context.Context // lives until Close; the stdio process is bound to it
	cancel context.CancelFunc

	mu       sync.Mutex // guards the fields below
	client   *client.Client
	tools    []mcp.Tool
	failures int
	retryAt  time.Time
	lastErr  error // why the last start or call failed, for the status
	closed   bool

	nextID   atomic.Uint64 // numbers AgentVault's requests and progress tokens
	progress sync.Map      // progress token string → providers.ProgressFunc
	post     *poster       // sends the calls to an HTTP server; nil: mcp-go does
}

var (
	_ providers.Provider  = (*Provider)(nil)
	_ providers.RawCaller = (*Provider)(nil)
)

// New checks cfg and returns a provider that connects on first use.
func New(cfg Config) (*Provider, error) {
	if (len(cfg.Command) == 0) == (cfg.URL == "") {
		return nil, errors.New("upstream needs exactly one of a command or a URL")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Client.Name == "" {
		cfg.Client = mcp.Implementation{Name: "agentvault", Version: "1"}
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = time.Minute
	}
	life, cancel := context.WithCancel(context.Background())
	p := &Provider{cfg: cfg, log: cfg.Logger.With("service", cfg.Name), life: life, cancel: cancel}
	if cfg.URL != "" {
		post, err := newPoster(cfg.URL, cfg.Headers, p.onNotification)
		if err != nil {
			cancel()
			return nil, err
		}
		p.post = post
	}
	return p, nil
}

// Tools lists the upstream's tools, connecting if needed. The list is cached
// until the upstream reports a change or restarts.
func (p *Provider) Tools(ctx context.Context) ([]mcp.Tool, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	p.mu.Lock()
	cached := p.tools
	p.mu.Unlock()
	if cached != nil {
		return cached, nil
	}
	res, err := c.ListTools(ctx, mcp.ListToolsRequest{})
	if err != nil {
		p.dropOnTransportError(c, err)
		return nil, fmt.Errorf("listing tools of %s: %w", p.cfg.Name, err)
	}
	tools := res.Tools
	if tools == nil {
		tools = []mcp.Tool{}
	}
	p.mu.Lock()
	if p.client == c {
		p.tools = tools
	}
	p.mu.Unlock()
	return tools, nil
}

// Call runs tool upstream with args, forwarding progress to progress.
func (p *Provider) Call(ctx context.Context, tool string, args any, progress providers.ProgressFunc) (*mcp.CallToolResult, error) {
	raw, err := json.Marshal(args)
	if err != nil {
		return nil, fmt.Errorf("encoding the arguments of %s: %w", tool, err)
	}
	res, err := p.CallRaw(ctx, tool, raw, progress)
	if err != nil {
		return nil, err
	}
	return mcp.ParseCallToolResult(&res)
}

// CallRaw implements providers.RawCaller: the call is one JSON-RPC request
// on the upstream's transport, and its result is returned as the upstream
// sent it. A cancelled ctx ends the request; over stdio, where only a
// message can say so, notifications/cancelled is sent too.
func (p *Provider) CallRaw(ctx context.Context, tool string, args json.RawMessage, progress providers.ProgressFunc) (json.RawMessage, error) {
	c, err := p.conn(ctx)
	if err != nil {
		return nil, err
	}
	n := strconv.FormatUint(p.nextID.Add(1), 10)
	params := callParams{Name: tool}
	if len(args) > 0 && string(args) != "null" {
		params.Arguments = args
	}
	if progress != nil {
		token := "av-" + n
		p.progress.Store(token, progress)
		defer p.progress.Delete(token)
		params.Meta = map[string]any{"progressToken": token}
	}
	if mcp.IsModernProtocol(c.ProtocolVersion()) {
		return p.callStateless(ctx, c, tool, params)
	}
	id := mcp.NewRequestId("av-" + n)
	request := transport.JSONRPCRequest{JSONRPC: mcp.JSONRPC_VERSION, ID: id, Method: string(mcp.MethodToolsCall), Params: params}
	var result json.RawMessage
	var rpcErr *mcp.JSONRPCErrorDetails
	t := c.GetTransport()
	if p.post != nil {
		body, err := json.Marshal(request)
		if err != nil {
			return nil, err
		}
		result, rpcErr, err = p.post.call(ctx, c.GetSessionId(), c.ProtocolVersion(), id, body)
		if err != nil {
			return nil, p.callFailed(ctx, c, tool, err)
		}
	} else {
		resp, err := t.SendRequest(ctx, request)
		if err != nil {
			if ctx.Err() != nil {
				cancelUpstream(ctx, t, id)
			}
			return nil, p.callFailed(ctx, c, tool, err)
		}
		result, rpcErr = resp.Result, resp.Error
	}
	if rpcErr != nil {
		return nil, fmt.Errorf("calling %s on %s: %w", tool, p.cfg.Name, rpcErr.AsError())
	}
	return result, nil
}

// callFailed reports a call that got no answer, and forgets the connection
// when it is gone, so that the next call starts it again.
func (p *Provider) callFailed(ctx context.Context, c *client.Client, tool string, err error) error {
	if ctx.Err() != nil {
		err = ctx.Err()
	}
	err = transport.NewError(err)
	p.dropOnTransportError(c, err)
	return fmt.Errorf("calling %s on %s: %w", tool, p.cfg.Name, err)
}

// callParams are the params of a tools/call request.
type callParams struct {
	Name      string          `json:"name"`
	Arguments json.RawMessage `json:"arguments,omitempty"`
	Meta      map[string]any  `json:"_meta,omitempty"`
}

// callStateless calls through mcp-go's client, which adds the metadata every
// request of the stateless protocol carries, for a server that answered the
// handshake with that protocol instead of the one AgentVault asked for.
func (p *Provider) callStateless(ctx context.Context, c *client.Client, tool string, params callParams) (json.RawMessage, error) {
	req := mcp.CallToolRequest{}
	req.Params.Name = tool
	if params.Arguments != nil {
		if err := json.Unmarshal(params.Arguments, &req.Params.Arguments); err != nil {
			return nil, fmt.Errorf("decoding the arguments of %s: %w", tool, err)
		}
	}
	if token, ok := params.Meta["progressToken"]; ok {
		req.Params.Meta = &mcp.Meta{ProgressToken: token}
	}
	res, err := c.CallTool(ctx, req)
	if err != nil {
		p.dropOnTransportError(c, err)
		return nil, fmt.Errorf("calling %s on %s: %w", tool, p.cfg.Name, err)
	}
	return json.Marshal(res)
}

// cancelUpstream tells a stdio server that request id was cancelled; over
// HTTP, ending the request already says so. Best effort, off the caller's
// path.
func cancelUpstream(ctx context.Context, t transport.Interface, id mcp.RequestId) {
	if _, http := t.(transport.HTTPConnection); http {
		return
	}
	n := mcp.JSONRPCNotification{JSONRPC: mcp.JSONRPC_VERSION, Notification: mcp.Notification{
		Method: string(mcp.MethodNotificationCancelled),
		Params: mcp.NotificationParams{AdditionalFields: map[string]any{"requestId": id, "reason": ctx.Err().Error()}},
	}}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = t.SendNotification(ctx, n)
	}()
}

// Close stops the upstream connection (and its process) for good.
func (p *Provider) Close() error {
	p.mu.Lock()
	c := p.client
	p.client, p.tools, p.closed = nil, nil, true
	p.mu.Unlock()
	p.cancel()
	if p.post != nil {
		p.post.close()
	}
	if c != nil {
		return c.Close()
	}
	return nil
}

// conn returns the live client, starting the upstream if needed.
func (p *Provider) conn(ctx context.Context) (*client.Client, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return nil, fmt.Errorf("service %s is closed", p.cfg.Name)
	}
	if p.client != nil {
		return p.client, nil
	}
	if wait := time.Until(p.retryAt); wait > 0 {
		return nil, fmt.Errorf("service %s failed to start; retrying in %s", p.cfg.Name, wait.Round(time.Second))
	}
	c, err := p.dial(ctx)
	if err != nil {
		p.failures++
		p.retryAt = time.Now().Add(backoff(p.failures))
		p.lastErr = err
		return nil, fmt.Errorf("starting service %s: %w", p.cfg.Name, err)
	}
	p.failures, p.lastErr = 0, nil
	p.client, p.tools = c, nil
	return c, nil
}

// backoff is the wait after n consecutive failed starts: none after the
// first (a crash is retried at once), then 1 s doubling up to 30 s.
func backoff(n int) time.Duration {
	const ceiling = 30 * time.Second
	switch {
	case n <= 1:
		return 0
	case n > 7: // 1 s << 6 already exceeds the ceiling; larger shifts overflow
		return ceiling
	}
	return min(time.Second<<(n-2), ceiling)
}

func (p *Provider) dial(ctx context.Context) (*client.Client, error) {
	var t transport.Interface
	w := &startWitness{}
	if len(p.cfg.Command) > 0 {
		w.output = &outputTail{log: p.log}
		t = transport.NewStdioWithOptions(p.cfg.Command[0], p.cfg.Env, p.cfg.Command[1:],
			transport.WithCommandFunc(func(ctx context.Context, name string, env, args []string) (*exec.Cmd, error) {
				var err error
				w.process, err = p.command(ctx, append([]string{name}, args...), env)
				if err != nil {
					return nil, err
				}
				w.process.Stderr = w.output
				return w.process, nil
			}),
			transport.WithCommandLogger(p.log))
	} else {
		h, err := transport.NewStreamableHTTP(p.cfg.URL, transport.WithHTTPHeaders(p.cfg.Headers), transport.WithContinuousListening(),
			transport.WithHTTPLogger(p.log),
			transport.WithHTTPBasicClient(&http.Client{Transport: w.roundTripper(pooled())}))
		if err != nil {
			return nil, err
		}
		t = h
	}
	c := client.NewClient(t, client.WithProtocolVersion(protocolVersion))
	if err := c.Start(p.life); err != nil {
		return nil, err
	}
	c.OnNotification(p.onNotification)
	ctx, cancel := context.WithTimeout(ctx, p.cfg.ConnectTimeout)
	defer cancel()
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = protocolVersion
	init.Params.ClientInfo = p.cfg.Client
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close() // waits for the process, so its output is all in
		return nil, w.explain(err)
	}
	p.log.Info("service connected")
	return c, nil
}

// maxIdleConns is how many idle connections to one HTTP server are kept:
// as many as agents commonly call it at once. Go's default of two would open
// and close a connection for most calls of busier agents.
const maxIdleConns = 32

// pooled is a transport for one upstream server that keeps its connections.
func pooled() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = maxIdleConns
	return t
}

// dropOnTransportError forgets c when err says the connection is gone, so the
// next call starts the upstream again.
func (p *Provider) dropOnTransportError(c *client.Client, err error) {
	var te *transport.Error
	if !errors.As(err, &te) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return
	}
	p.mu.Lock()
	if p.client != c {
		p.mu.Unlock()
		return
	}
	p.client, p.tools = nil, nil
	p.failures++
	p.retryAt = time.Now().Add(backoff(p.failures))
	p.lastErr = err
	p.mu.Unlock()
	p.log.Warn("service connection lost", "err", err)
	c.Close()
	if p.cfg.OnToolsChanged != nil {
		p.cfg.OnToolsChanged()
	}
}

func (p *Provider) onNotification(n mcp.JSONRPCNotification) {
	switch n.Method {
	case string(mcp.MethodNotificationToolsListChanged):
		p.mu.Lock()
		p.tools = nil
		p.mu.Unlock()
		if p.cfg.OnToolsChanged != nil {
			p.cfg.OnToolsChanged()
		}
	case string(mcp.MethodNotificationProgress):
		f := n.Params.AdditionalFields
		token, _ := f["progressToken"].(string)
		fn, ok := p.progress.Load(token)
		if !ok {
			return
		}
		progress, _ := f["progress"].(float64)
		total, _ := f["total"].(float64)
		msg, _ := f["message"].(string)
		fn.(providers.ProgressFunc)(progress, total, msg)
	}
}

// command builds the upstream process: contained if so configured, its own
// environment (see Config.Env), and (on Linux) killed when AgentVault dies.
func (p *Provider) command(ctx context.Context, argv []string, env []string) (*exec.Cmd, error) {
	if p.cfg.Contain != nil {
		var err error
		if argv, err = p.cfg.Contain(argv); err != nil {
			return nil, err
		}
	}
	cmd := newCmd(ctx, argv[0], argv[1:]...)
	cmd.Env = environment(os.Environ(), p.cfg.PassEnv, env)
	return cmd, nil
}

// Status says whether the server is connected, how many tools it listed,
// and why it last failed ("" when it did not), in words for people.
func (p *Provider) Status() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case p.client != nil && p.tools != nil:
		return fmt.Sprintf("connected, %d tools", len(p.tools))
	case p.client != nil:
		return "connected"
	case p.lastErr != nil:
		return "not reachable: " + p.lastErr.Error()
	}
	return "starts when an agent first needs it"
}
