package notify

import (
	"context"
	"runtime"
)

// watcherName is the bus name of the StatusNotifierWatcher, the part of a
// desktop panel that tray icons register with.
const watcherName = "org.kde.StatusNotifierWatcher"

// TrayMissing says, for people, why the desktop shows no tray icons (""
// when it does): on Linux and the BSDs they need a session bus with a
// StatusNotifierWatcher on it, which GNOME lacks without its AppIndicator
// extension.
func TrayMissing() string {
	if runtime.GOOS == "darwin" || runtime.GOOS == "windows" {
		return ""
	}
	conn, err := SessionBus()
	if err != nil {
		return "there is no desktop session bus"
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), callLimit)
	defer cancel()
	var hosted bool
	if err := conn.BusObject().CallWithContext(ctx, "org.freedesktop.DBus.NameHasOwner", 0, watcherName).Store(&hosted); err != nil || !hosted {
		return "this desktop shows no tray icons (on GNOME, the “AppIndicator and KStatusNotifierItem Support” extension shows them)"
	}
	return ""
}
