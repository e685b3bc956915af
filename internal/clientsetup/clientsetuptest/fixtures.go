// Package clientsetuptest holds a user's MCP client configs, one of each
// client in its documented format, with servers that skip AgentVault.
package clientsetuptest

import (
	"embed"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/agentvault/agentvault/internal/clientsetup"
)

//go:embed all:home all:project
var files embed.FS

// Places copies the configs into a temporary home folder and project folder
// (Linux layout) and returns them.
func Places(t testing.TB) clientsetup.Places {
	t.Helper()
	root := t.TempDir()
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		dst := filepath.Join(root, filepath.FromSlash(path))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
	return clientsetup.Places{Home: filepath.Join(root, "home"), Dir: filepath.Join(root, "project"), OS: "linux"}
}

// Canaries are secret values in the configs: after an import none may be
// left in a client's config or in AgentVault's data folder.
var Canaries = []string{"ghp_canary_claude_code", "lin_canary_cursor", "ws_canary_windsurf", "codex_canary_env"}
