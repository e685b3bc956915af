//go:build linux

package reliability

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/providers/providertest"
)

// serveRole runs this test binary as an upstream stdio server:
//
//	envreport  one tool, report, that returns its environment and what it
//	           could read of its parent's (AgentVault's) /proc/PID/environ
//	leaky      providertest.NewLeakyServer, repeating $LEAK_TOKEN
//	echo       providertest.NewEchoServer
func serveRole(role string) {
	var s *server.MCPServer
	switch role {
	case "envreport":
		s = server.NewMCPServer("envreport", "1", server.WithToolCapabilities(true))
		s.AddTool(mcp.NewTool("report", mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
			func(ctx context.Context, _ mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				parent, err := os.ReadFile(fmt.Sprintf("/proc/%d/environ", os.Getppid()))
				report := map[string]any{"env": os.Environ(), "parent_environ": string(parent), "parent_error": fmt.Sprint(err)}
				return mcp.NewToolResultStructured(report, "report"), nil
			})
	case "leaky":
		s = providertest.NewLeakyServer()
	case "echo":
		s = providertest.NewEchoServer(providertest.NewRecorder())
	default:
		os.Exit(2)
	}
	if err := server.ServeStdio(s); err != nil {
		os.Exit(1)
	}
	os.Exit(0)
}

// copyFile copies this test binary to dst, executable by anyone.
func copyFile(dst string) error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	raw, err := os.ReadFile(self)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, raw, 0o755)
}

// nobody is the user AgentVault runs as when the suite runs as root: root
// reads every process's /proc files, so only another user shows what a
// process of the user can read.
const nobody = 65534

// asUser returns the command that runs bin with args as the user the
// boundary tests act as: nobody when the suite runs as root, else the
// suite's own user.
func asUser(args ...string) *exec.Cmd {
	if os.Getuid() != 0 {
		return exec.Command(bin, args...)
	}
	return exec.Command("setpriv", append([]string{"--reuid", fmt.Sprint(nobody), "--regid", fmt.Sprint(nobody), "--clear-groups", bin}, args...)...)
}

// userDir makes a data folder that the user asUser runs as owns.
func userDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "agentvault-user-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Getuid() == 0 {
		os.Chmod(dir, 0o755) // so the user can reach what it owns below
		if err := os.Chown(dir, nobody, nobody); err != nil {
			t.Fatal(err)
		}
	}
	data := filepath.Join(dir, "data")
	return data
}

