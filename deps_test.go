package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/agentvault/agentvault"

// goList runs go list with args and returns its non-empty output lines.
func goList(t *testing.T, env []string, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %s: %v", strings.Join(args, " "), err)
	}
	return strings.Fields(strings.TrimSpace(string(out)))
}

// imports maps each package of the module (without the module prefix) to
// its direct imports; deps to everything it links.
func importGraph(t *testing.T, format string) map[string][]string {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} `+format, "./...")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	graph := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		graph[strings.TrimPrefix(fields[0], module)] = fields[1:]
	}
	return graph
}

// TestImportsPointInward guards the one direction of flow drawn in
// docs/architecture.md: the root wires; user interfaces see only the API;
// the core knows no transport and no screen; providers know no core; policy
// knows nothing of the project.
func TestImportsPointInward(t *testing.T) {
	direct := importGraph(t, `{{join .Imports " "}}`)
	linked := importGraph(t, `{{join .Deps " "}}`)
	own := func(imp string) (string, bool) { return strings.CutPrefix(imp, module) }
	for pkg, imports := range direct {
		for _, imp := range imports {
			p, ours := own(imp)
			switch {
			case !ours:
			case pkg == "/policy":
				t.Errorf("policy imports %s: it imports nothing of the project", imp)
			case strings.HasPrefix(pkg, "/providers") && strings.HasPrefix(p, "/internal/"):
				t.Errorf("%s imports %s: providers know nothing of the core", pkg, imp)
			case p == "/mcpserver" && pkg != "" && pkg != "/internal/serving" && strings.HasPrefix(pkg, "/"):
				t.Errorf("%s imports the MCP server: only the root and internal/serving wire it", pkg)
			case pkg == "/app" && !slices.Contains([]string{"/internal/api", "/policy", "/assets"}, p):
				t.Errorf("app imports %s: the window sees only the API, policy and assets", imp)
			}
		}
	}
	for _, forbidden := range []string{"/internal/store", "/internal/secrets", "/providers", "/mcpserver"} {
		for _, imp := range linked["/app"] {
			if p, ours := own(imp); ours && (p == forbidden || strings.HasPrefix(p, forbidden+"/")) {
				t.Errorf("app reaches %s (through the API): the window must not reach %s", imp, forbidden)
			}
		}
	}
	for _, core := range []string{"/internal/core", "/internal/services", "/internal/api", "/internal/approval"} {
		for _, imp := range linked[core] {
			if p, _ := own(imp); p == "/mcpserver" || p == "/app" || p == "/internal/control" {
				t.Errorf("%s reaches %s: the core knows no transport and no screen", core, imp)
			}
		}
	}
}

// TestTheProductLinksNoTestCode: neither build of the binary carries package
// testing or test support.
func TestTheProductLinksNoTestCode(t *testing.T) {
	for _, env := range [][]string{{"CGO_ENABLED=0"}, {"CGO_ENABLED=1"}} {
		for _, dep := range goList(t, env, "-deps", ".") {
			if dep == "testing" || strings.HasSuffix(dep, "test") && strings.HasPrefix(dep, module) {
				t.Errorf("%v: the binary links %s", env, dep)
			}
		}
	}
}

// TestImportBoundaries guards the toolkits: the core never imports the GUI
// toolkit or the keychain library, and policy stays pure.
func TestImportBoundaries(t *testing.T) {
	for pkg, imports := range importGraph(t, `{{join .Imports " "}}`) {
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
