package jira

import (
	"strings"
)

// restrictJQL limits a JQL query to one project: `project = "KEY" AND
// (<query>)`, with a trailing ORDER BY clause kept outside the parentheses.
//
// A query whose parentheses or quotes do not balance, or whose ORDER BY is
// nested, is refused: it could close the parentheses added here and widen
// the search. The scan follows JQL's quoting only as far as needed for
// that, so the search handler also drops every result outside the project:
// whatever Jira makes of the query, nothing from another project comes
// back.
func restrictJQL(project, jql string) (string, error) {
	at, err := orderByAt(jql)
	if err != nil {
		return "", err
	}
	where, order := strings.TrimSpace(jql[:at]), strings.TrimSpace(jql[at:])
	q := `project = "` + project + `"`
	if where != "" {
		q += " AND (" + where + ")"
	}
	if order != "" {
		q += " " + order
	}
	return q, nil
}

// orderByAt returns where the query's ORDER BY clause starts (len(jql) when
// it has none), checking that quotes and parentheses balance and that the
// clause is not inside parentheses.
func orderByAt(jql string) (int, error) {
	at, depth := -1, 0
	var quote byte // the open quote, 0 outside strings
	for i := 0; i < len(jql); i++ {
		ch := jql[i]
		switch {
		case ch == '\\':
			i++ // an escaped character, inside or outside a string
		case quote != 0:
			if ch == quote {
				quote = 0
			}
		case ch == '"' || ch == '\'':
			quote = ch
		case ch == '(':
			depth++
		case ch == ')':
			depth--
			if depth < 0 {
				return 0, invalid("the JQL query closes a parenthesis it did not open")
			}
		case at < 0 && isOrderBy(jql, i):
			if depth != 0 {
				return 0, invalid("the JQL query has ORDER BY inside parentheses")
			}
			at = i
		}
	}
	switch {
	case quote != 0:
		return 0, invalid("the JQL query has an unterminated string")
	case depth != 0:
		return 0, invalid("the JQL query leaves a parenthesis open")
	case at < 0:
		return len(jql), nil
	}
	return at, nil
}

// isOrderBy reports whether the keywords ORDER BY (any case, any blank
// between them) start at jql[i] as words of their own.
func isOrderBy(jql string, i int) bool {
	if i > 0 && isWordByte(jql[i-1]) {
		return false
	}
	rest, ok := cutFold(jql[i:], "order")
	if !ok {
		return false
	}
	trimmed := strings.TrimLeft(rest, " \t\r\n")
	if len(trimmed) == len(rest) {
		return false
	}
	rest, ok = cutFold(trimmed, "by")
	return ok && (rest == "" || !isWordByte(rest[0]))
}

// cutFold cuts prefix from s, ignoring ASCII case.
func cutFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return s, false
	}
	return s[len(prefix):], true
}

func isWordByte(b byte) bool {
	return b == '_' || b == '.' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}
