//go:build linux

package reliability

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"golang.org/x/sys/unix"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/store"
)

// child is a real `agentvault serve` process.
type child struct {
	cmd     *exec.Cmd
	addr    string
	output  *bytes.Buffer // stdout and stderr, for the secrets check
	exited  chan struct{}
	scanned chan struct{} // closed when all output is in output
}

// allOutput waits for the process to end and returns everything it printed.
func (c *child) allOutput() []byte {
	<-c.scanned
	return c.output.Bytes()
}

// kill ends the process with SIGKILL and waits for it.
func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

var servingLine = regexp.MustCompile(`serving on http://([0-9.:]+)`)

func cli(t *testing.T, env []string, args ...string) string {
	t.Helper()
	return cliInput(t, env, "", args...)
}

// cliInput runs the CLI with input on its standard input (secrets).
func cliInput(t *testing.T, env []string, input string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), append([]string{noKeychain}, env...)...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("agentvault %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return string(out)
}

func serve(t *testing.T, data string, env []string) *child {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), append([]string{noKeychain}, env...)...)
	return startChild(t, cmd)
}

// startChild starts a serve command and waits until it serves.
func startChild(t *testing.T, cmd *exec.Cmd) *child {
	t.Helper()
	out := &bytes.Buffer{}
	pr, pw := io.Pipe()
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	found := make(chan string, 1)
	scanned := make(chan struct{})
	go func() {
		defer close(scanned)
		s := bufio.NewScanner(pr)
		for s.Scan() {
			out.WriteString(s.Text() + "\n")
			if m := servingLine.FindStringSubmatch(s.Text()); m != nil {
				found <- m[1]
			}
		}
	}()
	go func() { cmd.Wait(); pw.Close(); close(exited) }()
	select {
	case addr := <-found:
		return &child{cmd: cmd, addr: addr, output: out, exited: exited, scanned: scanned}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not start: %s", out.String())
		return nil
	}
}

// setUp configures service "echo" (the world's upstream) and one vault in data.
func setUp(t *testing.T, w *world, data string, env []string, headers ...string) api.NewVault {
	t.Helper()
	args := []string{"service", "add-mcp", "echo", "--url", w.upstream, "--data", data}
	for _, h := range headers {
		args = append(args, "--header", h)
	}
	cli(t, env, args...)
	var v api.NewVault
	json.Unmarshal([]byte(cli(t, env, "vault", "create", "v", "--service", "echo", "--json", "--data", data)), &v)
	return v
}

// TestCrashConsistency kills serve with SIGKILL at a random instant while
// eight sessions call through it, again and again on the same data.
func TestCrashConsistency(t *testing.T) {
	trials := 10
	if long {
		trials = 50
	}
	w := newWorld(t)
	data := filepath.Join(t.TempDir(), "data")
	v := setUp(t, w, data, nil)
	var seen, lost, unrecorded int
	for trial := range trials {
		c := serve(t, data, nil)
		url := "http://" + c.addr + "/v/" + v.ID + "/mcp"
		var mu sync.Mutex
		var acked []string
		var n atomic.Int64
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for s := range 8 {
			cl := connect(t, url, v.Token)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					msg := fmt.Sprintf("t%d-s%d-%d", trial, s, n.Add(1))
					req := mcp.CallToolRequest{}
					req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": msg}
					if res, err := cl.CallTool(ctx, req); err == nil && !res.IsError {
						mu.Lock()
						acked = append(acked, msg)
						mu.Unlock()
					}
				}
			}()
		}
		time.Sleep(time.Duration(50+rand.IntN(350)) * time.Millisecond)
		c.kill()
		cancel()
		wg.Wait()

		st, err := store.Open(data, time.Second)
		if err != nil {
			t.Fatalf("trial %d: the store does not open after SIGKILL: %v", trial, err)
		}
		key, _ := st.AuditKey()
		journal, err := audit.OpenJournal(filepath.Join(data, audit.JournalFile), st, audit.DefaultJournalSize)
		if err != nil {
			t.Fatalf("audit journal after SIGKILL: %v", err)
		}
		log := audit.New(audit.Config{Backend: journal, Key: key})
		recs, err := log.List(audit.Filter{Phases: true})
		if err != nil {
			t.Fatalf("trial %d: reading the audit log: %v", trial, err)
		}
		executed, intents := map[string]bool{}, map[string]bool{}
		for _, r := range recs {
			if r.Phase == audit.Outcome && r.Outcome == audit.Executed {
				executed[r.ArgsDigest] = true
			}
			if r.Phase == audit.Intent {
				intents[r.ArgsDigest] = true
			}
		}
		for _, m := range acked {
			if !executed[log.Digest(map[string]any{"message": m})] {
				lost++
			}
		}
		for _, r := range w.rec.Requests() {
			var args map[string]any
			json.Unmarshal(r.Args, &args)
			if !intents[log.Digest(args)] {
				unrecorded++
			}
		}
		seen += len(acked)
		log.Close()
		journal.Close()
		st.Close()
	}
	if lost != 0 || unrecorded != 0 {
		t.Errorf("%d acknowledged calls without an outcome record, %d upstream calls without an intent record", lost, unrecorded)
	}
	figure("crash", "%d SIGKILL trials, store opened clean %d/%d, %d acknowledged calls, %d without outcome record, %d upstream calls without intent",
		trials, trials, trials, seen, lost, unrecorded)
}

