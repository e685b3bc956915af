//go:build !linux && !darwin

package control

import (
	"errors"
	"net"
)

// peerOf fails where the system cannot say who is at the other end of a
// socket: the control socket then refuses every connection (fail closed),
// and the CLI says so.
func peerOf(*net.UnixConn) (Peer, error) {
	return Peer{}, errors.New("this system cannot tell who is at the other end of the control socket")
}
