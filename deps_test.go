package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestImportBoundaries guards the layout: the core never imports the GUI
// toolkit, the keychain library or package testing, and policy stays pure.
func TestImportBoundaries(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps=false", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/agentvault/agentvault"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := strings.TrimPrefix(fields[0], module), fields[1:]
		for _, imp := range imports {
			switch {
			case imp == "testing" && !strings.HasSuffix(pkg, "test"):
				t.Errorf("%s imports testing outside a test or a test-support package (…test)", pkg)
			case pkg == "/internal/bench/baretray":
				// The bare Fyne tray app the GUI memory benchmark compares against.
			case imp == "fyne.io/fyne/v2/app" && pkg != "":
				t.Errorf("%s imports %s: only the composition root may start the Fyne app", pkg, imp)
			case strings.HasPrefix(imp, "fyne.io/") && pkg != "" && !strings.HasPrefix(pkg, "/app"):
				t.Errorf("%s imports %s: the GUI toolkit belongs in app/", pkg, imp)
			case imp == "github.com/zalando/go-keyring" && pkg != "/internal/secrets":
				t.Errorf("%s imports go-keyring: only the keychain adapter may", pkg)
			}
			if pkg == "/policy" && (imp == "os" || imp == "io" || imp == "net" || strings.HasPrefix(imp, "net/") || strings.HasPrefix(imp, "io/") || imp == "syscall") {
				t.Errorf("policy imports %s: it must stay pure (no IO)", imp)
			}
		}
	}
}

// TestPolicyReadsNoClock: policy may parse durations, never read the time.
func TestPolicyReadsNoClock(t *testing.T) {
	files, _ := filepath.Glob("policy/*.go")
	clock := regexp.MustCompile(`time\.(Now|Since|Until|After|Tick|NewTimer|NewTicker|Sleep)\b`)
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if m := clock.Find(src); m != nil {
			t.Errorf("%s uses %s: policy decisions must not depend on the clock", f, m)
		}
	}
}
