package control

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
)

// Peer is the process at the other end of the control socket, as the
// kernel reports it.
type Peer struct {
	UID int
	PID int
	// Program is the peer's executable where the system tells it ("" if
	// not).
	Program string
}

// String describes the peer for the audit log.
func (p Peer) String() string {
	s := fmt.Sprintf("uid %d pid %d", p.UID, p.PID)
	if p.Program != "" {
		s += " " + p.Program
	}
	return s
}

// Refusals of a control connection the CLI reports as they are, rather
// than as AgentVault not running.
var (
	// errForeignPeer refuses a connection from or to another user's process.
	errForeignPeer = errors.New("the process at the other end of the control socket belongs to another user")
	// errNoPeerCredentials: this system cannot say who is at the other end.
	errNoPeerCredentials = errors.New("this system cannot tell who is at the other end of the control socket, so the CLI cannot drive a running AgentVault here: use its window")
)

// trusted reads c's peer and checks that it runs as this process's user.
func trusted(c net.Conn) (Peer, error) {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return Peer{}, errors.New("the control connection is not a Unix socket")
	}
	p, err := peerOf(uc)
	if errors.Is(err, errNoPeerCredentials) {
		return Peer{}, err
	}
	if err != nil {
		return Peer{}, fmt.Errorf("checking the control socket's peer: %w", err)
	}
	if p.UID != os.Getuid() {
		return p, errForeignPeer
	}
	return p, nil
}

// peerListener accepts only connections from processes of this user.
type peerListener struct{ net.Listener }

func (l peerListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		p, err := trusted(c)
		if err != nil {
			c.Close()
			continue
		}
		return &peerConn{Conn: c, peer: p}, nil
	}
}

// peerConn is an accepted connection with its checked peer.
type peerConn struct {
	net.Conn
	peer Peer
}

type peerKey struct{}

// withPeer is the http.Server's ConnContext: it makes the connection's
// peer available to handlers.
func withPeer(ctx context.Context, c net.Conn) context.Context {
	if pc, ok := c.(*peerConn); ok {
		return context.WithValue(ctx, peerKey{}, pc.peer)
	}
	return ctx
}

// peerFrom describes the peer of the request ctx belongs to.
func peerFrom(ctx context.Context) string {
	if p, ok := ctx.Value(peerKey{}).(Peer); ok {
		return p.String()
	}
	return ""
}
