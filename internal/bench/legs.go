package bench

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// stamps records when a handler last began and ended a request. Calls are
// split with them at concurrency 1 only; atomics keep the other
// measurements, which share the handlers, free of data races.
type stamps struct{ in, out atomic.Int64 }

func (s *stamps) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.in.Store(time.Now().UnixNano())
		h.ServeHTTP(w, r)
		s.out.Store(time.Now().UnixNano())
	})
}

// legs collects, call by call, the time between consecutive events of a
// call through a chain of handlers (outermost first): its start, each
// handler's start, each handler's end, innermost first, and its end.
type legs struct {
	chain []*stamps
	parts []samples
}

func newLegs(chain ...*stamps) *legs {
	return &legs{chain: chain, parts: make([]samples, 2*len(chain)+1)}
}

// add splits one call that ran from start to end.
func (l *legs) add(start, end time.Time) {
	events := []int64{start.UnixNano()}
	for _, s := range l.chain {
		events = append(events, s.in.Load())
	}
	for i := len(l.chain) - 1; i >= 0; i-- {
		events = append(events, l.chain[i].out.Load())
	}
	events = append(events, end.UnixNano())
	for i := range l.parts {
		l.parts[i] = append(l.parts[i], time.Duration(events[i+1]-events[i]))
	}
}

// print writes the p50 of each part, named by names.
func (l *legs) print(w io.Writer, label string, names ...string) {
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %s", n, us(l.parts[i].p(50)))
	}
	fmt.Fprintf(w, "    %-9s %s\n", label, strings.Join(parts, " · "))
}
