//go:build !cgo

package main

import (
	"context"
	"errors"
	"io"
)

// guiBuilt says this build can show the desktop app: CGO_ENABLED=0 builds cannot.
const guiBuilt = false

func runGUI(context.Context, string, string, io.Writer, io.Writer) error {
	return errors.New("this build has no desktop app (built with CGO_ENABLED=0)")
}
