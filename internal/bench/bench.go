// Package bench measures AgentVault against calling the upstream directly,
// on this machine, in one run: latency and throughput of tools/call, the cost
// of tools/list by tool and vault count, and the memory and start-up time of
// a real `serve` process. `agentvault bench` prints its report.
//
// It must never be on any path of a real call: it builds its own throwaway AgentVault.
package bench

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/bench/upstreams"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/serving"
	"github.com/agentvault/agentvault/internal/store"
)

// Config sizes a run.
type Config struct {
	// Rounds of interleaved direct/vault measurement.
	Rounds int
	// Calls per mode per round.
	Calls int
	// Duration of each throughput measurement, split over the rounds.
	Duration time.Duration
	// Serve starts a `serve` process for the memory and start-up figures:
	// the agentvault binary and its arguments before "serve". Nil skips them.
	Serve []string
}

// Run measures and writes the report to w.
func Run(ctx context.Context, cfg Config, w io.Writer) error {
	fmt.Fprintf(w, "AgentVault benchmark — %d cores, %s, %s/%s, %d rounds × %d calls\n\n",
		runtime.NumCPU(), runtime.Version(), runtime.GOOS, runtime.GOARCH, cfg.Rounds, cfg.Calls)
	env, err := newEnv(ctx, "")
	if err != nil {
		return err
	}
	defer env.close()

	direct, vault := samples{}, samples{}
	for range cfg.Rounds {
		d, err := timeCalls(ctx, env.direct, directTool, cfg.Calls, nil)
		if err != nil {
			return fmt.Errorf("direct: %w", err)
		}
		v, err := timeCalls(ctx, env.vault, vaultTool, cfg.Calls, nil)
		if err != nil {
			return fmt.Errorf("via vault: %w", err)
		}
		direct, vault = append(direct, d...), append(vault, v...)
	}
	// A virtual disk syncs faster back to back than after a pause: measure
	// a record both ways, the second spaced as calls at concurrency 1 are.
	commit, err := env.auditCommit(0)
	if err != nil {
		return err
	}
	spaced, err := env.auditCommit(direct.p(50))
	if err != nil {
		return err
	}
	bolt, err := env.storeCommit()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-46s p50 %s\n", "durable audit record (journal, fdatasync)", us(commit))
	fmt.Fprintf(w, "%-46s p50 %s\n", fmt.Sprintf("  one every %s, as calls at concurrency 1", us(direct.p(50))), us(spaced))
	fmt.Fprintf(w, "%-46s p50 %s\n\n", "  reference: one bbolt commit", us(bolt))

	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "tools/call, concurrency 1", "direct", "via vault", "added")
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "  p50", us(direct.p(50)), us(vault.p(50)), us(vault.p(50)-direct.p(50)))
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "  p99", us(direct.p(99)), us(vault.p(99)), us(vault.p(99)-direct.p(99)))
	dl, vl := newLegs(&env.upstreamStamps), newLegs(&env.vaultStamps, &env.upstreamStamps)
	sd, sv, err := sessionCalls(ctx, cfg, env.directURL, env.vaultURL, env.token, dl, vl)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "  p50, 2025-11-25 sessions", us(sd.p(50)), us(sv.p(50)), us(sv.p(50)-sd.p(50)))
	fmt.Fprintln(w, "  where the time goes, 2025-11-25 sessions (p50 of each part):")
	dl.print(w, "direct", "agent→upstream", "upstream", "upstream→agent")
	vl.print(w, "via vault", "agent→vault", "vault before", "upstream", "vault after", "vault→agent")
	fmt.Fprintln(w, "              (before: reading, deciding, the intent's audit record; after: the outcome's record, the answer)")

	var ratio8 float64
	for _, conc := range []int{1, 8} {
		r, err := env.throughputs(ctx, conc, cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%-34s %10.0f %10.0f %9.2fx%s\n", fmt.Sprintf("calls/s, %d session(s)", conc), r.direct, r.vault, r.vault/r.direct, r.cpuColumn())
		ratio8 = r.vault / r.direct
	}
	if err := memoryJournal(ctx, cfg, w); err != nil {
		return err
	}
	fmt.Fprintln(w)

	fmt.Fprintf(w, "%-34s %10s %10s\n", "tools/list via vault, p50", "server", "mcp-go")
	one, fifty, err := vaultCounts(ctx, cfg)
	if err != nil {
		return err
	}
	for _, n := range []int{10, 100, 1000} {
		d := one
		if n != 100 {
			if d, err = env.listLatency(ctx, n, 1, cfg.Calls); err != nil {
				return err
			}
		}
		fmt.Fprintf(w, "%-34s %10s %10s\n", fmt.Sprintf("  %d tools", n), us(d.server), us(d.client))
	}
	fmt.Fprintf(w, "%-34s %10s %10s\n", "  100 tools, 50 vaults", us(fifty.server), us(fifty.client))
	fmt.Fprintln(w, "  (server: a JSON-RPC request on a bare keep-alive connection, answer read whole; mcp-go: its client,")
	fmt.Fprintln(w, "   which also decodes every tool, timed apart so that its garbage is not collected in the server's")
	fmt.Fprintln(w, "   timings; 100 tools with 1 and with 50 vaults are measured interleaved, call by call)")
	fmt.Fprintln(w)

	if cfg.Serve != nil {
		if err := serveFigures(ctx, cfg, env.upstreamURL, w); err != nil {
			return err
		}
	}
	fmt.Fprintf(w, "summary: call p50 +%s (audit record %s spaced as calls, %s back to back), throughput via/direct at 8 sessions %.2fx, tools/list(100) %s (mcp-go client %s), 50 vs 1 vault %+.0f%%\n",
		us(vault.p(50)-direct.p(50)), us(spaced), us(commit), ratio8, us(one.server), us(one.client), 100*(float64(fifty.server)/float64(one.server)-1))
	return nil
}

