//go:build !linux

package audit

import (
	"os"
	"runtime"
)

// fdatasync flushes f; where there is no fdatasync, with a full sync.
func fdatasync(f *os.File) error { return f.Sync() }

// syncDir makes the names in dir durable; Windows cannot sync a directory
// (and makes new names durable with the file's own sync).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
