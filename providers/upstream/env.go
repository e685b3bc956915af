package upstream

import (
	"runtime"
	"strings"
)

// inherited are the variables of AgentVault's own environment that a stdio
// server gets: what a program needs to run as the user (find programs, its
// home, the user's language and time zone, a terminal, proxies and extra CA
// certificates). Nothing else of AgentVault's environment reaches it — in
// particular no AGENTVAULT_* variable, whose passphrase would open every
// other service's credentials.
var inherited = []string{
	"PATH", "HOME", "USER", "LOGNAME", "SHELL", "LANG", "TZ", "TMPDIR", "TERM",
	"HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy",
	"SSL_CERT_FILE", "SSL_CERT_DIR", "NODE_EXTRA_CA_CERTS",
}

// inheritedWindows are what programs on Windows cannot start without.
var inheritedWindows = []string{
	"SystemRoot", "SystemDrive", "windir", "ComSpec", "PATHEXT", "TEMP", "TMP", "USERPROFILE", "USERNAME",
	"APPDATA", "LOCALAPPDATA", "ProgramData", "ProgramFiles", "ProgramFiles(x86)", "ProgramW6432",
	"CommonProgramFiles", "HOMEDRIVE", "HOMEPATH", "NUMBER_OF_PROCESSORS", "PROCESSOR_ARCHITECTURE", "OS",
}

// ReservedPrefix starts the names of AgentVault's own variables, which no
// upstream gets, even when asked for.
const ReservedPrefix = "AGENTVAULT_"

// Reserved reports whether name is one of AgentVault's own variables.
func Reserved(name string) bool {
	return len(name) >= len(ReservedPrefix) && strings.EqualFold(name[:len(ReservedPrefix)], ReservedPrefix)
}

// environment builds a stdio server's environment from AgentVault's own
// (parent, as os.Environ gives it): the inherited variables, LC_*, and the
// ones the user passes by name, then the service's own values, which win.
func environment(parent, pass, own []string) []string {
	keep := func(name string) bool {
		if Reserved(name) {
			return false
		}
		if strings.HasPrefix(name, "LC_") || contains(inherited, name) || contains(pass, name) {
			return true
		}
		return runtime.GOOS == "windows" && contains(inheritedWindows, name)
	}
	set := map[string]bool{}
	for _, kv := range own {
		name, _, _ := strings.Cut(kv, "=")
		set[envKey(name)] = true
	}
	out := make([]string, 0, len(own)+len(inherited))
	for _, kv := range parent {
		name, _, ok := strings.Cut(kv, "=")
		if ok && name != "" && keep(name) && !set[envKey(name)] {
			out = append(out, kv)
		}
	}
	for _, kv := range own {
		if name, _, _ := strings.Cut(kv, "="); !Reserved(name) {
			out = append(out, kv)
		}
	}
	return out
}

// contains reports whether names holds name, ignoring case on Windows,
// where variable names are case-insensitive.
func contains(names []string, name string) bool {
	for _, n := range names {
		if n == name || runtime.GOOS == "windows" && strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}

// envKey is how a variable name is compared on this system.
func envKey(name string) string {
	if runtime.GOOS == "windows" {
		return strings.ToUpper(name)
	}
	return name
}
