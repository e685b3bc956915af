//go:build unix

package control

import "syscall"

// umask sets the process umask and returns the previous one, so the socket
// is created private instead of being chmod-ed after a window.
func umask(m int) int { return syscall.Umask(m) }
