package upstream

import (
	"strings"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

var _ providers.Guarded = (*Provider)(nil)

// pathArguments are the argument names that hold file paths in MCP servers
// that work on files (the reference filesystem server, editors, shells).
var pathArguments = map[string]bool{
	"path": true, "paths": true, "source": true, "destination": true, "directory": true, "dir": true,
	"file": true, "filename": true, "file_path": true, "filepath": true, "root": true, "target": true,
	"cwd": true, "workdir": true, "working_directory": true, "folder": true,
}

// isPathArgument reports whether an argument name holds paths: a known
// name, in any case, or one ending in "path", "_dir" or "directory".
func isPathArgument(name string) bool {
	n := strings.ToLower(name)
	return pathArguments[n] || strings.HasSuffix(n, "path") || strings.HasSuffix(n, "_dir") || strings.HasSuffix(n, "directory")
}

// Resources implements providers.Guarded: every string (or string in an
// array) under a path-like top-level argument is a policy.Path. A value of
// any other type under such a name is refused by the path guard, because it
// cannot be checked.
func (p *Provider) Resources(_ string, args any) ([]policy.Resource, error) {
	m, _ := args.(map[string]any)
	var out []policy.Resource
	for k, v := range m {
		if !isPathArgument(k) {
			continue
		}
		switch v := v.(type) {
		case string:
			out = append(out, policy.Resource{Kind: policy.Path, Value: v})
		case []any:
			for _, item := range v {
				s, ok := item.(string)
				if !ok {
					s = "" // unbounded: only "*" allows it
				}
				out = append(out, policy.Resource{Kind: policy.Path, Value: s})
			}
		default:
			out = append(out, policy.Resource{Kind: policy.Path})
		}
	}
	return out, nil
}
