package loopback

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

var browser = &http.Client{Timeout: 5 * time.Second}

// get plays the browser: it follows a redirect to the callback.
func get(t *testing.T, u string) int {
	t.Helper()
	resp, err := browser.Get(u)
	if err != nil {
		t.Errorf("browser: %v", err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestAwait(t *testing.T) {
	const state = "the-state"
	tests := []struct {
		name    string
		query   string
		want    string // the value of the returned "code" or "connect_code"
		wantErr string
	}{
		{name: "ok/code", query: "code=abc&state=the-state", want: "abc"},
		{name: "ok/connect_code", query: "connect_code=xyz&state=the-state", want: "xyz"},
		{name: "fail/wrong state", query: "code=stolen&state=guessed", wantErr: "state does not match"},
		{name: "fail/no state", query: "code=stolen", wantErr: "state does not match"},
		{name: "fail/provider error", query: "error=access_denied&error_description=The+user+said+no&state=the-state", wantErr: "refused: access_denied: The user said no"},
		{name: "fail/provider error without description", query: "error=access_denied&state=the-state", wantErr: "refused: access_denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ln, port, err := Listen(nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
			defer cancel()
			q, err := Await(ctx, ln, state, func() error {
				go get(t, RedirectURL(port)+"?"+tt.query)
				return nil
			})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := q.Get("code") + q.Get("connect_code"); got != tt.want {
				t.Fatalf("got %q, want %q (query %v)", got, tt.want, q)
			}
		})
	}
}

func TestAwaitServesExactlyOneCallback(t *testing.T) {
	ln, port, err := Listen(nil)
	if err != nil {
		t.Fatal(err)
	}
	cb := RedirectURL(port)
	var statuses []int
	q, err := Await(t.Context(), ln, "s", func() error {
		statuses = append(statuses,
			get(t, "http://"+ln.Addr().String()+"/favicon.ico"), // not the callback: does not count
			get(t, cb+"?code=first&state=s"),
			get(t, cb+"?code=second&state=s"),
		)
		return nil
	})
	if err != nil || q.Get("code") != "first" {
		t.Fatalf("Await = %v, %v; want the first callback", q, err)
	}
	if want := []int{http.StatusNotFound, http.StatusOK, http.StatusGone}; !slices.Equal(statuses, want) {
		t.Fatalf("statuses %v, want %v", statuses, want)
	}
	if _, err := browser.Get(cb + "?code=third&state=s"); err == nil {
		t.Fatal("the server still answers after Await returned")
	}
}

func TestAwaitWrongStateEndsTheSignIn(t *testing.T) {
	ln, port, err := Listen(nil)
	if err != nil {
		t.Fatal(err)
	}
	var second int
	_, err = Await(t.Context(), ln, "s", func() error {
		get(t, RedirectURL(port)+"?code=forged&state=guessed")
		second = get(t, RedirectURL(port)+"?code=real&state=s")
		return nil
	})
	if err == nil || !strings.Contains(err.Error(), "state does not match") {
		t.Fatalf("err = %v, want a state mismatch", err)
	}
	if second != http.StatusGone {
		t.Fatalf("a callback after the forged one got %d, want %d", second, http.StatusGone)
	}
}

func TestAwaitStopsWithTheContext(t *testing.T) {
	ln, _, err := Listen(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	_, err = Await(ctx, ln, "s", func() error { cancel(); return nil })
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestAwaitReportsAFailedStart(t *testing.T) {
	ln, _, err := Listen(nil)
	if err != nil {
		t.Fatal(err)
	}
	boom := errors.New("no browser")
	if _, err := Await(t.Context(), ln, "s", func() error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want %v", err, boom)
	}
}

func TestAwaitRefusesAnEmptyState(t *testing.T) {
	ln, _, err := Listen(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	if _, err := Await(t.Context(), ln, "", func() error { return nil }); err == nil {
		t.Fatal("Await accepted an empty state")
	}
}

func TestListenSkipsBusyPorts(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port
	free, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	freePort := free.Addr().(*net.TCPAddr).Port
	free.Close()

	ln, port, err := Listen([]int{busyPort, freePort})
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	if port != freePort {
		t.Fatalf("port %d, want %d", port, freePort)
	}
	if _, _, err := Listen([]int{busyPort}); err == nil {
		t.Fatal("Listen succeeded on a busy port")
	}
}

func TestRedirectURLIsLoopback(t *testing.T) {
	u, err := url.Parse(RedirectURL(18484))
	if err != nil || u.Scheme != "http" || u.Host != "127.0.0.1:18484" || u.Path != "/callback" {
		t.Fatalf("RedirectURL = %v, %v", u, err)
	}
}

func TestStateIsRandom(t *testing.T) {
	a, b := State(), State()
	if a == b || len(a) != 32 {
		t.Fatalf("State() = %q, %q", a, b)
	}
}
