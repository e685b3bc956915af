package bench

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
)

// cpuShare adds up the machine's busy and total CPU time over the periods
// it watches, from /proc/stat (Linux; elsewhere it stays unknown).
type cpuShare struct{ busyTicks, totalTicks uint64 }

// during runs f and counts the CPU time that passed meanwhile.
func (c *cpuShare) during(f func() (int, error)) (int, error) {
	busy0, total0, ok0 := cpuTicks()
	n, err := f()
	busy1, total1, ok1 := cpuTicks()
	if ok0 && ok1 {
		c.busyTicks += busy1 - busy0
		c.totalTicks += total1 - total0
	}
	return n, err
}

// busy is the busy share of the time watched, or -1 if unknown.
func (c *cpuShare) busy() float64 {
	if c.totalTicks == 0 {
		return -1
	}
	return float64(c.busyTicks) / float64(c.totalTicks)
}

// cpuTicks reads the machine's busy and total CPU ticks: user, nice,
// system, idle, iowait, irq, softirq and steal (guest time, after them, is
// already counted in user and nice). Idle and I/O wait are not busy: a core
// waiting for a disk flush could have run something.
func cpuTicks() (busy, total uint64, ok bool) {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:9] {
		v, err := strconv.ParseUint(f, 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total, true
}

func (r rates) cpuColumn() string {
	if r.directCPU < 0 || r.vaultCPU < 0 {
		return ""
	}
	return fmt.Sprintf("   CPU busy %.0f%% / %.0f%%", 100*r.directCPU, 100*r.vaultCPU)
}

// memoryJournal measures 8 sessions again with the vault's data, and so its
// audit journal, in memory (tmpfs, where fdatasync returns at once): what
// the vault costs apart from waiting for the disk. A reference for reading
// the figures, not a way to run AgentVault. Skipped without a tmpfs.
func memoryJournal(ctx context.Context, cfg Config, w io.Writer) error {
	dir := tmpfsDir()
	if dir == "" {
		return nil
	}
	e, err := newEnv(ctx, dir)
	if err != nil {
		return err
	}
	defer e.close()
	r, err := e.throughputs(ctx, 8, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%-34s %10.0f %10.0f %9.2fx%s\n", "  same, audit journal on tmpfs", r.direct, r.vault, r.vault/r.direct, r.cpuColumn())
	fmt.Fprintln(w, "  (reference only: no disk flush, so not durable; shows what the vault costs apart from the disk)")
	return nil
}
