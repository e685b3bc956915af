package sandbox

import (
	"fmt"
	"os/exec"
)

// bwrapPath finds bubblewrap.
func bwrapPath() (string, error) {
	p, err := exec.LookPath("bwrap")
	if err != nil {
		return "", fmt.Errorf("%w: bubblewrap is not installed (Debian/Ubuntu: sudo apt install bubblewrap)", ErrUnavailable)
	}
	return p, nil
}
