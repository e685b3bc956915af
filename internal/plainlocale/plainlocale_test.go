package plainlocale

import (
	"os"
	"testing"
)

func TestQuietAndRestore(t *testing.T) {
	for _, tc := range []struct {
		name, lcAll, lang string
		during            string // LANG (or LC_ALL) while quiet
	}{
		{"ok/c-utf8", "", "C.UTF-8", "C"},
		{"ok/posix-charset", "", "POSIX.utf8", "C"},
		{"ok/a-language-is-kept", "", "fr_FR.UTF-8", "fr_FR.UTF-8"},
		{"ok/plain-c-is-kept", "", "C", "C"},
		{"ok/lc-all-first", "C.UTF-8", "de_DE.UTF-8", "C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("LC_MESSAGES", "")
			t.Setenv("LANG", tc.lang)
			quiet()
			name, want := "LANG", tc.lang
			if tc.lcAll != "" {
				name, want = "LC_ALL", tc.lcAll
			}
			if got := os.Getenv(name); got != tc.during {
				t.Fatalf("%s while quiet: %q, want %q", name, got, tc.during)
			}
			Restore()
			if got := os.Getenv(name); got != want {
				t.Fatalf("%s restored: %q, want %q", name, got, want)
			}
		})
	}
}
