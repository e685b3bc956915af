package configedit

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"

	"github.com/BurntSushi/toml"
)

// tomlDoc is a TOML document as text. Its entries are tables, [a.b] with
// their subtables [a.b.c], edited as whole lines; everything else stays as
// written.
type tomlDoc struct{ text []byte }

func parseTOML(data []byte) (*tomlDoc, error) {
	var v map[string]any
	if err := toml.Unmarshal(data, &v); err != nil {
		return nil, err
	}
	return &tomlDoc{text: data}, nil
}

func (t *tomlDoc) bytes() []byte { return t.text }

// header matches a table header line and captures its key.
var header = regexp.MustCompile(`^\s*\[\[?\s*([^\]]*?)\s*\]\]?\s*(#.*)?$`)

// tableKey splits a dotted TOML key into its parts; nil if it is not one.
func tableKey(s string) []string {
	var parts []string
	for {
		s = strings.TrimSpace(s)
		if s == "" {
			return parts
		}
		var part string
		switch s[0] {
		case '"':
			end := 1
			for end < len(s) && s[end] != '"' {
				if s[end] == '\\' {
					end++
				}
				end++
			}
			if end >= len(s) || json.Unmarshal([]byte(s[:end+1]), &part) != nil {
				return nil
			}
			s = s[end+1:]
		case '\'':
			end := strings.IndexByte(s[1:], '\'') + 1
			if end == 0 {
				return nil
			}
			part, s = s[1:end], s[end+1:]
		default:
			end := strings.IndexByte(s, '.')
			if end < 0 {
				end = len(s)
			}
			part, s = strings.TrimSpace(s[:end]), s[end:]
		}
		parts = append(parts, part)
		if s = strings.TrimSpace(s); s != "" {
			if s[0] != '.' {
				return nil
			}
			s = s[1:]
		}
	}
}

// segments returns the line ranges [start, end) of the tables at path and
// their subtables; end excludes the blank lines before the next table.
func (t *tomlDoc) segments(path []string) [][2]int {
	lines := strings.SplitAfter(string(t.text), "\n")
	var out [][2]int
	start := -1
	closeAt := func(i int) {
		end := i
		for end > start+1 && strings.TrimSpace(lines[end-1]) == "" {
			end--
		}
		out = append(out, [2]int{start, end})
		start = -1
	}
	for i, line := range lines {
		m := header.FindStringSubmatch(strings.TrimRight(line, "\r\n"))
		if m == nil {
			continue
		}
		key := tableKey(m[1])
		inside := len(key) >= len(path) && slices.Equal(key[:len(path)], path)
		switch {
		case inside && start < 0:
			start = i
		case !inside && start >= 0:
			closeAt(i)
		}
	}
	if start >= 0 {
		closeAt(len(lines))
	}
	return out
}

func (t *tomlDoc) lines() []string { return strings.SplitAfter(string(t.text), "\n") }

func (t *tomlDoc) entry(path []string) (string, bool) {
	segs := t.segments(path)
	if len(segs) == 0 {
		return "", false
	}
	lines := t.lines()
	var b strings.Builder
	for i, s := range segs {
		if i > 0 {
			b.WriteString("\n")
		}
		b.WriteString(strings.Join(lines[s[0]:s[1]], ""))
	}
	return strings.TrimRight(b.String(), "\n") + "\n", true
}

func (t *tomlDoc) entries(path []string) (map[string]json.RawMessage, error) {
	var doc map[string]any
	if err := toml.Unmarshal(t.text, &doc); err != nil {
		return nil, err
	}
	var v any = doc
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil, nil
		}
		v = m[k]
	}
	members, _ := v.(map[string]any)
	out := make(map[string]json.RawMessage, len(members))
	for name, val := range members {
		raw, err := json.Marshal(val)
		if err != nil {
			return nil, err
		}
		out[name] = raw
	}
	return out, nil
}

func (t *tomlDoc) remove(path []string) error {
	segs := t.segments(path)
	if len(segs) == 0 {
		return fmt.Errorf("%s is not a table AgentVault can edit: change it by hand", strings.Join(path, "."))
	}
	lines := t.lines()
	drop := make([]bool, len(lines))
	for _, s := range segs {
		end := s[1]
		for end < len(lines) && strings.TrimSpace(lines[end]) == "" { // and the blank lines after it
			end++
		}
		for i := s[0]; i < end; i++ {
			drop[i] = true
		}
	}
	var b strings.Builder
	for i, l := range lines {
		if !drop[i] {
			b.WriteString(l)
		}
	}
	t.text = []byte(b.String())
	return nil
}

func (t *tomlDoc) set(path []string, text string) error {
	if _, ok := t.entry(path); ok {
		if err := t.remove(path); err != nil {
			return err
		}
	}
	var v map[string]any
	if err := toml.Unmarshal([]byte(text), &v); err != nil {
		return fmt.Errorf("the entry is not TOML: %w", err)
	}
	s := string(t.text)
	switch {
	case strings.TrimSpace(s) == "":
		s = ""
	case !strings.HasSuffix(s, "\n"):
		s += "\n\n"
	case !strings.HasSuffix(s, "\n\n"):
		s += "\n"
	}
	t.text = []byte(s + strings.TrimRight(text, "\n") + "\n")
	return nil
}

// formatTOML renders v, an object, as the table at path.
func formatTOML(path []string, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return "", errors.New("a TOML entry must be an object")
	}
	keys := make([]string, len(path))
	for i, k := range path {
		keys[i] = tomlKey(k)
	}
	var b strings.Builder
	b.WriteString("[" + strings.Join(keys, ".") + "]\n")
	for _, k := range slices.Sorted(maps.Keys(m)) {
		b.WriteString(tomlKey(k) + " = " + tomlValue(m[k]) + "\n")
	}
	return b.String(), nil
}

var bareKey = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func tomlKey(k string) string {
	if bareKey.MatchString(k) {
		return k
	}
	return tomlString(k)
}

// tomlString is s as a basic string; JSON's escapes are TOML's.
func tomlString(s string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.Encode(s)
	return strings.TrimSuffix(b.String(), "\n")
}

func tomlValue(v any) string {
	switch x := v.(type) {
	case string:
		return tomlString(x)
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = tomlValue(e)
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case map[string]any:
		parts := make([]string, 0, len(x))
		for _, k := range slices.Sorted(maps.Keys(x)) {
			parts = append(parts, tomlKey(k)+" = "+tomlValue(x[k]))
		}
		return "{ " + strings.Join(parts, ", ") + " }"
	default:
		raw, _ := json.Marshal(x)
		return string(raw)
	}
}

func decodeTOML(text string) (any, error) {
	var v map[string]any
	err := toml.Unmarshal([]byte(text), &v)
	return v, err
}
