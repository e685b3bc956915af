package mcpserver

import (
	"sync"
	"time"

	"github.com/agentvault/agentvault/policy"
)

// limiter counts a vault's calls in sliding windows, one per limit key.
type limiter struct {
	mu    sync.Mutex
	calls map[string][]time.Time // key → times of counted calls, oldest first
}

// allow reports whether a call of tool at now fits every limit; if it does
// and count is set, the call is counted; if not, the first exceeded limit
// and when to retry are returned.
func (l *limiter) allow(limits []policy.RateLimit, tool string, now time.Time, count bool) (bool, policy.RateLimit, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.calls == nil {
		l.calls = map[string][]time.Time{}
	}
	var keys []string
	for _, lim := range limits {
		key, ok := lim.Applies(tool)
		if !ok {
			continue
		}
		key += "|" + lim.String()
		window := time.Duration(lim.Window)
		times := l.calls[key]
		i := 0
		for i < len(times) && !times[i].After(now.Add(-window)) {
			i++
		}
		times = times[i:]
		l.calls[key] = times
		if len(times) >= lim.Count {
			return false, lim, times[0].Add(window).Sub(now)
		}
		keys = append(keys, key)
	}
	for _, k := range keys {
		if count {
			l.calls[k] = append(l.calls[k], now)
		}
	}
	return true, policy.RateLimit{}, 0
}
