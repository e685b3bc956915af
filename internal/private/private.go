// Package private checks that a folder or socket AgentVault trusts belongs
// to the user alone, before anything is read from it or sent to it: the
// data folder holds the database, the audit journal and the control socket,
// and another user who could write there could swap any of them.
//
// A folder passes when its last path component is not a symbolic link
// (parent folders may be, as /home → /var/home), it belongs to the user
// running AgentVault, and neither group nor others may write it. A socket
// passes when it is a socket, belongs to the user, and is open to no one
// else.
//
// It must never create or loosen anything it checks, beyond the data folder it makes 0700.
package private

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ErrNotPrivate is wrapped by every refusal.
var ErrNotPrivate = errors.New("not private")

// Dir makes sure dir exists (creating it and its missing parents with mode
// 0700) and is private to the user.
func Dir(dir string) error {
	fi, err := os.Lstat(dir)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("creating the data folder: %w", err)
		}
		fi, err = os.Lstat(dir)
	}
	if err != nil {
		return err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: the data folder %s is a symbolic link; give the folder it points to instead", ErrNotPrivate, dir)
	case !fi.IsDir():
		return fmt.Errorf("%w: the data folder %s is not a folder", ErrNotPrivate, dir)
	}
	if uid, ok := owner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%w: the data folder %s belongs to user %d, not to you (user %d); use a folder of your own", ErrNotPrivate, dir, uid, os.Getuid())
	}
	if checksModes && fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("%w: other users can write to the data folder %s (mode %04o); fix it with: chmod 700 %s", ErrNotPrivate, dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// Socket checks that the socket at path is the user's own and open to no
// one else.
func Socket(path string) error {
	fi, err := os.Lstat(path)
	if err != nil {
		return err
	}
	if fi.Mode()&fs.ModeSocket == 0 {
		return fmt.Errorf("%w: %s is not a socket", ErrNotPrivate, path)
	}
	if uid, ok := owner(fi); ok && uid != os.Getuid() {
		return fmt.Errorf("%w: the socket %s belongs to user %d, not to you (user %d)", ErrNotPrivate, path, uid, os.Getuid())
	}
	if checksModes && fi.Mode().Perm()&0o077 != 0 {
		return fmt.Errorf("%w: other users can reach the socket %s (mode %04o)", ErrNotPrivate, path, fi.Mode().Perm())
	}
	return nil
}
