package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RateLimit caps calls: at most Count calls within any Window (a sliding
// window). Pattern "*" counts every call of the vault together; any other
// pattern counts each matching tool on its own.
type RateLimit struct {
	Pattern string `json:"pattern"`
	Count   int    `json:"count"`
	// Window is a duration in the form "1m0s".
	Window Duration `json:"window"`
}

// Duration is a time.Duration that reads and writes as "1m0s" in JSON.
type Duration time.Duration

// MarshalJSON implements json.Marshaler.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(time.Duration(d).String())), nil
}

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	s, err := strconv.Unquote(string(b))
	if err != nil {
		return fmt.Errorf("duration must be a string like \"1m\"")
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

var windows = map[string]time.Duration{
	"s": time.Second, "sec": time.Second, "second": time.Second,
	"m": time.Minute, "min": time.Minute, "minute": time.Minute,
	"h": time.Hour, "hour": time.Hour,
	"d": 24 * time.Hour, "day": 24 * time.Hour,
}

// maxLimitCount bounds a limit so its sliding window stays small in memory.
const maxLimitCount = 100000

// ParseRateLimit reads "COUNT/UNIT" (60/min, 500/day, 10/s, 100/hour) for a
// tool pattern.
func ParseRateLimit(pattern, spec string) (RateLimit, error) {
	if pattern != "*" {
		if err := ValidatePattern(pattern); err != nil {
			return RateLimit{}, err
		}
	}
	n, unit, ok := strings.Cut(spec, "/")
	count, err := strconv.Atoi(n)
	window, known := windows[unit]
	if !ok || err != nil || !known || count < 1 || count > maxLimitCount {
		return RateLimit{}, fmt.Errorf("rate limit %q: want COUNT/UNIT with COUNT 1-%d and UNIT s, min, hour or day (e.g. 60/min)", spec, maxLimitCount)
	}
	return RateLimit{Pattern: pattern, Count: count, Window: Duration(window)}, nil
}

// String renders a limit as ParseRateLimit reads it.
func (l RateLimit) String() string {
	unit := map[time.Duration]string{time.Second: "s", time.Minute: "min", time.Hour: "hour", 24 * time.Hour: "day"}[time.Duration(l.Window)]
	if unit == "" {
		return fmt.Sprintf("%d per %s", l.Count, time.Duration(l.Window))
	}
	return fmt.Sprintf("%d/%s", l.Count, unit)
}

// Applies reports whether the limit counts calls of tool, and under which
// key: calls with the same key share one window.
func (l RateLimit) Applies(tool string) (key string, ok bool) {
	if l.Pattern == "*" {
		return "*", true
	}
	if Matches(l.Pattern, tool) {
		return l.Pattern + "|" + tool, true
	}
	return "", false
}
