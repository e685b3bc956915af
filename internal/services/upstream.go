package services

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mattn/go-shellwords"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/sandbox"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/upstream"
)

// Keychain entries of an upstream server's secrets.
func headerKey(service, header string) string { return "service/" + service + "/header/" + header }
func envKey(service, name string) string      { return "service/" + service + "/env/" + name }
func urlKey(service, part string) string      { return "service/" + service + "/url/" + part }

var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)

// Add configures an upstream MCP server. Header values, environment values
// and the credentials in a URL go to the keychain; if anything fails,
// nothing of the service is kept.
func (r *Registry) Add(ctx context.Context, spec api.ServiceSpec) (api.ServiceInfo, error) {
	svc, values, err := upstreamService(spec)
	if err != nil {
		return api.ServiceInfo{}, err
	}
	if err := r.claim(svc.Name, nil); err != nil {
		return api.ServiceInfo{}, err
	}
	listed := -1
	keep := func() error {
		p, err := r.startUpstream(svc, func(key string) (string, error) { return values[key], nil })
		if err != nil {
			return err
		}
		if spec.Check {
			ctx, cancel := context.WithTimeout(ctx, checkTimeout)
			defer cancel()
			tools, err := p.(*pinned).Provider.Tools(ctx)
			if err != nil {
				p.Close()
				return fmt.Errorf("%s did not list its tools, so it was not added: %w", svc.Name, err)
			}
			svc.Pins, listed = pinsOf(tools), len(tools)
		}
		for key, v := range values {
			if err := r.cfg.Secrets.Set(key, v); err != nil {
				p.Close()
				return fmt.Errorf("saving a credential of %s in the keychain: %w", svc.Name, err)
			}
		}
		return r.commit(svc, p)
	}
	if err := keep(); err != nil {
		r.unclaim(svc.Name)
		for key := range values {
			_ = r.cfg.Secrets.Delete(key)
		}
		r.cfg.Redact.Drop(redactGroup(svc.Name))
		return api.ServiceInfo{}, err
	}
	r.cfg.Changed(svc.Name)
	info := describe(svc)
	if listed >= 0 {
		info.Status = fmt.Sprintf("connected, %d tools", listed)
	}
	return info, nil
}

// contain is argv started in the sandbox, as it is now (what exists is
// hidden at each start).
func (r *Registry) contain(argv []string) ([]string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, err
	}
	spec := sandbox.Spec{Home: home, Data: r.cfg.DataDir, Runtime: os.Getenv("XDG_RUNTIME_DIR"), Root: os.Geteuid() == 0, NewSession: true}
	return spec.Command(argv)
}

// checkTimeout bounds the check of a server being added: long enough for
// `npx -y` to fetch a package on first use.
const checkTimeout = 2 * time.Minute

// AbsoluteCommand is command with its program found in PATH, so that the
// program that runs later is the one the user meant now, whatever PATH
// AgentVault then has.
func AbsoluteCommand(command string) (string, error) {
	args, err := shellwords.Parse(command)
	if err != nil || len(args) == 0 {
		return "", fmt.Errorf("cannot parse command %q: %v", command, err)
	}
	if args[0], err = absoluteProgram(args[0]); err != nil {
		return "", err
	}
	return ShellJoin(args), nil
}

// absoluteProgram finds program in PATH (or, when it names a path, makes
// that absolute).
func absoluteProgram(program string) (string, error) {
	found, err := exec.LookPath(program)
	if err != nil {
		return "", fmt.Errorf("command %s: not found (is it installed, and in PATH?)", program)
	}
	return filepath.Abs(found)
}

