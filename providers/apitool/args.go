package apitool

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"sync"

	"github.com/mark3labs/mcp-go/mcp"
)

// Args are a call's arguments, checked against the tool's input schema.
type Args struct{ m map[string]any }

// Parse checks raw (the decoded JSON arguments) against schema: every name
// must be a declared property, spelled exactly; values must have the
// declared type; required properties must be present.
func Parse(schema mcp.ToolInputSchema, raw any) (Args, error) {
	m, ok := raw.(map[string]any)
	if raw == nil {
		m, ok = map[string]any{}, true
	}
	if !ok {
		return Args{}, errors.New("invalid arguments: want an object")
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		prop, ok := schema.Properties[k].(map[string]any)
		if !ok {
			return Args{}, fmt.Errorf("invalid arguments: unknown argument %q (arguments: %v)", k, declared(schema))
		}
		if err := checkType(prop, m[k]); err != nil {
			return Args{}, fmt.Errorf("invalid arguments: %s: %v", k, err)
		}
	}
	for _, k := range schema.Required {
		if _, ok := m[k]; !ok {
			return Args{}, fmt.Errorf("invalid arguments: %s is required", k)
		}
	}
	return Args{m: m}, nil
}

func declared(schema mcp.ToolInputSchema) []string {
	out := make([]string, 0, len(schema.Properties))
	for k := range schema.Properties {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var patterns sync.Map // schema pattern → *regexp.Regexp

// compiled returns the compiled schema pattern; tool definitions are code,
// so a bad pattern is a programming error caught by every test.
func compiled(pat string) *regexp.Regexp {
	if re, ok := patterns.Load(pat); ok {
		return re.(*regexp.Regexp)
	}
	re := regexp.MustCompile(pat)
	patterns.Store(pat, re)
	return re
}

func checkType(prop map[string]any, v any) error {
	typ, _ := prop["type"].(string)
	switch typ {
	case "string":
		s, ok := v.(string)
		if !ok {
			return errors.New("want a string")
		}
		if enum, ok := prop["enum"].([]string); ok && !slices.Contains(enum, s) {
			return fmt.Errorf("want one of %v", enum)
		}
		if n, ok := prop["minLength"].(int); ok && len(s) < n {
			return fmt.Errorf("want at least %d characters", n)
		}
		if pat, ok := prop["pattern"].(string); ok && !compiled(pat).MatchString(s) {
			return fmt.Errorf("%q does not match %s", Truncate(s, 100), pat)
		}
	case "integer":
		f, ok := v.(float64)
		if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return errors.New("want an integer")
		}
	case "number":
		if _, ok := v.(float64); !ok {
			return errors.New("want a number")
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return errors.New("want true or false")
		}
	case "array":
		list, ok := v.([]any)
		if !ok {
			return errors.New("want an array")
		}
		for _, item := range list {
			if _, ok := item.(string); !ok {
				return errors.New("want an array of strings")
			}
		}
	default:
		return fmt.Errorf("unsupported schema type %q", typ)
	}
	return nil
}

// Has reports whether the call gave name.
func (a Args) Has(name string) bool { _, ok := a.m[name]; return ok }

// String returns a string argument, "" when absent.
func (a Args) String(name string) string { s, _ := a.m[name].(string); return s }

// Bool returns a boolean argument, false when absent.
func (a Args) Bool(name string) bool { b, _ := a.m[name].(bool); return b }

// Int returns an integer argument, def when absent, clamped to [1, limit]
// when limit > 0 (page sizes and counts).
func (a Args) Int(name string, def, limit int) int {
	f, ok := a.m[name].(float64)
	if !ok {
		return def
	}
	n := int(f)
	if limit > 0 {
		n = min(max(n, 1), limit)
	}
	return n
}

// Strings returns a string-array argument, nil when absent.
func (a Args) Strings(name string) []string {
	list, _ := a.m[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		out = append(out, v.(string)) // checked by Parse
	}
	if list == nil {
		return nil
	}
	return out
}