// TestUpstreamsGetNoAgentVaultSecrets starts a real serve with a passphrase
// and a real stdio upstream that reports its environment and tries to read
// AgentVault's from /proc.
func TestUpstreamsGetNoAgentVaultSecrets(t *testing.T) {
	data := userDir(t)
	const pass = "canary-passphrase-8d2f1"
	env := []string{"AGENTVAULT_PASSPHRASE=" + pass, "AGENTVAULT_DATA=" + data, "HOME=" + filepath.Dir(data), "UNRELATED_CANARY=canary-unrelated-77"}
	run := func(args ...string) string {
		cmd := asUser(args...)
		cmd.Env = append(os.Environ(), append([]string{noKeychain}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("agentvault %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	// "report" runs uncontained, so only PR_SET_DUMPABLE keeps it out of
	// AgentVault's /proc/PID/environ; "boxed" takes the default, contained
	// where bubblewrap works, and must not see the passphrase either way.
	run("service", "add-mcp", "report", "--no-contain", "--command", roleBin, "--env", roleEnv+"=envreport")
	run("service", "add-mcp", "boxed", "--command", roleBin, "--env", roleEnv+"=envreport")
	var v api.NewVault
	json.Unmarshal([]byte(run("vault", "create", "v", "--service", "report", "--service", "boxed", "--json")), &v)
	cmd := asUser("serve", "--listen", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), append([]string{noKeychain}, env...)...)
	c := startChild(t, cmd)
	session := connect(t, "http://"+c.addr+"/v/"+v.ID+"/mcp", v.Token)
	type envReport struct {
		Env           []string `json:"env"`
		ParentEnviron string   `json:"parent_environ"`
		ParentError   string   `json:"parent_error"`
	}
	ask := func(tool string) envReport {
		res, err := callTool(session, tool, nil)
		if err != nil || res.IsError {
			t.Fatalf("%s: %+v %v", tool, res, err)
		}
		var report envReport
		raw, _ := json.Marshal(res.StructuredContent)
		json.Unmarshal(raw, &report)
		return report
	}
	agentvault := 0
	for _, tool := range []string{"report_report", "boxed_report"} {
		report := ask(tool)
		for _, kv := range report.Env {
			if strings.HasPrefix(strings.ToUpper(kv), "AGENTVAULT_") || strings.Contains(kv, pass) || strings.Contains(kv, "canary-unrelated") {
				agentvault++
				t.Errorf("%s: the upstream's environment holds %s", tool, kv)
			}
		}
		if strings.Contains(report.ParentEnviron, pass) {
			t.Errorf("%s: the upstream read the passphrase from its parent's environ", tool)
		}
		if !strings.Contains(strings.Join(report.Env, "\n"), "PATH=") {
			t.Errorf("%s: the upstream lost PATH: %q", tool, report.Env)
		}
	}
	uncontained := ask("report_report")
	if uncontained.ParentEnviron != "" || !strings.Contains(uncontained.ParentError, "permission denied") {
		t.Errorf("the uncontained upstream read AgentVault's environ (%q, error %s)", uncontained.ParentEnviron, uncontained.ParentError)
	}
	figure("upstream env", "a stdio server's environment: %d AgentVault variables; uncontained, AgentVault's /proc/PID/environ: %s", agentvault, uncontained.ParentError)
}

// leakyHTTP serves the leaky upstream over HTTP; a credential given in the
// api_key query parameter is repeated as one from the header would be.
func leakyHTTP(t *testing.T) string {
	t.Helper()
	h := server.NewStreamableHTTPServer(providertest.NewLeakyServer())
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if k := r.URL.Query().Get("api_key"); k != "" {
			r.Header.Set("Authorization", "Bearer "+k)
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(s.Close)
	return s.URL + "/mcp"
}

// TestConfiguredSecretsNeverFlowBack configures secrets every way a service
// takes them, has each upstream repeat its own everywhere it can, and looks
// for them in everything AgentVault writes or answers.
func TestConfiguredSecretsNeverFlowBack(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"AGENTVAULT_PASSPHRASE=reliability-pass"}
	canaries := map[string]string{
		"header":          "canary-header-value-1a2b",
		"URL credential":  "canary-url-key-3c4d",
		"marked variable": "canary-marked-env-5e6f",
		"named variable":  "canary-named-token-7a8b",
	}
	up := leakyHTTP(t)
	var out bytes.Buffer
	out.WriteString(cliInput(t, env, "Authorization: Bearer "+canaries["header"]+"\n",
		"service", "add-mcp", "hdr", "--url", up, "--header-stdin", "--data", data))
	out.WriteString(cli(t, env, "service", "add-mcp", "urlkey", "--url", up+"?api_key="+canaries["URL credential"], "--data", data))
	out.WriteString(cli(t, env, "service", "add-mcp", "marked", "--command", roleBin, "--env", roleEnv+"=leaky",
		"--secret-env", "LEAK_TOKEN="+canaries["marked variable"], "--data", data))
	out.WriteString(cliInput(t, env, "LEAK_TOKEN="+canaries["named variable"]+"\nREGION_API_TOKEN="+canaries["named variable"]+"\n",
		"service", "add-mcp", "named", "--command", roleBin, "--env", roleEnv+"=leaky", "--env-stdin", "--data", data))
	services := []string{"hdr", "urlkey", "marked", "named"}
	var v api.NewVault
	args := []string{"vault", "create", "v", "--json", "--data", data}
	for _, s := range services {
		args = append(args, "--service", s)
	}
	json.Unmarshal([]byte(cli(t, env, args...)), &v)
	c := serve(t, data, env)
	cl := connect(t, "http://"+c.addr+"/v/"+v.ID+"/mcp", v.Token)
	var results bytes.Buffer
	var progress bytes.Buffer
	cl.OnNotification(func(n mcp.JSONRPCNotification) { raw, _ := json.Marshal(n); progress.Write(raw) })
	for _, s := range services {
		for _, tool := range []string{"leak", "leak_error", "leak_failure", "leak_progress"} {
			req := mcp.CallToolRequest{}
			req.Params.Name = s + "_" + tool
			req.Params.Meta = &mcp.Meta{ProgressToken: req.Params.Name}
			res, err := cl.CallTool(t.Context(), req)
			json.NewEncoder(&results).Encode(res)
			fmt.Fprintln(&results, err)
		}
	}
	if !strings.Contains(results.String(), "my credential is [redacted]") {
		t.Fatalf("the leaky tools did not answer:\n%s", results.String())
	}
	out.WriteString(cli(t, env, "service", "list", "--data", data))
	out.WriteString(cli(t, env, "service", "list", "--json", "--data", data))
	out.WriteString(cli(t, env, "audit", "export", "--format", "jsonl", "--data", data))
	out.WriteString(cli(t, env, "audit", "export", "--format", "csv", "--data", data))
	c.kill()
	db, _ := os.ReadFile(filepath.Join(data, "agentvault.db"))
	places := map[string][]byte{"tool results": results.Bytes(), "progress": progress.Bytes(), "serve log": c.allOutput(),
		"audit exports and CLI output": out.Bytes(), "store file": db}
	found := 0
	for cname, canary := range canaries {
		for pname, b := range places {
			if bytes.Contains(b, []byte(canary)) {
				found++
				t.Errorf("the %s was found in %s", cname, pname)
			}
		}
	}
	figure("secrets flow", "%d configured values × %d places (results, progress, log, audit exports, CLI output, store): %d found", len(canaries), len(places), found)
}

// TestLocalControlChecksBeforeItTrusts: serve and the CLI refuse a data
// folder that is a symbolic link or that others can write, and the CLI
// refuses a control socket others could reach.
func TestLocalControlChecksBeforeItTrusts(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	cli(t, nil, "vault", "list", "--data", real) // creates it, private
	link := filepath.Join(root, "link")
	os.Symlink(real, link)
	loose := filepath.Join(root, "loose")
	os.Mkdir(loose, 0o700)
	os.Chmod(loose, 0o777)
	refused := 0
	for _, tc := range []struct{ dir, want string }{{link, "symbolic link"}, {loose, "chmod 700"}} {
		for _, args := range [][]string{{"serve", "--listen", "127.0.0.1:0"}, {"vault", "list"}} {
			out, err := exec.Command(bin, append(args, "--data", tc.dir)...).CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("%s on %s: %v %s", args[0], tc.dir, err, out)
				continue
			}
			refused++
		}
	}
	c := serve(t, real, nil)
	sock := filepath.Join(real, "agentvault.sock")
	os.Chmod(sock, 0o666)
	out, err := exec.Command(bin, "vault", "list", "--data", real).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "other users can reach the socket") {
		t.Errorf("the CLI used a socket open to others: %v %s", err, out)
	} else {
		refused++
	}
	c.kill()
	figure("local control", "%d of 5 untrusted data folders and sockets refused by serve and the CLI (symbolic link, writable by others, socket open to others); other users' processes refused by the server (SO_PEERCRED)", refused)
}

// TestOneAgentCannotStarveTheRest holds the most pending approvals a vault
// allows with real concurrent calls, opens more sessions than allowed, and
// sends a body too slowly, against a real serve.
func TestOneAgentCannotStarveTheRest(t *testing.T) {
	w := newWorld(t)
	data := filepath.Join(t.TempDir(), "data")
	v := setUp(t, w, data, nil)
	cli(t, nil, "settings", "--max-pending", "4", "--max-sessions", "8", "--body-timeout", "1s", "--data", data)
	c := serve(t, data, nil)
	url := "http://" + c.addr + "/v/" + v.ID + "/mcp"
	cl := connect(t, url, v.Token)
	waiting := make(chan *mcp.CallToolResult, 4)
	for range 4 {
		go func() {
			res, _ := callTool(cl, "echo_write_note", map[string]any{"text": "x"})
			waiting <- res
		}()
	}
	var list api.Approvals
	for len(list.Pending) < 4 {
		json.Unmarshal([]byte(cli(t, nil, "approvals", "list", "--json", "--data", data)), &list)
	}
	refused := 0
	for range 6 {
		res, err := callTool(cl, "echo_write_note", map[string]any{"text": "y"})
		if err == nil && res.IsError && strings.Contains(fmt.Sprint(res.Content), "already wait for approval") {
			refused++
		}
	}
	for _, p := range list.Pending {
		cli(t, nil, "approvals", "deny", p.Code, "--data", data)
	}
	for range 4 {
		<-waiting
	}
	for range 12 {
		connect(t, url, v.Token)
	}
	var st api.Status
	json.Unmarshal([]byte(cli(t, nil, "status", "--json", "--data", data)), &st)

	conn, err := net.Dial("tcp", c.addr)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "POST /v/%s/mcp HTTP/1.1\r\nHost: localhost\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{", v.ID, v.Token)
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	io.ReadAll(conn)
	cut := time.Since(start)
	conn.Close()
	audited := strings.Count(cli(t, nil, "audit", "export", "--format", "jsonl", "--data", data), `"outcome":"rate_limited"`)
	if refused != 6 || audited != 6 || st.Sessions != 8 || cut > 5*time.Second {
		t.Errorf("refused %d of 6 beyond 4 pending (%d audited); %d sessions open after 13 (want 8); slow body cut after %s", refused, audited, st.Sessions, cut)
	}
	figure("limits", "4 pending approvals held, %d of 6 more calls refused at once and %d audited; 13 sessions opened, %d open (max 8); a stalled body cut after %s (limit 1s)",
		refused, audited, st.Sessions, cut.Round(100*time.Millisecond))
}

