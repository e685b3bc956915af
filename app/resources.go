package app

import (
	"fyne.io/fyne/v2"

	"github.com/agentvault/agentvault/assets"
)

// Icon and TrayIcon are the embedded images as Fyne resources.
var (
	Icon     = fyne.NewStaticResource("agentvault.png", assets.IconPNG)
	TrayIcon = fyne.NewStaticResource("agentvault-tray.png", assets.TrayPNG)
)
