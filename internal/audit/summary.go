package audit

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// secretKeyWords are parts of argument names whose values are never shown
// (compared in lower case).
var secretKeyWords = []string{"token", "secret", "passw", "apikey", "api_key", "api-key", "auth", "cookie", "credential", "private"}

// secretKey reports whether an argument's name says its value is a secret.
func secretKey(key string) bool {
	key = strings.ToLower(key)
	for _, w := range secretKeyWords {
		if strings.Contains(key, w) {
			return true
		}
	}
	return false
}

// secretValue matches values that look like credentials whatever their key:
// well-known token prefixes, JWTs, PEM blocks. secretHints are the literal
// parts one of them must contain (in lower case), checked first because most
// values hold none.
var (
	secretValue = regexp.MustCompile(`(?i)(^|[^a-z0-9])(avt_|ghp_|gho_|ghu_|ghs_|github_pat_|xox[abprs]-|sk-|ya29\.|AKIA|eyJ[a-zA-Z0-9_-]{8,}\.|-----BEGIN)`)
	secretHints = []string{"avt_", "gh", "github_pat_", "xox", "sk-", "ya29.", "akia", "eyj", "-----begin"}
)

// looksSecret reports whether a shown value looks like a credential.
func looksSecret(v string) bool {
	lower := strings.ToLower(v)
	for _, h := range secretHints {
		if strings.Contains(lower, h) {
			return secretValue.MatchString(v)
		}
	}
	return false
}

// maxShown and maxKeys bound a summary: characters of a value, and keys.
const (
	maxShown = 60
	maxKeys  = 20
)

// Summary renders arguments for people: top-level keys in order, short
// scalar values shown, long ones cut, secret-looking ones redacted, nested
// values described by size only.
func Summary(args map[string]any) string {
	keys := make([]string, 0, len(args))
	for k := range args {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, min(len(keys), maxKeys)+1)
	for _, k := range keys[:min(len(keys), maxKeys)] {
		parts = append(parts, fmt.Sprintf("%s=%s", cut(k, 40), summarize(k, args[k])))
	}
	if len(keys) > maxKeys {
		parts = append(parts, fmt.Sprintf("…(%d more)", len(keys)-maxKeys))
	}
	return strings.Join(parts, " ")
}

func summarize(key string, v any) string {
	if secretKey(key) {
		return "[redacted]"
	}
	switch v := v.(type) {
	case nil:
		return "null"
	case string:
		// Only the part shown can show a secret; matching just that keeps a
		// large value (a file's content) from costing a scan of all of it.
		shown := cut(v, maxShown)
		if looksSecret(shown) {
			return "[redacted]"
		}
		return fmt.Sprintf("%q", shown)
	case bool, float64, int, int64:
		return fmt.Sprint(v)
	case []any:
		return fmt.Sprintf("[%d items]", len(v))
	case map[string]any:
		return fmt.Sprintf("{%d keys}", len(v))
	default:
		return "[value]"
	}
}

// cut keeps the first n characters of s and says how long it was.
func cut(s string, n int) string {
	if len(s) <= n { // no more bytes than n: no more characters either
		return s
	}
	count := utf8.RuneCountInString(s)
	if count <= n {
		return s
	}
	end := 0
	for range n {
		_, size := utf8.DecodeRuneInString(s[end:])
		end += size
	}
	return s[:end] + fmt.Sprintf("…(%d chars)", count)
}
