package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/approval"
	"github.com/agentvault/agentvault/internal/private"
	"github.com/agentvault/agentvault/internal/secrets/secretstest"
)

// The test binary doubles as a client of another user: with
// CONTROL_TEST_DIAL set it posts one request to that socket and prints the
// status, or the error.
func TestMain(m *testing.M) {
	if path := os.Getenv("CONTROL_TEST_DIAL"); path != "" {
		c := &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", path)
		}}, Timeout: 5 * time.Second}
		resp, err := c.Post("http://agentvault/v1/status", "application/json", strings.NewReader("{}"))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(0)
		}
		fmt.Println("status:", resp.StatusCode)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// nobody is the uid tests run another user's process as.
const nobody = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Getuid() != 0 {
		t.Skip("needs root to act as another user (CI runs as root)")
	}
}

func TestSocketOpenToOthersIsRefused(t *testing.T) {
	_, path := serveCore(t)
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(path, &secretstest.Memory{}); !errors.Is(err, private.ErrNotPrivate) || !strings.Contains(err.Error(), "other users can reach") {
		t.Fatalf("Dial of a 0666 socket: %v", err)
	}
}

func TestSocketOfAnotherUserIsRefused(t *testing.T) {
	needRoot(t)
	_, path := serveCore(t)
	if err := os.Chown(path, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	if _, err := Dial(path, &secretstest.Memory{}); !errors.Is(err, private.ErrNotPrivate) || !strings.Contains(err.Error(), "belongs to user 65534") {
		t.Fatalf("Dial of another user's socket: %v", err)
	}
}

// Even a socket others could reach answers no process of another user: the
// server checks its peer (SO_PEERCRED) before reading a byte.
func TestServerRefusesAnotherUsersProcess(t *testing.T) {
	needRoot(t)
	_, _, co := serveCoreWith(t)
	dir, err := os.MkdirTemp("", "control-open-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "open.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, ln, co, func() error { return ErrNoWindow }) }()
	t.Cleanup(func() { cancel(); <-done })

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "dial.test")
	if raw, err := os.ReadFile(self); err != nil || os.WriteFile(exe, raw, 0o755) != nil {
		t.Fatalf("copying the test binary: %v", err)
	}
	run := func(asNobody bool) string {
		cmd := exec.Command(exe, "-test.run", "^$")
		if asNobody {
			cmd = exec.Command("setpriv", "--reuid", fmt.Sprint(nobody), "--regid", fmt.Sprint(nobody), "--clear-groups", exe, "-test.run", "^$")
		}
		cmd.Env = append(os.Environ(), "CONTROL_TEST_DIAL="+path)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(false); got != "status: 200" {
		t.Fatalf("the user's own process: %q", got)
	}
	if got := run(true); !strings.HasPrefix(got, "error:") {
		t.Fatalf("another user's process got an answer: %q", got)
	}
}

// Who answered an approval is what the server knows of its peer; the
// client's word for it is ignored.
func TestServerRecordsWhoAnswered(t *testing.T) {
	c, _, co := serveCoreWith(t)
	verdict := make(chan approval.Verdict, 1)
	go func() {
		verdict <- co.Broker().Approve(context.Background(), approval.Request{VaultID: "v", Vault: "work", Tool: "t", ArgsDigest: "d"})
	}()
	for len(co.Broker().Pending()) == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	p := co.Broker().Pending()[0]
	r, err := c.AnswerApproval(t.Context(), p.Code, approval.Answer{Approve: true, Channel: "queue", Approver: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("uid %d pid %d ", os.Getuid(), os.Getpid())
	if r.Answer.Channel != "cli" || !strings.HasPrefix(r.Answer.Approver, want) {
		t.Fatalf("answer recorded as %+v, want channel cli and approver %q…", r.Answer, want)
	}
	if v := <-verdict; !v.Approved || v.Approver != r.Answer.Approver {
		t.Fatalf("verdict %+v", v)
	}
}