// upstreamService checks spec and returns the service to store and the
// secret values to keep in the keychain, by key. It does no IO.
func upstreamService(spec api.ServiceSpec) (store.Service, map[string]string, error) {
	if err := checkName(spec.Name); err != nil {
		return store.Service{}, nil, err
	}
	svc := store.Service{Name: spec.Name, Created: time.Now().UTC()}
	values := map[string]string{}
	switch {
	case spec.Command != "" && spec.URL != "":
		return svc, nil, errors.New("give either a command or a URL, not both")
	case spec.Command != "":
		args, err := shellwords.Parse(spec.Command)
		if err != nil || len(args) == 0 {
			return svc, nil, fmt.Errorf("cannot parse command %q: %v", spec.Command, err)
		}
		svc.Kind, svc.Command = "mcp-stdio", args
		if len(spec.Headers) > 0 {
			return svc, nil, errors.New("headers apply to services reached by URL only")
		}
		for _, e := range slices.Concat(spec.Env, spec.SecretEnv) {
			k, v, ok := strings.Cut(e, "=")
			if !ok || !envName.MatchString(k) {
				return svc, nil, fmt.Errorf("environment variable %q: want NAME=value", envShown(e))
			}
			if upstream.Reserved(k) {
				return svc, nil, fmt.Errorf("environment variable %s: AgentVault's own variables are never given to a service", k)
			}
			values[envKey(spec.Name, k)] = v
			svc.EnvNames = append(svc.EnvNames, k)
		}
		for _, e := range spec.SecretEnv {
			k, _, _ := strings.Cut(e, "=")
			svc.SecretEnv = append(svc.SecretEnv, k)
		}
		for _, k := range spec.PassEnv {
			if !envName.MatchString(k) {
				return svc, nil, fmt.Errorf("variable to pass %q: want a NAME", k)
			}
			if upstream.Reserved(k) {
				return svc, nil, fmt.Errorf("variable to pass %s: AgentVault's own variables are never given to a service", k)
			}
			svc.PassEnv = append(svc.PassEnv, k)
		}
		if args[0], err = absoluteProgram(args[0]); err != nil {
			return svc, nil, err
		}
		switch available := sandbox.Available(); {
		case spec.Contain == nil:
			svc.Contained = available == nil
		case *spec.Contain && available != nil:
			return svc, nil, available
		default:
			svc.Contained = *spec.Contain
		}
	case spec.URL != "":
		shown, parts, err := splitURLSecrets(spec.URL)
		if err != nil {
			return svc, nil, err
		}
		svc.Kind, svc.URL = "mcp-http", shown
		for part, v := range parts {
			values[urlKey(spec.Name, part)] = v
			svc.URLSecrets = append(svc.URLSecrets, part)
		}
		for _, h := range spec.Headers {
			k, v, ok := strings.Cut(h, ":")
			if !ok || strings.TrimSpace(k) == "" {
				return svc, nil, errors.New(`a header must be "Name: value"`)
			}
			name := http.CanonicalHeaderKey(strings.TrimSpace(k))
			values[headerKey(spec.Name, name)] = strings.TrimSpace(v)
			svc.HeaderNames = append(svc.HeaderNames, name)
		}
		if len(spec.Env) > 0 || len(spec.SecretEnv) > 0 || len(spec.PassEnv) > 0 {
			return svc, nil, errors.New("environment variables apply to services started as a command only")
		}
	default:
		return svc, nil, errors.New("give a command or a URL")
	}
	for _, list := range []*[]string{&svc.HeaderNames, &svc.EnvNames, &svc.SecretEnv, &svc.PassEnv, &svc.URLSecrets} {
		slices.Sort(*list)
		*list = slices.Compact(*list)
	}
	return svc, values, nil
}

// envShown is an environment entry as an error may repeat it: its name only.
func envShown(e string) string {
	k, _, _ := strings.Cut(e, "=")
	return k + "=…"
}

// start builds the provider of a stored service, reading its secrets from
// the keychain.
func (r *Registry) start(s store.Service) (providers.Provider, error) {
	if k, ok := findKind(s.Kind); ok {
		return r.startFirstParty(k, s)
	}
	return r.startUpstream(s, r.cfg.Secrets.Get)
}

// startUpstream builds the provider of an upstream server, with its secret
// values from get (the keychain, or the values being added), and adds them
// to the redaction set.
func (r *Registry) startUpstream(s store.Service, get func(key string) (string, error)) (providers.Provider, error) {
	name := s.Name
	var secretValues []string
	headers := make(map[string]string, len(s.HeaderNames))
	for _, h := range s.HeaderNames {
		v, err := get(headerKey(name, h))
		if err != nil {
			return nil, fmt.Errorf("reading the %s header of %s: %w", h, name, err)
		}
		headers[h] = v
		secretValues = append(secretValues, v)
	}
	env := make([]string, 0, len(s.EnvNames))
	for _, e := range s.EnvNames {
		v, err := get(envKey(name, e))
		if err != nil {
			return nil, fmt.Errorf("reading the %s variable of %s: %w", e, name, err)
		}
		env = append(env, e+"="+v)
		if secretName(e) || slices.Contains(s.SecretEnv, e) {
			secretValues = append(secretValues, v)
		}
		secretValues = append(secretValues, urlPasswords(v)...) // DATABASE_URL=postgres://u:pw@…
	}
	parts := map[string]string{}
	for _, part := range s.URLSecrets {
		v, err := get(urlKey(name, part))
		if err != nil {
			return nil, fmt.Errorf("reading the address of %s: %w", name, err)
		}
		parts[part] = v
	}
	secretValues = append(secretValues, urlSecretValues(parts)...)
	r.cfg.Redact.Put(redactGroup(name)+"config", secretValues...)
	cfg := upstream.Config{
		Name: name, Command: s.Command, URL: joinURLSecrets(s.URL, parts), Headers: headers, Env: env, PassEnv: s.PassEnv,
		Logger: r.cfg.Logger, OnToolsChanged: func() { r.cfg.Changed(name) },
	}
	if s.Contained {
		cfg.Contain = r.contain
	}
	p, err := upstream.New(cfg)
	if err != nil {
		return nil, err
	}
	return &pinned{Provider: p, reg: r, service: name}, nil
}

// deleteCredentials removes every keychain entry of a service.
func (r *Registry) deleteCredentials(s store.Service) {
	keys := []string{credentialKey(s.Name), tokenKey(s.Name)}
	for _, h := range s.HeaderNames {
		keys = append(keys, headerKey(s.Name, h))
	}
	for _, e := range s.EnvNames {
		keys = append(keys, envKey(s.Name, e))
	}
	for _, part := range s.URLSecrets {
		keys = append(keys, urlKey(s.Name, part))
	}
	for _, k := range slices.Compact(keys) {
		_ = r.cfg.Secrets.Delete(k)
	}
}
