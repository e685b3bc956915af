package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/agentvault/agentvault/internal/cli"
	"github.com/agentvault/agentvault/internal/control"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/notify"
	"github.com/agentvault/agentvault/internal/serving"
	"github.com/agentvault/agentvault/internal/store"
)

// serve runs the MCP server and the control socket until ctx ends.
func serve(ctx context.Context, dir, listen string, stdout, stderr io.Writer) error {
	logger, closeLog, err := newLogger(dir, stderr)
	if err != nil {
		return err
	}
	defer closeLog()
	s, err := startServer(dir, listen, stdout, logger)
	if err != nil {
		return err
	}
	return s.wait(ctx)
}

// newLogger logs to stderr and to the data folder's log file, which
// `agentvault logs` reads (a desktop app's stderr is seen by no one).
func newLogger(dir string, stderr io.Writer) (*slog.Logger, func() error, error) {
	file, err := cli.LogWriter(dir)
	if err != nil {
		return nil, nil, err
	}
	h := slog.NewTextHandler(io.MultiWriter(stderr, file), &slog.HandlerOptions{Level: slog.LevelInfo})
	return slog.New(h), file.Close, nil
}

// instance is a running AgentVault: the core, its MCP listener, its control
// socket and its approval channels.
type instance struct {
	co       *core.Core
	http     *http.Server
	logger   *slog.Logger
	notifier *notify.Channel        // desktop notifications with buttons; nil: off
	window   atomic.Pointer[func()] // opens the desktop app's window; nil: headless
	cleanup  []func()
	failed   chan error // the listener or the control socket stopped
	cancel   context.CancelFunc
}

// startServer opens the data folder and starts serving on listen.
func startServer(dir, listen string, stdout io.Writer, logger *slog.Logger) (_ *instance, err error) {
	keys, err := cli.Secrets(dir)
	if err != nil {
		return nil, err
	}
	co, err := core.Open(core.Config{DataDir: dir, LockTimeout: time.Second, Logger: logger, Secrets: keys, TokenFiles: cli.Passphrase() != ""})
	if errors.Is(err, store.ErrLocked) {
		return nil, control.AlreadyRunning(dir)
	}
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &instance{co: co, logger: logger, failed: make(chan error, 2), cancel: cancel}
	s.cleanup = append(s.cleanup, func() { co.Close() })
	defer func() {
		if err != nil {
			s.close()
		}
	}()
	if ch, stop := startNotifications(co, logger); ch != nil {
		s.notifier = ch
		s.cleanup = append(s.cleanup, stop)
	}
	go co.StartPhoneApprovals(ctx) // asks the tenant over the network: off the start-up path

	ln, err := listenLoopback(listen)
	if err != nil {
		return nil, err
	}
	addr := ln.Addr().String()
	if err := co.SetListen(addr); err != nil {
		ln.Close()
		return nil, err
	}
	removeRunInfo, err := control.WriteRunInfo(dir, addr)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.cleanup = append(s.cleanup, removeRunInfo)

	go func() { s.failed <- control.Serve(ctx, control.SocketPath(dir), co, s.raiseWindow) }()
	srv, err := serving.New(ctx, co)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.cleanup = append(s.cleanup, srv.Close)
	s.http = &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ErrorLog: slog.NewLogLogger(co.Logger().Handler(), slog.LevelWarn)}
	go func() { s.failed <- s.http.Serve(ln) }()
	// What starting allocated (package initialisation, the store, the
	// journal) is garbage now: hand it back to the system at once instead of
	// keeping it resident until the scavenger gets to it.
	debug.FreeOSMemory()
	fmt.Fprintf(stdout, "AgentVault is serving on http://%s (data: %s)\n", addr, dir)
	return s, nil
}

// raiseWindow opens the desktop app's window, for a second start; a
// headless server has none.
func (s *instance) raiseWindow() error {
	if show := s.window.Load(); show != nil {
		(*show)()
		return nil
	}
	return control.ErrNoWindow
}

// wait serves until ctx ends or serving fails, then shuts everything down.
func (s *instance) wait(ctx context.Context) error {
	var err error
	select {
	case <-ctx.Done():
	case err = <-s.failed:
	}
	s.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// close stops serving and releases the data folder, in reverse start order.
func (s *instance) close() {
	s.cancel()
	if s.http != nil {
		shutdown, done := context.WithTimeout(context.Background(), 5*time.Second)
		s.http.Shutdown(shutdown)
		done()
	}
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
}

// startNotifications adds the desktop notification channel to the approval
// broker when a session bus with a notification server is there, and
// returns it when it has buttons. Without one, approvals still work through
// the queue and the CLI.
func startNotifications(co *core.Core, logger *slog.Logger) (ch *notify.Channel, stop func()) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		// No buttons through beeep there: announce, and answer in the app.
		co.Broker().AddChannel(notify.Plain{Logger: logger})
		return nil, nil
	}
	conn, err := notify.SessionBus()
	if err != nil {
		logger.Info("desktop notifications off", "reason", err)
		return nil, nil
	}
	ch, err = notify.New(conn, logger)
	if errors.Is(err, notify.ErrNoActions) {
		// Announce approvals anyway; the answer comes from another channel.
		co.Broker().AddChannel(notify.Plain{Logger: logger})
		logger.Info("desktop notifications without buttons: answer in the app or with `agentvault approvals`")
		conn.Close()
		return nil, nil
	}
	if err != nil {
		logger.Info("desktop notifications off", "reason", err)
		conn.Close()
		return nil, nil
	}
	co.Broker().AddChannel(ch)
	logger.Info("approvals also ask through desktop notifications")
	return ch, func() { ch.Close(); conn.Close() }
}

// listenLoopback listens on addr, which must be a loopback address:
// AgentVault never serves other machines.
func listenLoopback(addr string) (net.Listener, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("--listen %q: %w", addr, err)
	}
	if host == "localhost" {
		host = "127.0.0.1"
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("--listen %q: AgentVault listens on loopback addresses only (127.0.0.1 or [::1])", addr)
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(ip.String(), port))
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %w", addr, err)
	}
	return ln, nil
}
