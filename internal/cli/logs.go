package cli

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"gopkg.in/natefinch/lumberjack.v2"

	"github.com/agentvault/agentvault/internal/private"
)

// logFile is the server's log in the data folder; it is cut at
// logMegabytes, keeping one older part (agentvault-TIME.log) beside it.
const (
	logFile      = "agentvault.log"
	logMegabytes = 1
)

// LogWriter is where a running AgentVault writes its log: the data folder's
// log file (created private), cut when it grows past logMegabytes.
func LogWriter(dir string) (io.WriteCloser, error) {
	if err := private.Dir(dir); err != nil {
		return nil, err
	}
	return &lumberjack.Logger{Filename: filepath.Join(dir, logFile), MaxSize: logMegabytes, MaxBackups: 1}, nil
}

func logsCommand(fs *flag.FlagSet) func(c *Call) error {
	follow := fs.Bool("f", false, "keep printing what is written, until Ctrl-C")
	lines := fs.Int("lines", 50, "how many of the last lines to print first")
	return func(c *Call) error {
		if *lines < 0 {
			return c.Usage("--lines must be 0 or more")
		}
		dir, err := c.Dir()
		if err != nil {
			return err
		}
		path := filepath.Join(dir, logFile)
		f, err := os.Open(path)
		if errors.Is(err, os.ErrNotExist) && !*follow {
			return fmt.Errorf("no log yet at %s: AgentVault writes it while it runs", path)
		}
		var at int64
		if err == nil {
			at, err = printTail(c.Out(), f, *lines)
			f.Close()
			if err != nil {
				return err
			}
		}
		if !*follow {
			return nil
		}
		return followLog(c, path, at)
	}
}

// printTail prints the last n lines of f and returns where f ends.
func printTail(w io.Writer, f *os.File, n int) (int64, error) {
	data, err := io.ReadAll(f) // at most logMegabytes
	if err != nil {
		return 0, err
	}
	start := len(data)
	body := bytes.TrimSuffix(data, []byte("\n"))
	for ; n > 0 && start > 0; n-- {
		start = bytes.LastIndexByte(body[:max(0, start-1)], '\n') + 1
	}
	_, err = w.Write(data[start:])
	return int64(len(data)), err
}

// followLog prints what is appended to path from offset at on, starting
// again from the top when the file is cut (a new, shorter file), until the
// user presses Ctrl-C.
func followLog(c *Call, path string, at int64) error {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		if f, err := os.Open(path); err == nil {
			if fi, err := f.Stat(); err == nil && fi.Size() < at {
				at = 0 // cut: this is a new file
			}
			f.Seek(at, io.SeekStart)
			n, err := io.Copy(c.Out(), bufio.NewReader(f))
			at += n
			f.Close()
			if err != nil {
				return err
			}
		}
		select {
		case <-c.Ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}
