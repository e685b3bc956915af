package providertest

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// LeakEnv is the variable a stdio leaky server repeats.
const LeakEnv = "LEAK_TOKEN"

// NewLeakyServer returns an upstream that repeats the credential it was
// given — the Authorization header's credential over HTTP, $LEAK_TOKEN over
// stdio — everywhere it can: in a result (as text and, JSON-escaped, in
// structured content), in a tool error, in a JSON-RPC error and in a
// progress message. Its tools:
//
//	leak          read-only  returns the credential
//	leak_error    read-only  an isError result naming the credential
//	leak_failure  read-only  a JSON-RPC error naming the credential
//	leak_progress read-only  a progress message with the credential, then "ok"
func NewLeakyServer() *server.MCPServer {
	s := server.NewMCPServer("leaky", "1.0.0", server.WithToolCapabilities(true))
	tool := func(name, desc string) mcp.Tool {
		return mcp.NewTool(name, mcp.WithDescription(desc), mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false))
	}
	credential := func(req mcp.CallToolRequest) string {
		if v := os.Getenv(LeakEnv); v != "" {
			return v
		}
		_, cred, _ := strings.Cut(req.Header.Get("Authorization"), " ")
		return cred
	}
	s.AddTool(tool("leak", "Repeat the credential."), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c := credential(req)
		return mcp.NewToolResultStructured(map[string]any{"credential": c, "quoted": `"` + c + `"`}, "my credential is "+c), nil
	})
	s.AddTool(tool("leak_error", "Fail, naming the credential."), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return mcp.NewToolResultError("refused for credential " + credential(req)), nil
	})
	s.AddTool(tool("leak_failure", "Fail at the protocol, naming the credential."), func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		return nil, errors.New("internal failure with credential " + credential(req))
	})
	s.AddTool(tool("leak_progress", "Report progress naming the credential."), func(ctx context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		if req.Params.Meta != nil && req.Params.Meta.ProgressToken != nil {
			_ = server.ServerFromContext(ctx).SendNotificationToClient(ctx, "notifications/progress", map[string]any{
				"progressToken": req.Params.Meta.ProgressToken, "progress": 1.0, "message": "working with " + credential(req),
			})
			time.Sleep(20 * time.Millisecond) // as a real tool works: the progress goes out before the result
		}
		return mcp.NewToolResultText("ok"), nil
	})
	return s
}
