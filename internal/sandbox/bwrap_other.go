//go:build !linux

package sandbox

import (
	"fmt"
	"runtime"
)

// bwrapPath: there is no sandbox here yet.
func bwrapPath() (string, error) {
	return "", fmt.Errorf("%w on %s yet: only Linux has one (bubblewrap)", ErrUnavailable, runtime.GOOS)
}