type samples []time.Duration

func (s samples) p(q int) time.Duration {
	if len(s) == 0 {
		return 0
	}
	c := slices.Clone(s)
	slices.Sort(c)
	return c[min(len(c)-1, len(c)*q/100)]
}

func us(d time.Duration) string { return fmt.Sprintf("%.0fµs", float64(d)/float64(time.Microsecond)) }

// env is an echo upstream with a vault in front of it, both in process.
type env struct {
	dir                 string
	co                  *core.Core
	serving             *serving.Server
	upstream, vaultHTTP *httptest.Server
	upstreamURL         string
	directURL, vaultURL string
	token               string
	direct, vault       *client.Client
	// When the upstream's and the vault's handlers last began and ended.
	upstreamStamps, vaultStamps stamps
}

// newEnv builds an env whose vault keeps its data in a new folder under
// root ("": the system's temporary folder).
func newEnv(ctx context.Context, root string) (*env, error) {
	dir, err := os.MkdirTemp(root, "agentvault-bench-")
	if err != nil {
		return nil, err
	}
	e := &env{dir: dir}
	e.upstream = httptest.NewServer(e.upstreamStamps.wrap(server.NewStreamableHTTPServer(upstreams.Echo())))
	e.upstreamURL = e.upstream.URL + "/mcp"
	e.co, err = openCore(dir)
	if err != nil {
		e.close()
		return nil, err
	}
	if _, err := e.co.AddService(context.Background(), api.ServiceSpec{Name: "echo", URL: e.upstreamURL}); err != nil {
		e.close()
		return nil, err
	}
	nv, err := e.co.CreateVault(context.Background(), api.VaultSpec{Name: "bench", Services: []string{"echo"}})
	if err != nil {
		e.close()
		return nil, err
	}
	srv, err := serving.New(ctx, e.co)
	if err != nil {
		e.close()
		return nil, err
	}
	e.serving = srv
	e.vaultHTTP = httptest.NewServer(e.vaultStamps.wrap(srv.Handler()))
	e.directURL, e.vaultURL, e.token = e.upstreamURL, e.vaultHTTP.URL+"/v/"+nv.ID+"/mcp", nv.Token
	if e.direct, err = dial(ctx, e.directURL, ""); err != nil {
		e.close()
		return nil, err
	}
	if e.vault, err = dial(ctx, e.vaultURL, e.token); err != nil {
		e.close()
		return nil, err
	}
	return e, nil
}

