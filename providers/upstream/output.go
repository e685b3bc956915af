package upstream

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"os/exec"
	"strings"
	"sync"
)

// startWitness watches a server start, to say why it failed: for a command,
// how the process exited and the last lines it wrote; for an address, the
// last answer that was not MCP (an error status, a web page).
type startWitness struct {
	process *exec.Cmd
	output  *outputTail

	mu     sync.Mutex
	status int
	ctype  string
}

// explain turns the error of a failed initialize into the reason.
func (w *startWitness) explain(err error) error {
	if w.process != nil && w.process.ProcessState != nil {
		err = fmt.Errorf("the command exited (%s) instead of answering", w.process.ProcessState)
	}
	var unreachable *url.Error
	if errors.As(err, &unreachable) {
		err = fmt.Errorf("cannot reach the server: %w", unreachable.Err) // without the address, which may hold a key
	}
	w.mu.Lock()
	status, ctype := w.status, w.ctype
	w.mu.Unlock()
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		err = fmt.Errorf("the server refused AgentVault (HTTP %d %s): it needs a credential, given as a header", status, http.StatusText(status))
	case status >= 300:
		err = fmt.Errorf("the address answered HTTP %d %s, not MCP", status, http.StatusText(status))
	case ctype == "text/html":
		err = fmt.Errorf("the address answered with a web page (HTTP %d, text/html), not MCP: is it the server's MCP endpoint?", status)
	}
	if w.output != nil {
		if text := w.output.lines(); text != "" {
			err = fmt.Errorf("%w; its last output:\n%s", err, text)
		}
	}
	return err
}

// roundTripper notes the answers of base that are not MCP; MCP answers
// (JSON or an event stream, status 2xx) pass without a lock.
func (w *startWitness) roundTripper(base http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := base.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		ctype, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode >= 300 || (ctype != "" && ctype != "application/json" && ctype != "text/event-stream") {
			w.mu.Lock()
			w.status, w.ctype = resp.StatusCode, ctype
			w.mu.Unlock()
		}
		return resp, nil
	})
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// outputTail is where a server's stderr goes: each write is logged (at
// debug level), and the last few lines are kept to say why the server
// failed to start. It is the process's Stderr, so waiting for the process
// also waits until everything it wrote has arrived.
type outputTail struct {
	log *slog.Logger

	mu   sync.Mutex
	last []byte // at most tailBytes
}

// tailBytes and tailLines bound what an error repeats of a server's output.
const (
	tailBytes = 4096
	tailLines = 8
)

func (o *outputTail) Write(b []byte) (int, error) {
	o.log.Debug("service stderr", "text", string(b))
	o.mu.Lock()
	o.last = append(o.last, b...)
	if extra := len(o.last) - tailBytes; extra > 0 {
		o.last = append(o.last[:0], o.last[extra:]...)
	}
	o.mu.Unlock()
	return len(b), nil
}

// lines returns the last lines the server wrote, trimmed; "" if none.
func (o *outputTail) lines() string {
	o.mu.Lock()
	text := string(bytes.TrimSpace(o.last))
	o.mu.Unlock()
	if text == "" {
		return ""
	}
	all := strings.Split(text, "\n")
	return strings.Join(all[max(0, len(all)-tailLines):], "\n")
}
