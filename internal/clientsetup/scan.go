package clientsetup

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/agentvault/agentvault/internal/configedit"
)

// Server is an MCP server entry found in a client's config file.
type Server struct {
	Name  string
	Place Place
	// Key is where the entry is in the file; Project the project folder
	// of an entry in Claude Code's local scope.
	Key     []string
	Project string
	// Command (program and arguments) and Env start a stdio server; URL
	// and Headers reach a remote one.
	Command []string
	Env     map[string]string
	URL     string
	Headers map[string]string
}

// Found is one config file of a client, with its servers.
type Found struct {
	Client  Client
	Path    string
	Servers []Server
	// Err says why the file could not be read.
	Err error
}

// Scan lists the config files of every client that the user at p has, with
// their servers.
func Scan(p Places) []Found {
	var out []Found
	for _, c := range Clients {
		out = append(out, c.Scan(p)...)
	}
	return out
}

// Scan lists c's config files at p that exist, with their servers.
func (c Client) Scan(p Places) []Found {
	var out []Found
	byPath := map[string]int{}
	for _, pl := range c.Places(p) {
		if _, err := os.Stat(pl.Path); err != nil {
			continue
		}
		i, seen := byPath[pl.Path]
		if !seen {
			byPath[pl.Path] = len(out)
			i = len(out)
			out = append(out, Found{Client: c, Path: pl.Path})
		}
		if out[i].Err != nil {
			continue
		}
		doc, err := configedit.Load(pl.Path, c.format)
		if err != nil {
			out[i].Err = err
			continue
		}
		servers, err := serversAt(doc, pl)
		out[i].Servers = append(out[i].Servers, servers...)
		out[i].Err = err
	}
	return out
}

// serversAt decodes the servers at pl in doc.
func serversAt(doc *configedit.Doc, pl Place) ([]Server, error) {
	var out []Server
	for _, key := range expand(doc, pl.Servers) {
		entries, err := doc.Entries(key)
		if err != nil {
			return out, err
		}
		for _, name := range sortedKeys(entries) {
			s, err := DecodeServer(entries[name])
			if err != nil {
				return out, fmt.Errorf("server %s: %w", name, err)
			}
			s.Name, s.Place, s.Key = name, pl, append(slices.Clone(key), name)
			if i := slices.Index(pl.Servers, "*"); i >= 0 {
				s.Project = key[i]
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// expand turns a key path with "*" into the paths of each member there.
func expand(doc *configedit.Doc, path []string) [][]string {
	i := slices.Index(path, "*")
	if i < 0 {
		return [][]string{path}
	}
	members, _ := doc.Entries(path[:i])
	var out [][]string
	for _, m := range sortedKeys(members) {
		out = append(out, expand(doc, append(append(slices.Clone(path[:i]), m), path[i+1:]...))...)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// DecodeServer reads a server entry (as JSON) in any client's words.
func DecodeServer(raw json.RawMessage) (Server, error) {
	var e struct {
		Command     string            `json:"command"`
		Args        []string          `json:"args"`
		Env         map[string]string `json:"env"`
		URL         string            `json:"url"`
		ServerURL   string            `json:"serverUrl"`
		HTTPURL     string            `json:"httpUrl"`
		Headers     map[string]string `json:"headers"`
		HTTPHeaders map[string]string `json:"http_headers"`
		BearerEnv   string            `json:"bearer_token_env_var"`
	}
	if err := json.Unmarshal(raw, &e); err != nil {
		return Server{}, err
	}
	s := Server{Env: e.Env, Headers: e.Headers}
	if e.Command != "" {
		s.Command = append([]string{e.Command}, e.Args...)
	}
	for _, u := range []string{e.URL, e.ServerURL, e.HTTPURL} {
		if u != "" {
			s.URL = u
		}
	}
	for k, v := range e.HTTPHeaders {
		if s.Headers == nil {
			s.Headers = map[string]string{}
		}
		s.Headers[k] = v
	}
	if e.BearerEnv != "" {
		if s.Headers == nil {
			s.Headers = map[string]string{}
		}
		s.Headers["Authorization"] = "Bearer ${" + e.BearerEnv + "}"
	}
	if s.Command == nil && s.URL == "" {
		return s, errors.New("neither a command nor a URL")
	}
	return s, nil
}

// vaultPath is the path of a vault's MCP endpoint.
var vaultPath = regexp.MustCompile(`^/v/[a-z0-9]+/mcp$`)

// ThroughAgentVault reports whether s reaches its tools through AgentVault:
// a vault's URL on this machine, or the stdio bridge.
func (s Server) ThroughAgentVault() bool {
	if len(s.Command) > 1 {
		program := strings.TrimSuffix(filepath.Base(s.Command[0]), ".exe")
		return program == "agentvault" && s.Command[1] == "bridge"
	}
	u, err := url.Parse(s.URL)
	if err != nil {
		return false
	}
	ip := net.ParseIP(u.Hostname())
	return (u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())) && vaultPath.MatchString(u.Path)
}