// dial connects a real MCP client; token "" sends no Authorization.
// quiet discards the MCP client library's connection chatter.
var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func dial(ctx context.Context, url, token string) (*client.Client, error) {
	return dialVersion(ctx, url, token, mcp.LATEST_PROTOCOL_VERSION)
}

// dialVersion connects a real MCP client speaking protocol version proto.
func dialVersion(ctx context.Context, url, token, proto string) (*client.Client, error) {
	var opts []transport.StreamableHTTPCOption
	if token != "" {
		opts = append(opts, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + token}))
	}
	opts = append(opts, transport.WithHTTPBasicClient(&http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}),
		transport.WithHTTPLogger(quiet))
	tr, err := transport.NewStreamableHTTP(url, opts...)
	if err != nil {
		return nil, err
	}
	c := client.NewClient(tr, client.WithProtocolVersion(proto))
	if err := c.Start(ctx); err != nil {
		return nil, err
	}
	init := mcp.InitializeRequest{}
	init.Params.ProtocolVersion = proto
	init.Params.ClientInfo = mcp.Implementation{Name: "agentvault-bench", Version: "1"}
	if _, err := c.Initialize(ctx, init); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func call(ctx context.Context, c *client.Client, tool string) error {
	req := mcp.CallToolRequest{}
	req.Params.Name, req.Params.Arguments = tool, map[string]any{"message": "ping"}
	res, err := c.CallTool(ctx, req)
	if err == nil && res.IsError {
		err = fmt.Errorf("%s returned an error", tool)
	}
	return err
}

// timeCalls times n calls one after another; l, if not nil, splits each.
func timeCalls(ctx context.Context, c *client.Client, tool string, n int, l *legs) (samples, error) {
	out := make(samples, 0, n)
	for range n {
		start := time.Now()
		if err := call(ctx, c, tool); err != nil {
			return nil, err
		}
		end := time.Now()
		out = append(out, end.Sub(start))
		if l != nil {
			l.add(start, end)
		}
	}
	return out, nil
}

// The echo tool, as the upstream names it and as a vault exposes it.
const (
	directTool = "echo"
	vaultTool  = "echo_echo"
)

// sessionCalls times calls directly and through the vault at vaultURL,
// interleaved round by round, with clients speaking the session-based
// 2025-11-25 protocol (what most agents speak today; the main figures use
// the newest, stateless one). dl and vl, if not nil, split the calls.
func sessionCalls(ctx context.Context, cfg Config, directURL, vaultURL, token string, dl, vl *legs) (direct, via samples, err error) {
	d, err := dialVersion(ctx, directURL, "", mcp.ProtocolVersion20251125)
	if err != nil {
		return nil, nil, err
	}
	defer d.Close()
	v, err := dialVersion(ctx, vaultURL, token, mcp.ProtocolVersion20251125)
	if err != nil {
		return nil, nil, err
	}
	defer v.Close()
	for range cfg.Rounds {
		ds, err := timeCalls(ctx, d, directTool, cfg.Calls, dl)
		if err != nil {
			return nil, nil, err
		}
		vs, err := timeCalls(ctx, v, vaultTool, cfg.Calls, vl)
		if err != nil {
			return nil, nil, err
		}
		direct, via = append(direct, ds...), append(via, vs...)
	}
	return direct, via, nil
}

// rates are calls per second directly and via the vault, with the share of
// the machine's CPU time that was busy meanwhile (-1: unknown).
type rates struct {
	direct, vault       float64
	directCPU, vaultCPU float64
}

