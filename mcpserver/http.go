package mcpserver

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// JSON-RPC error codes used outside mcp-go's own handling.
const (
	codeParseError   = -32700
	codeUnauthorized = -32001
)

// loopbackHost reports whether a Host header names this machine by a
// loopback name or address, with an optional port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	} else if strings.HasPrefix(hostport, "[") && strings.HasSuffix(hostport, "]") {
		host = hostport[1 : len(hostport)-1]
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// loopbackOrigin reports whether an Origin header is a page served from this
// machine's loopback. "null" and anything unparsable are foreign.
func loopbackOrigin(origin string) bool {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
		return false
	}
	return loopbackHost(u.Host)
}

// httpError writes a plain-text error.
func httpError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write([]byte(msg + "\n"))
}

// jsonRPCError writes a JSON-RPC error response with a null id, for
// requests refused before any JSON-RPC handling.
func jsonRPCError(w http.ResponseWriter, status, code int, msg string) {
	writeError(w, status, json.RawMessage("null"), code, msg)
}

// quote keeps user-controlled text in messages printable and bounded.
func quote(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strconv.Quote(s)
}