// TestFullDiskFailsClosed fills the "disk" under a running serve (a file-size
// limit on the process), checks every call is refused before the upstream,
// then frees it and checks serve recovers without a restart.
func TestFullDiskFailsClosed(t *testing.T) {
	w := newWorld(t)
	data := filepath.Join(t.TempDir(), "data")
	v := setUp(t, w, data, nil)
	c := serve(t, data, nil)
	cl := connect(t, "http://"+c.addr+"/v/"+v.ID+"/mcp", v.Token)
	call := func(msg string) error {
		req := mcp.CallToolRequest{}
		req.Params.Name, req.Params.Arguments = "echo_echo", map[string]any{"message": msg}
		res, err := cl.CallTool(context.Background(), req)
		if err == nil && res.IsError {
			err = fmt.Errorf("%v", res.Content)
		}
		return err
	}
	if err := call("before"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	pid := c.cmd.Process.Pid
	var old unix.Rlimit
	full := unix.Rlimit{Cur: uint64(fi.Size()), Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &full, &old); err != nil {
		t.Fatalf("limiting the file size of serve: %v", err)
	}
	refused, ranAnyway := 0, 0
	for i := 0; i < 20000 && refused < 20; i++ {
		before := len(w.rec.Requests())
		err := call(fmt.Sprintf("full-%d", i))
		if err == nil {
			continue
		}
		if !strings.Contains(err.Error(), "audit log") {
			t.Fatalf("a failing audit log gave an unclear error: %v", err)
		}
		if strings.Contains(err.Error(), "the call ran") {
			ranAnyway++ // intent was durable; the outcome could not be written
			continue
		}
		refused++
		if len(w.rec.Requests()) != before {
			t.Fatal("a call refused for the audit log reached the upstream")
		}
	}
	if refused == 0 {
		t.Fatal("the database never hit the size limit")
	}
	free := unix.Rlimit{Cur: unix.RLIM_INFINITY, Max: unix.RLIM_INFINITY}
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, &free, nil); err != nil {
		t.Fatal(err)
	}
	if err := call("after"); err != nil {
		t.Fatalf("no recovery once the disk had room again: %v", err)
	}
	figure("full disk", "%d calls refused with an MCP error while the disk was full, 0 of them reached the upstream, %d ran before their outcome failed (reported to the agent), recovered without restart", refused, ranAnyway)
}

// TestReadOnlyDatabaseRefusesToServe makes the database file immutable
// (chattr +i: a read-only file even for root): serve must refuse to start,
// saying which file, rather than serve without an audit log.
func TestReadOnlyDatabaseRefusesToServe(t *testing.T) {
	w := newWorld(t)
	data := filepath.Join(t.TempDir(), "data")
	setUp(t, w, data, nil)
	db := filepath.Join(data, store.FileName)
	if out, err := exec.Command("chattr", "+i", db).CombinedOutput(); err != nil {
		t.Fatalf("chattr +i (needs root and ext4-like file system): %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("chattr", "-i", db).Run() })
	cmd := exec.Command(bin, "serve", "--data", data, "--listen", "127.0.0.1:0")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatal("serve started on a read-only database")
	}
	if !strings.Contains(string(out), db) || !strings.Contains(string(out), "not permitted") {
		t.Fatalf("serve on a read-only database said %q", out)
	}
	figure("read-only", "serve refuses to start on an immutable database file and names it")
}
