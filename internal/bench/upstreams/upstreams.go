// Package upstreams holds the MCP servers benchmarks measure against: an
// echo server and one with many tools. They are part of `agentvault bench`,
// so they must never depend on test support (package testing).
package upstreams

import (
	"context"
	"fmt"

	"github.com/mark3labs/mcp-go/mcp"
	"github.com/mark3labs/mcp-go/server"
)

// Echo returns a server with one read-only tool, echo, that returns its
// message as text and as structured content.
func Echo() *server.MCPServer {
	s := server.NewMCPServer("echo", "1.0.0", server.WithToolCapabilities(true))
	s.AddTool(mcp.NewTool("echo", mcp.WithDescription("Echo a message back."),
		mcp.WithString("message", mcp.Required()), mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
		func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			msg, err := req.RequireString("message")
			if err != nil {
				return mcp.NewToolResultError(err.Error()), nil
			}
			return mcp.NewToolResultStructured(map[string]any{"message": msg}, msg), nil
		})
	return s
}

// Wide returns a server with n read-only tools named tool_0…, each echoing
// its message: the load for tools/list benchmarks.
func Wide(n int) *server.MCPServer {
	s := server.NewMCPServer("wide", "1.0.0", server.WithToolCapabilities(true))
	tools := make([]server.ServerTool, 0, n)
	for i := range n {
		tools = append(tools, server.ServerTool{
			Tool: mcp.NewTool(fmt.Sprintf("tool_%d", i), mcp.WithDescription("A tool among many, for list benchmarks."),
				mcp.WithString("message", mcp.Required(), mcp.Description("What to echo.")),
				mcp.WithReadOnlyHintAnnotation(true), mcp.WithDestructiveHintAnnotation(false)),
			Handler: func(_ context.Context, req mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return mcp.NewToolResultText(req.GetString("message", "")), nil
			},
		})
	}
	s.AddTools(tools...)
	return s
}
