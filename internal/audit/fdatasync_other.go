//go:build !linux

package audit

import "os"

// fdatasync flushes f; where there is no fdatasync, with a full sync.
func fdatasync(f *os.File) error { return f.Sync() }
