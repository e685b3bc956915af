// Package providers defines what a source of tools is to AgentVault: a
// Provider lists tools (with schemas and explicit annotations) and runs them.
//
// Implementations live in sub-packages, one per kind of service: upstream/
// proxies any MCP server; the first-party services follow the same interface.
// A provider holds its own credentials and never returns them.
package providers

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/policy"
)

// ProgressFunc receives progress of a running call; total is 0 when unknown.
type ProgressFunc func(progress, total float64, message string)

// Provider is one configured service.
type Provider interface {
	// Tools returns the tools the service offers now, named as the service
	// names them (AgentVault adds the "<service>_" prefix). It may connect on
	// demand.
	Tools(ctx context.Context) ([]mcp.Tool, error)
	// Call runs one tool. A tool that ran and failed is a result with IsError;
	// an error means the service could not be reached or did not answer.
	// Cancelling ctx cancels the call at the service too. progress may be nil.
	Call(ctx context.Context, tool string, args any, progress ProgressFunc) (*mcp.CallToolResult, error)
	// Close stops connections and processes; the provider is not used after.
	Close() error
}

// PrivateData is implemented by providers whose service holds the user's
// private data — mail, files, chats, issues: AgentVault's built-in ones.
// Their read tools are sources for data-flow protection, their other tools
// sinks (policy.Flow).
type PrivateData interface {
	HoldsPrivateData() bool
}

// Reviewed is implemented by providers whose tools a person reviews when
// their service changes them (upstream servers, pinned).
type Reviewed interface {
	// ReviewedAt says when the user last accepted a changed or new
	// definition of tool, if ever.
	ReviewedAt(tool string) (time.Time, bool)
}

// RawCaller is implemented by providers that can relay a call as JSON:
// arguments as the agent's (decided) JSON object, the result as the
// service's JSON tools/call result, never decoded. It runs the same call as
// Call, without the cost of turning a result into Go values and back.
type RawCaller interface {
	// CallRaw is Call with args and the result as JSON.
	CallRaw(ctx context.Context, tool string, args json.RawMessage, progress ProgressFunc) (json.RawMessage, error)
}

// ErrReconnect is wrapped by credential sources whose grant is gone (revoked,
// or a refresh token expired): the user must connect the service again.
// Providers tell the agent so instead of failing obscurely.
var ErrReconnect = errors.New("reconnect it in AgentVault")

// Guarded is implemented by providers whose calls name things argument
// guards can limit (repositories, recipients, paths…).
type Guarded interface {
	// Resources reads what a call of tool with args would touch, decoding
	// args exactly as Call would; an error means the call cannot run.
	Resources(tool string, args any) ([]policy.Resource, error)
}

// LookingUp is implemented by Guarded providers some of whose calls touch
// what only the service can tell (who a Drive folder is shared with).
type LookingUp interface {
	// LookUp asks the service for what a call of tool with args would
	// touch beyond Resources, of the kinds guarded says a guard checks for
	// this call, so that nothing is asked for nothing. An error means the
	// call cannot run.
	LookUp(ctx context.Context, tool string, args any, guarded func(policy.Kind) bool) ([]policy.Resource, error)
}

// PathResolving is implemented by providers whose servers run on this
// machine, so that a path argument names a file here: a path guard then
// checks where a path leads, through symbolic links, not only how it is
// written.
type PathResolving interface {
	// Local reports whether the server runs on this machine (a command);
	// the paths of a server reached over the network are its own.
	Local() bool
	// ResolvePath returns where the absolute, clean path leads on this
	// machine: its longest existing prefix with every symbolic link
	// followed (a dangling link too), the rest as written.
	ResolvePath(path string) (string, error)
}

// RelayProgress returns a ProgressFunc that turns a provider's progress into
// notifications/progress parameters under the caller's token, handed to
// send; nil when the caller asked for no progress (token nil).
func RelayProgress(token mcp.ProgressToken, send func(params map[string]any)) ProgressFunc {
	if token == nil {
		return nil
	}
	return func(done, total float64, msg string) {
		params := map[string]any{"progressToken": token, "progress": done}
		if total > 0 {
			params["total"] = total
		}
		if msg != "" {
			params["message"] = msg
		}
		send(params)
	}
}
