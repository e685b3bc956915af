package main

import "golang.org/x/sys/unix"

// harden makes this process non-dumpable: its /proc files (environ with
// AGENTVAULT_PASSPHRASE, mem, fds) then belong to root, so no other process
// of the user — an upstream server AgentVault started among them — can read
// them, and no core dump holds its secrets.
func harden() error { return unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0) }
