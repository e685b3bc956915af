// Package suggest finds what a person most likely meant by a name they
// mistyped: a command, a flag, a tool. It must never guess when nothing is
// close: no suggestion is better than a wrong one.
package suggest

import (
	"slices"
	"strings"
)

// Closest returns up to n candidates close enough to typed to be typos of
// it — a few letters off, or typed cut short — the closest first.
func Closest(typed string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	limit := len(typed)/2 + 2
	var found []scored
	t := strings.ToLower(typed)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		switch d := distance(t, lc); {
		case d < limit:
			found = append(found, scored{c, d})
		case len(t) >= 3 && strings.HasPrefix(lc, t):
			found = append(found, scored{c, limit}) // after every typo
		}
	}
	slices.SortStableFunc(found, func(a, b scored) int { return a.d - b.d })
	var out []string
	for _, f := range found[:min(n, len(found))] {
		out = append(out, f.name)
	}
	return out
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