// TestApprovalsShowTheWholeCall asks a real serve for approval of a call
// too large for any summary, and checks what the CLI shows and the audit
// keeps.
func TestApprovalsShowTheWholeCall(t *testing.T) {
	w := newWorld(t)
	data := filepath.Join(t.TempDir(), "data")
	v := setUp(t, w, data, nil)
	c := serve(t, data, nil)
	cl := connect(t, "http://"+c.addr+"/v/"+v.ID+"/mcp", v.Token)
	hidden := strings.Repeat("harmless greeting ", 10) + "then: rm -rf ~ # the tail a summary would cut"
	args := map[string]any{"text": hidden, "nested": map[string]any{"deep": map[string]any{"deeper": "canary-nested-value"}}}
	for i := range 8 {
		args[fmt.Sprintf("field%d", i)] = i
	}
	done := make(chan *mcp.CallToolResult, 1)
	go func() { res, _ := callTool(cl, "echo_write_note", args); done <- res }()
	var list api.Approvals
	for len(list.Pending) == 0 {
		json.Unmarshal([]byte(cli(t, nil, "approvals", "list", "--json", "--data", data)), &list)
	}
	code := list.Pending[0].Code
	shown := cli(t, nil, "approvals", "show", code, "--data", data)
	approved := cli(t, nil, "approvals", "approve", strings.ToLower(code), "--data", data)
	if res := <-done; res == nil || res.IsError {
		t.Fatalf("the approved call did not run: %+v", res)
	}
	whole := 0
	for _, out := range []string{shown, approved} {
		if strings.Contains(out, "rm -rf ~ # the tail a summary would cut") && strings.Contains(out, "canary-nested-value") && strings.Contains(out, `"field7": 7`) {
			whole++
		}
	}
	var rec struct {
		Channel   string `json:"channel"`
		Approver  string `json:"approver"`
		WholeCall *bool  `json:"whole_call"`
	}
	for _, line := range strings.Split(cli(t, nil, "audit", "export", "--format", "jsonl", "--data", data), "\n") {
		if strings.Contains(line, `"outcome":"approved"`) {
			json.Unmarshal([]byte(line), &rec)
		}
	}
	if whole != 2 || rec.Channel != "cli" || !strings.HasPrefix(rec.Approver, fmt.Sprintf("uid %d pid ", os.Getuid())) || rec.WholeCall == nil {
		t.Errorf("show and approve printed the whole call %d of 2 times; audit %+v\nshow:\n%s\napprove:\n%s", whole, rec, shown, approved)
	}
	figure("approvals", "a %d-field call: shown whole by approvals show and approve (%d of 2), answered by its code, audited with channel %s, approver %q, whole_call %v",
		len(args), whole, rec.Channel, rec.Approver, *rec.WholeCall)
}

