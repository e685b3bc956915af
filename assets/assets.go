// Package assets holds AgentVault's embedded images: the application icon
// and the tray icon, as PNG bytes (the GUI wraps them as Fyne resources).
//
// It must never hold code beyond embedding.
package assets

import _ "embed"

// IconPNG is the application icon, 256×256.
//
//go:embed icon.png
var IconPNG []byte

// TrayPNG is the tray icon, 64×64.
//
//go:embed tray.png
var TrayPNG []byte
