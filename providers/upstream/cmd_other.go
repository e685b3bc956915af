//go:build !linux

package upstream

import (
	"context"
	"os/exec"
)

func newCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, name, args...)
}