// throughputs measures calls per second of conc sessions calling as fast
// as they can, directly and through the vault, alternating in cfg.Rounds
// slices of cfg.Duration each.
func (e *env) throughputs(ctx context.Context, conc int, cfg Config) (r rates, err error) {
	dialAll := func(url, token string) ([]*client.Client, error) {
		cs := make([]*client.Client, conc)
		for i := range cs {
			if cs[i], err = dial(ctx, url, token); err != nil {
				return cs[:i], err
			}
		}
		return cs, nil
	}
	closeAll := func(cs []*client.Client) {
		for _, c := range cs {
			c.Close()
		}
	}
	dc, err := dialAll(e.directURL, "")
	defer closeAll(dc)
	if err != nil {
		return r, err
	}
	vc, err := dialAll(e.vaultURL, e.token)
	defer closeAll(vc)
	if err != nil {
		return r, err
	}
	slice := cfg.Duration / time.Duration(max(cfg.Rounds, 1))
	var nd, nv int
	var cpuD, cpuV cpuShare
	for range max(cfg.Rounds, 1) {
		n, err := cpuD.during(func() (int, error) { return callFor(ctx, dc, directTool, slice) })
		if err != nil {
			return r, fmt.Errorf("direct: %w", err)
		}
		m, err := cpuV.during(func() (int, error) { return callFor(ctx, vc, vaultTool, slice) })
		if err != nil {
			return r, fmt.Errorf("via vault: %w", err)
		}
		nd, nv = nd+n, nv+m
	}
	total := (slice * time.Duration(max(cfg.Rounds, 1))).Seconds()
	return rates{float64(nd) / total, float64(nv) / total, cpuD.busy(), cpuV.busy()}, nil
}

// callFor has each client call tool as fast as it can for d, and counts
// the calls.
func callFor(ctx context.Context, clients []*client.Client, tool string, d time.Duration) (int, error) {
	var mu sync.Mutex
	var total int
	var firstErr error
	deadline := time.Now().Add(d)
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			n := 0
			for time.Now().Before(deadline) {
				if err := call(ctx, c, tool); err != nil {
					mu.Lock()
					firstErr = err
					mu.Unlock()
					return
				}
				n++
			}
			mu.Lock()
			total += n
			mu.Unlock()
		})
	}
	wg.Wait()
	return total, firstErr
}

// storeCommit is the p50 of one record in its own bbolt transaction: what
// an audit record cost before the journal, on this disk.
func (e *env) storeCommit() (time.Duration, error) {
	dir, err := os.MkdirTemp(e.dir, "store-")
	if err != nil {
		return 0, err
	}
	st, err := store.Open(dir, time.Second)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var s samples
	for i := range 200 {
		start := time.Now()
		if err := st.PutAudit(uint64(i+1), [][]byte{[]byte(`{"phase":"intent","tool":"bench"}`)}); err != nil {
			return 0, err
		}
		s = append(s, time.Since(start))
	}
	return s.p(50), nil
}

// auditCommit is the p50 of one durable audit write on this disk, with a
// pause of gap before each.
func (e *env) auditCommit(gap time.Duration) (time.Duration, error) {
	var s samples
	for range 200 {
		if gap > 0 {
			time.Sleep(gap)
		}
		start := time.Now()
		if _, err := e.co.Audit().Record(audit.Record{Phase: audit.Intent, Tool: "bench"}); err != nil {
			return 0, err
		}
		s = append(s, time.Since(start))
	}
	return s.p(50), nil
}

func (e *env) close() {
	for _, c := range []*client.Client{e.direct, e.vault} {
		if c != nil {
			c.Close()
		}
	}
	if e.vaultHTTP != nil {
		e.vaultHTTP.Close()
	}
	if e.serving != nil {
		e.serving.Close()
	}
	if e.co != nil {
		e.co.Close()
	}
	if e.upstream != nil {
		e.upstream.Close()
	}
	os.RemoveAll(e.dir)
}
