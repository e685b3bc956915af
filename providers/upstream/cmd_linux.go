package upstream

import (
	"context"
	"os/exec"
	"syscall"
)

// newCmd starts the process so that the kernel kills it if AgentVault dies,
// even by SIGKILL: no orphaned servers after a crash.
func newCmd(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}
