package bench

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/client"
	"github.com/mark3labs/mcp-go/client/transport"
	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets"
)

var servingLine = regexp.MustCompile(`serving on http://([0-9.:]+)`)

// idleSessions is how many sessions the per-session memory figure opens.
const idleSessions = 200

// serveFigures starts a real `serve` on a prepared data folder and reports
// its start-up time, idle memory, memory per idle session, and what a call
// through it adds when it runs as its own process, as it does for users.
func serveFigures(ctx context.Context, cfg Config, upstreamURL string, w io.Writer) error {
	bin := cfg.Serve
	dir, err := os.MkdirTemp("", "agentvault-bench-serve-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	co, err := openCore(dir)
	if err != nil {
		return err
	}
	_, err = co.AddService(context.Background(), api.ServiceSpec{Name: "echo", URL: upstreamURL})
	var nv api.NewVault
	if err == nil {
		nv, err = co.CreateVault(context.Background(), api.VaultSpec{Name: "bench", Services: []string{"echo"}})
	}
	co.Close()
	if err != nil {
		return err
	}

	args := append(append([]string(nil), bin[1:]...), "serve", "--data", dir, "--listen", "127.0.0.1:0")
	cmd := exec.CommandContext(ctx, bin[0], args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	addr := make(chan string, 1)
	go func() {
		s := bufio.NewScanner(out)
		for s.Scan() {
			if m := servingLine.FindStringSubmatch(s.Text()); m != nil {
				addr <- m[1]
			}
		}
	}()
	var url string
	select {
	case a := <-addr:
		url = "http://" + a + "/v/" + nv.ID + "/mcp"
	case <-time.After(30 * time.Second):
		return fmt.Errorf("serve did not start")
	}
	c, err := dial(ctx, url, nv.Token)
	if err != nil {
		return err
	}
	if _, err := c.ListTools(ctx, mcp.ListToolsRequest{}); err != nil {
		return err
	}
	firstList := time.Since(start)
	c.Close()

	time.Sleep(time.Second)
	idle, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	var sessions []*client.Client
	closeSessions := func() {
		for _, s := range sessions {
			s.Close()
		}
		sessions = nil
	}
	defer closeSessions()
	for range idleSessions {
		tr, err := transport.NewStreamableHTTP(url, transport.WithHTTPHeaders(map[string]string{"Authorization": "Bearer " + nv.Token}), transport.WithHTTPLogger(quiet))
		if err != nil {
			return err
		}
		s := client.NewClient(tr, client.WithProtocolVersion(mcp.ProtocolVersion20251125))
		if err := s.Start(ctx); err != nil {
			return err
		}
		init := mcp.InitializeRequest{}
		init.Params.ProtocolVersion = mcp.ProtocolVersion20251125
		init.Params.ClientInfo = mcp.Implementation{Name: "idle", Version: "1"}
		if _, err := s.Initialize(ctx, init); err != nil {
			return err
		}
		sessions = append(sessions, s)
	}
	time.Sleep(time.Second)
	busy, err := rss(cmd.Process.Pid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-34s %10s\n", "serve start → first tools/list", ms(firstList))
	fmt.Fprintf(w, "%-34s %9.1fMB\n", "serve idle RSS", float64(idle)/(1<<20))
	fmt.Fprintf(w, "%-34s %9.1fKB\n", fmt.Sprintf("per idle session (%d sessions)", idleSessions), float64(busy-idle)/idleSessions/1024)
	closeSessions()

	direct, via, err := sessionCalls(ctx, cfg, upstreamURL, url, nv.Token, nil, nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n", "call p50, serve as its own process", "direct", "via serve", "added")
	fmt.Fprintf(w, "%-34s %10s %10s %10s\n\n", "  2025-11-25 sessions", us(direct.p(50)), us(via.p(50)), us(via.p(50)-direct.p(50)))
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

// rss reads a process's resident set size (Linux).
func rss(pid int) (int64, error) {
	if runtime.GOOS != "linux" {
		return 0, fmt.Errorf("memory figures need Linux's /proc")
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}

// openCore opens a throwaway core in dir: its secrets go to a file there,
// under a passphrase nobody keeps.
func openCore(dir string) (*core.Core, error) {
	var pass [16]byte
	_, _ = rand.Read(pass[:])
	keys := &secrets.File{Path: filepath.Join(dir, "secrets.enc"), Passphrase: hex.EncodeToString(pass[:])}
	return core.Open(core.Config{DataDir: dir, Secrets: keys, Logger: quiet})
}
