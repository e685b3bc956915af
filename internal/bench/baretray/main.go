//go:build cgo

// Command baretray is the baseline for AgentVault's GUI memory benchmark: a
// Fyne app with a tray menu and nothing else (scripts/gui-bench.sh).
package main

import (
	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/app"
	"fyne.io/fyne/v2/driver/desktop"
)

func main() {
	a := app.NewWithID("dev.agentvault.baretray")
	if d, ok := a.(desktop.App); ok {
		d.SetSystemTrayMenu(fyne.NewMenu("bare", fyne.NewMenuItem("Open", func() {})))
	}
	a.Run()
}
