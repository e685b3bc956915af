//go:build !linux && !darwin

package control

import "net"

// peerOf fails where the system cannot say who is at the other end of a
// socket: the control socket then refuses every connection (fail closed),
// and the CLI says so.
func peerOf(*net.UnixConn) (Peer, error) { return Peer{}, errNoPeerCredentials }
