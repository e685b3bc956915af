package upstream

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/agentvault/agentvault/providers"
)

var _ providers.PathResolving = (*Provider)(nil)

// Local implements providers.PathResolving: a stdio server runs on this
// machine and opens what a path leads to; an HTTP server's paths are its own.
func (p *Provider) Local() bool { return len(p.cfg.Command) > 0 }

// ResolvePath implements providers.PathResolving.
func (p *Provider) ResolvePath(path string) (string, error) { return Resolve(path) }

// Resolve returns where the absolute, clean path leads on this machine:
// its longest existing prefix with every symbolic link followed, the rest
// as written.
func Resolve(path string) (string, error) { return resolve(path, 0) }

// maxLinks bounds the symbolic links followed for one path, as the kernel
// does (ELOOP).
const maxLinks = 40

// resolve returns where the absolute, clean path leads: its longest
// existing prefix with every symbolic link followed — including a dangling
// last one, which a write would create the file behind — and the rest
// joined as written (the rest has no "..": the path is clean).
func resolve(path string, links int) (string, error) {
	if links > maxLinks {
		return "", errors.New("too many symbolic links")
	}
	prefix, rest := path, ""
	for {
		_, err := os.Lstat(prefix)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, errNotDir) {
			return "", err
		}
		parent := filepath.Dir(prefix)
		if parent == prefix {
			break
		}
		rest = filepath.Join(filepath.Base(prefix), rest)
		prefix = parent
	}
	real, err := filepath.EvalSymlinks(prefix)
	if err != nil {
		// The prefix is a link whose target does not exist yet: follow it
		// by hand, from its folder's real place.
		target, rerr := os.Readlink(prefix)
		if rerr != nil {
			return "", err
		}
		dir, derr := filepath.EvalSymlinks(filepath.Dir(prefix))
		if derr != nil {
			return "", derr
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(dir, target)
		}
		if real, err = resolve(filepath.Clean(target), links+1); err != nil {
			return "", err
		}
	}
	return filepath.Join(real, rest), nil
}
