//go:build unix

package upstream

import "syscall"

// errNotDir is what Lstat says of a path under a file, which cannot exist.
var errNotDir = syscall.ENOTDIR
