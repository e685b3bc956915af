package upstream

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	in := func(p ...string) string { return filepath.Join(append([]string{root}, p...)...) }
	os.MkdirAll(in("real", "sub"), 0o700)
	os.Symlink(in("real"), in("abs"))                          // absolute link to a folder
	os.Symlink("real/sub", in("rel"))                          // relative link
	os.Symlink(in("abs"), in("chain"))                         // a link to a link
	os.Symlink("../elsewhere/new.txt", in("real", "dangling")) // dangling, relative, with ".."
	os.Symlink(in("loop2"), in("loop1"))
	os.Symlink(in("loop1"), in("loop2"))
	os.WriteFile(in("file"), nil, 0o600)

	for _, tc := range []struct{ name, path, want string }{
		{"ok/plain", in("real", "sub"), in("real", "sub")},
		{"ok/missing-rest-as-written", in("real", "no", "such", "file"), in("real", "no", "such", "file")},
		{"ok/absolute-link", in("abs", "sub", "x"), in("real", "sub", "x")},
		{"ok/relative-link", in("rel", "x"), in("real", "sub", "x")},
		{"ok/chain", in("chain", "sub"), in("real", "sub")},
		{"ok/dangling-link-is-followed", in("real", "dangling"), in("elsewhere", "new.txt")},
		{"ok/under-a-file", in("file", "x"), in("file", "x")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := resolve(tc.path, 0)
			if err != nil || got != tc.want {
				t.Fatalf("resolve(%s) = %q, %v; want %q", tc.path, got, err, tc.want)
			}
		})
	}
	if _, err := resolve(in("loop1", "x"), 0); err == nil || !strings.Contains(err.Error(), "symbolic links") {
		t.Fatalf("a loop: %v", err)
	}
	http, _ := New(Config{Name: "h", URL: "http://127.0.0.1:1/mcp"})
	defer http.Close()
	stdio, _ := New(Config{Name: "s", Command: []string{"true"}})
	defer stdio.Close()
	if http.Local() || !stdio.Local() {
		t.Fatal("only a server started as a command runs on this machine")
	}
}
