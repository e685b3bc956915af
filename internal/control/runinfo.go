package control

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// RunFile, in the data folder, names the running AgentVault for the CLI
// and for a second instance's error message.
const RunFile = "agentvault.run"

// RunInfo is what RunFile holds.
type RunInfo struct {
	PID    int    `json:"pid"`
	Listen string `json:"listen"`
}

// WriteRunInfo records that this process serves on listen, for the data
// folder dir; the returned function removes the record.
func WriteRunInfo(dir, listen string) (remove func(), err error) {
	info, _ := json.Marshal(RunInfo{PID: os.Getpid(), Listen: listen})
	path := filepath.Join(dir, RunFile)
	if err := os.WriteFile(path, info, 0o600); err != nil {
		return nil, err
	}
	return func() { os.Remove(path) }, nil
}

// ReadRunInfo reads what the running AgentVault of dir recorded; ok false
// when nothing (readable) is there.
func ReadRunInfo(dir string) (info RunInfo, ok bool) {
	raw, err := os.ReadFile(filepath.Join(dir, RunFile))
	return info, err == nil && json.Unmarshal(raw, &info) == nil && info.PID > 0
}

// AlreadyRunning explains that another AgentVault holds the data folder dir.
func AlreadyRunning(dir string) error {
	if info, ok := ReadRunInfo(dir); ok {
		return fmt.Errorf("AgentVault is already running with data folder %s (pid %d, serving http://%s); stop it first, or use --data for another folder", dir, info.PID, info.Listen)
	}
	return fmt.Errorf("AgentVault is already running with data folder %s; stop it first, or use --data for another folder", dir)
}
