//go:build cgo

package main

import (
	"context"
	"io"

	"github.com/agentvault/agentvault/internal/core"
)

// guiBuilt says this build can show the desktop app.
const guiBuilt = true

// runGUI runs the desktop app. Until the Fyne window and tray land, it is the
// server alone.
func runGUI(ctx context.Context, dir string, stdout, stderr io.Writer) error {
	return serve(ctx, dir, core.DefaultListen, stdout, stderr)
}
