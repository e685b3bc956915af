package sandbox_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"

	"github.com/agentvault/agentvault/internal/sandbox"
	"github.com/agentvault/agentvault/providers/providertest"
	"github.com/agentvault/agentvault/providers/upstream"
)

// The test binary doubles as a third party's stdio MCP server whose tool
// tries to read a file and to reach a socket.
func TestMain(m *testing.M) {
	if os.Getenv("SANDBOX_TEST_ROLE") == "server" {
		s := server.NewMCPServer("probe", "1")
		s.AddTool(mcp.NewTool("probe", mcp.WithString("file"), mcp.WithString("socket")),
			func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				read, dial := "read", "reached"
				if _, err := os.ReadFile(req.GetString("file", "")); err != nil {
					read = "refused"
				}
				if c, err := net.Dial("unix", req.GetString("socket", "")); err != nil {
					dial = "refused"
				} else {
					c.Close()
				}
				return mcp.NewToolResultText(fmt.Sprintf("file %s, bus %s", read, dial)), nil
			})
		if err := server.ServeStdio(s); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// A contained stdio server cannot read the user's SSH key nor reach the
// session bus; the same server uncontained can (the test is sound).
func TestAContainedServerReachesNoCredentialAndNoBus(t *testing.T) {
	if err := sandbox.Available(); err != nil {
		t.Fatal(err) // make test installs bubblewrap
	}
	home, runtime, data := t.TempDir(), t.TempDir(), t.TempDir()
	key := filepath.Join(home, ".ssh", "id_ed25519")
	os.MkdirAll(filepath.Dir(key), 0o700)
	os.WriteFile(key, []byte("canary-ssh-key"), 0o600)
	bus := filepath.Join(runtime, "bus")
	ln, err := net.Listen("unix", bus)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	self, _ := os.Executable()
	spec := sandbox.Spec{Home: home, Runtime: runtime, Data: data, Root: os.Geteuid() == 0, NewSession: true}
	for _, tc := range []struct {
		contain func([]string) ([]string, error)
		want    string
	}{
		{nil, "file read, bus reached"},
		{spec.Command, "file refused, bus refused"},
	} {
		p, err := upstream.New(upstream.Config{Name: "probe", Command: []string{self}, Env: []string{"SANDBOX_TEST_ROLE=server"},
			Contain: tc.contain, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		res, err := p.Call(t.Context(), "probe", map[string]any{"file": key, "socket": bus}, nil)
		p.Close()
		if err != nil {
			t.Fatal(err)
		}
		if got := providertest.ResultText(res); !strings.Contains(got, tc.want) {
			t.Errorf("contained %v: %q, want %q", tc.contain != nil, got, tc.want)
		}
	}
}
