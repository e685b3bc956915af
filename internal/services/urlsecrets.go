package services

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/agentvault/agentvault/internal/redact"
)

// userinfoPart names a URL's user information among its secret parts.
const userinfoPart = "@"

// secretName reports whether a variable or parameter name says its value is
// a credential.
func secretName(name string) bool {
	n := strings.ToUpper(name)
	for _, w := range []string{"KEY", "TOKEN", "SECRET", "PASSWORD", "PASS", "CREDENTIAL", "AUTH", "SIG"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// splitURLSecrets takes the credentials out of a service URL — its user
// information and query parameters whose names say they hold one
// (api_key, token, access_token, secret, password…) — and returns the URL
// with each shown as [redacted], and the parts taken out, as written
// (percent-encoded), by part name.
func splitURLSecrets(raw string) (shown string, parts map[string]string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL itself is not repeated: it may hold a credential.
		return "", nil, errors.New("the service URL must be an http:// or https:// address with a host")
	}
	parts = map[string]string{}
	if u.User != nil {
		parts[userinfoPart] = u.User.String()
	}
	var query []string
	if u.RawQuery != "" {
		for _, pair := range strings.Split(u.RawQuery, "&") {
			name, value, _ := strings.Cut(pair, "=")
			key, kerr := url.QueryUnescape(name)
			if kerr == nil && value != "" && secretName(key) {
				if _, dup := parts[key]; dup || key == userinfoPart {
					return "", nil, fmt.Errorf("URL parameter %s is given twice", key)
				}
				parts[key] = value
				pair = name + "=" + redact.Mask
			}
			query = append(query, pair)
		}
	}
	if len(parts) == 0 {
		return raw, nil, nil
	}
	shown = u.Scheme + "://"
	if u.User != nil {
		shown += redact.Mask + "@"
	}
	shown += u.Host + u.EscapedPath()
	if len(query) > 0 {
		shown += "?" + strings.Join(query, "&")
	}
	if u.Fragment != "" {
		shown += "#" + u.EscapedFragment()
	}
	return shown, parts, nil
}

// joinURLSecrets puts the parts splitURLSecrets took out back into shown.
func joinURLSecrets(shown string, parts map[string]string) string {
	if len(parts) == 0 {
		return shown
	}
	scheme, rest, _ := strings.Cut(shown, "://")
	if user, ok := parts[userinfoPart]; ok {
		rest = user + strings.TrimPrefix(rest, redact.Mask)
	}
	base, query, hasQuery := strings.Cut(rest, "?")
	if hasQuery {
		query, fragment, hasFragment := strings.Cut(query, "#")
		pairs := strings.Split(query, "&")
		for i, pair := range pairs {
			name, value, _ := strings.Cut(pair, "=")
			key, _ := url.QueryUnescape(name)
			if secret, ok := parts[key]; ok && value == redact.Mask {
				pairs[i] = name + "=" + secret
			}
		}
		rest = base + "?" + strings.Join(pairs, "&")
		if hasFragment {
			rest += "#" + fragment
		}
	}
	return scheme + "://" + rest
}

// urlSecretValues are the values a URL's secret parts stand for, decoded,
// as an echo would show them.
func urlSecretValues(parts map[string]string) []string {
	var out []string
	for name, v := range parts {
		out = append(out, v)
		if name == userinfoPart {
			out = append(out, urlPasswords("http://"+v+"@h")...)
		} else if dec, err := url.QueryUnescape(v); err == nil {
			out = append(out, dec)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// urlPasswords are the credentials a URL-shaped value carries in its user
// information: the password, and user:password.
func urlPasswords(v string) []string {
	u, err := url.Parse(v)
	if err != nil || u.User == nil {
		return nil
	}
	pass, ok := u.User.Password()
	if !ok {
		return nil
	}
	return []string{pass, u.User.String()}
}
