package main

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/agentvault/agentvault/internal/bench"
)

func cmdBench(args []string, stdout io.Writer) error {
	c := newCommand("bench", false)
	rounds := c.fs.Int("rounds", 5, "interleaved rounds of direct and via-vault calls")
	calls := c.fs.Int("calls", 400, "calls per mode per round")
	duration := c.fs.Duration("duration", 3*time.Second, "length of each throughput measurement (direct and via the vault each), split over the rounds")
	if _, err := c.parse(args, 0, "[--rounds N] [--calls N] [--duration D]"); err != nil {
		return err
	}
	if *rounds < 1 || *calls < 10 || *duration < 100*time.Millisecond {
		return usageError{"bench needs --rounds ≥ 1, --calls ≥ 10 and --duration ≥ 100ms"}
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	return bench.Run(context.Background(), bench.Config{Rounds: *rounds, Calls: *calls, Duration: *duration, Serve: []string{self}}, stdout)
}
