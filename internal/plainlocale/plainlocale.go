// Package plainlocale keeps the GUI toolkit quiet on systems whose locale
// is the plain C locale with a character set (LANG=C.UTF-8, the default of
// many servers and containers): Fyne reads the locale while the program
// initialises and cannot parse "C.UTF-8", so every command printed an error.
//
// Its init runs before Fyne's (Go initialises packages in import-path order
// once their imports are: this package imports only os and strings) and
// shows Fyne the plain "C" it understands; Restore, the first thing main
// does, puts the environment back as it was, so nothing AgentVault starts
// sees a difference. It must never change a locale that names a language.
package plainlocale

import (
	"os"
	"strings"
)

// saved is the variable changed, and its value before.
var saved struct {
	name, value string
	changed     bool
}

func init() { quiet() }

// quiet shows the toolkit "C" for a plain C locale with a character set.
func quiet() {
	// The variables the locale is read from, in the order they are read.
	for _, name := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		v := os.Getenv(name)
		if v == "" {
			continue
		}
		if plainC(v) {
			saved.name, saved.value, saved.changed = name, v, true
			os.Setenv(name, "C")
		}
		return
	}
}

// plainC reports whether a locale is C or POSIX with a character set.
func plainC(v string) bool {
	base, _, found := strings.Cut(v, ".")
	return found && (base == "C" || base == "POSIX")
}

// Restore puts the environment back as it was before init.
func Restore() {
	if saved.changed {
		os.Setenv(saved.name, saved.value)
		saved.changed = false
	}
}
