package upstream

import (
	"net/url"
	"strings"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
)

var _ providers.Guarded = (*Provider)(nil)

// pathArguments are the argument names that hold file paths in MCP servers
// that work on files (the reference filesystem server, editors, shells).
var pathArguments = map[string]bool{
	"path": true, "paths": true, "source": true, "destination": true, "directory": true, "dir": true,
	"file": true, "files": true, "filename": true, "file_path": true, "filepath": true, "root": true,
	"target": true, "cwd": true, "workdir": true, "working_directory": true, "folder": true,
	"src": true, "dst": true, "uri": true,
}

// isPathArgument reports whether an argument name holds paths: a known
// name, in any case, or one ending in "path", "_dir" or "directory".
func isPathArgument(name string) bool {
	n := strings.ToLower(name)
	return pathArguments[n] || strings.HasSuffix(n, "path") || strings.HasSuffix(n, "_dir") || strings.HasSuffix(n, "directory")
}

// Resources implements providers.Guarded. An upstream's arguments are not
// known in advance, so every value at any depth counts: a string under a
// path-like name, and any string that looks like a path (starting with '/'
// or '~') or a file: URI, is a policy.Path; a value of another type under a
// path-like name cannot be checked and counts as unbounded. For a stdio
// server the guard then checks where each path leads (ResolvePath); an HTTP
// server's paths are compared as written.
func (p *Provider) Resources(_ string, args any) ([]policy.Resource, error) {
	var out []policy.Resource
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch v := v.(type) {
		case string:
			if r, ok := pathValue(key, v); ok {
				out = append(out, r)
			}
		case []any:
			for _, item := range v {
				walk(key, item)
			}
		case map[string]any:
			for k, item := range v {
				walk(k, item)
			}
		default:
			if isPathArgument(key) {
				out = append(out, policy.Resource{Kind: policy.Path})
			}
		}
	}
	walk("", args)
	return out, nil
}

// pathValue reads a string argument as a path, if it is one.
func pathValue(key, v string) (policy.Resource, bool) {
	switch {
	case strings.HasPrefix(strings.ToLower(v), "file:"):
		u, err := url.Parse(v)
		if err != nil || (u.Host != "" && u.Host != "localhost") {
			return policy.Resource{Kind: policy.Path}, true
		}
		return policy.Resource{Kind: policy.Path, Value: u.Path}, true
	case strings.HasPrefix(v, "/"), strings.HasPrefix(v, "~"):
		return policy.Resource{Kind: policy.Path, Value: v}, true
	case isPathArgument(key):
		if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
			return policy.Resource{}, false // a web address, not a file
		}
		return policy.Resource{Kind: policy.Path, Value: v}, true
	}
	return policy.Resource{}, false
}