// TestPathGuardsFollowLinks calls a real stdio server through a real serve
// with paths that leave the allowed folder through symbolic links.
func TestPathGuardsFollowLinks(t *testing.T) {
	root, _ := filepath.EvalSymlinks(t.TempDir())
	allowed, outside := filepath.Join(root, "allowed"), filepath.Join(root, "outside")
	os.Mkdir(allowed, 0o700)
	os.Mkdir(outside, 0o700)
	os.Symlink(outside, filepath.Join(allowed, "escape"))
	os.Symlink(filepath.Join(outside, "planted"), filepath.Join(allowed, "dangling"))
	os.Symlink(filepath.Join(allowed, "sub"), filepath.Join(allowed, "inner"))
	data := filepath.Join(t.TempDir(), "data")
	env := []string{"AGENTVAULT_PASSPHRASE=reliability-pass"}
	cli(t, env, "service", "add-mcp", "fs", "--command", roleBin, "--env", roleEnv+"=echo", "--data", data)
	var v api.NewVault
	json.Unmarshal([]byte(cli(t, env, "vault", "create", "v", "--service", "fs", "--json", "--data", data)), &v)
	cli(t, env, "vault", "guard", "v", "path", allowed, "--data", data)
	c := serve(t, data, env)
	cl := connect(t, "http://"+c.addr+"/v/"+v.ID+"/mcp", v.Token)
	escapes := []string{filepath.Join(allowed, "escape", "secret"), filepath.Join(allowed, "dangling"), filepath.Join(allowed, "escape")}
	inside := []string{filepath.Join(allowed, "notes.txt"), filepath.Join(allowed, "inner", "x")}
	refused, ran := 0, 0
	for _, p := range append(escapes, inside...) {
		res, err := callTool(cl, "fs_echo", map[string]any{"message": "hi", "path": p})
		switch {
		case err != nil:
			t.Fatal(err)
		case res.IsError && strings.Contains(fmt.Sprint(res.Content), "through a symbolic link"):
			refused++
		case !res.IsError:
			ran++
		}
	}
	blocked := strings.Count(cli(t, env, "audit", "export", "--format", "jsonl", "--data", data), `"rule":"guard:path"`)
	if refused != len(escapes) || ran != len(inside) || blocked != len(escapes) {
		t.Errorf("%d of %d escapes refused (%d audited), %d of %d paths inside ran", refused, len(escapes), blocked, ran, len(inside))
	}
	figure("symlinks", "%d of %d paths leaving the allowed folder through a symbolic link refused and audited (%d); %d of %d inside ran", refused, len(escapes), blocked, ran, len(inside))
}
