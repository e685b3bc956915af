// Package loopback receives the redirect that ends an OAuth sign-in in the
// system browser: a one-shot HTTP server on 127.0.0.1 (RFC 8252 §7.3) that
// serves exactly one /callback, checks its state and hands back its query.
// It depends only on the standard library.
//
// It must never listen beyond the loopback interface.
package loopback

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"
)

// Listen opens a listener on 127.0.0.1 on the first free port of ports, or
// on any free port when ports is empty, and returns it with its port.
func Listen(ports []int) (net.Listener, int, error) {
	if len(ports) == 0 {
		ports = []int{0}
	}
	for _, p := range ports {
		ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(p)))
		if err == nil {
			return ln, ln.Addr().(*net.TCPAddr).Port, nil
		}
	}
	return nil, 0, fmt.Errorf("none of the sign-in callback ports %v is free", ports)
}

// RedirectURL is the redirect URI that Await answers on port.
func RedirectURL(port int) string {
	return "http://127.0.0.1:" + strconv.Itoa(port) + "/callback"
}

// State returns a fresh random state value (192 bits, URL-safe).
func State() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// Await serves /callback on ln, calls start (which opens the browser), and
// waits for the first callback or for ctx to end. That first callback
// decides: its query is returned when its state equals state; a wrong state,
// or an error the provider reported (error, error_description), is returned
// as an error. Later callbacks are refused, other paths are not found. The
// browser is shown a short page saying how it went; the server is shut down
// (and ln closed) before Await returns. Which parameter holds the code is the
// caller's business (code, or connect_code for Auth0 Connected Accounts).
func Await(ctx context.Context, ln net.Listener, state string, start func() error) (url.Values, error) {
	if state == "" {
		return nil, errors.New("the sign-in has no state to check")
	}
	type result struct {
		query url.Values
		err   error
	}
	done := make(chan result, 1)
	var served atomic.Bool
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		if !served.CompareAndSwap(false, true) {
			page(w, http.StatusGone, "This sign-in link was already used. Return to AgentVault.")
			return
		}
		q, err := check(r.URL.Query(), state)
		msg := "AgentVault received the sign-in. You can close this tab."
		if err != nil {
			msg = err.Error()
		}
		page(w, http.StatusOK, msg)
		done <- result{q, err}
	})}
	go srv.Serve(ln)
	defer func() {
		// Let the callback page finish before closing: the browser shows it.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}()
	if err := start(); err != nil {
		return nil, err
	}
	select {
	case r := <-done:
		return r.query, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// check returns the callback's query if it carries state and no error.
func check(q url.Values, state string) (url.Values, error) {
	switch {
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(state)) != 1:
		return nil, errors.New("the sign-in callback's state does not match: try again")
	case q.Get("error") != "":
		reason := q.Get("error")
		if d := q.Get("error_description"); d != "" {
			reason += ": " + d
		}
		return nil, fmt.Errorf("the sign-in was refused: %s", reason)
	}
	return q, nil
}

func page(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html><title>AgentVault</title><p>%s</p>", html.EscapeString(msg))
}
