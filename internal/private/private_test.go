package private

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDir(t *testing.T) {
	root := t.TempDir()
	real := filepath.Join(root, "real")
	os.Mkdir(real, 0o700)
	link := filepath.Join(root, "link")
	os.Symlink(real, link)
	loose := filepath.Join(root, "loose")
	os.Mkdir(loose, 0o700)
	os.Chmod(loose, 0o775)

	for _, tc := range []struct{ name, dir, want string }{
		{"ok/private", real, ""},
		{"ok/created-with-parents", filepath.Join(root, "new", "data"), ""},
		{"ok/parent-is-a-link", filepath.Join(link, "inner"), ""},
		{"fail/last-component-is-a-link", link, "symbolic link"},
		{"fail/group-writable", loose, "chmod 700 " + loose},
		{"fail/a-file", filepath.Join(root, "file"), "not a folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.name == "fail/a-file" {
				os.WriteFile(tc.dir, nil, 0o600)
			}
			err := Dir(tc.dir)
			if tc.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if fi, _ := os.Stat(tc.dir); fi.Mode().Perm() != 0o700 {
					t.Fatalf("mode %v", fi.Mode().Perm())
				}
				return
			}
			if !errors.Is(err, ErrNotPrivate) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dir(%s) = %v, want %q", tc.dir, err, tc.want)
			}
		})
	}
	if fi, _ := os.Stat(filepath.Join(root, "new")); fi.Mode().Perm() != 0o700 {
		t.Fatalf("a created parent has mode %v", fi.Mode().Perm())
	}
}

func TestDirOfAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to give a folder away (CI runs as root)")
	}
	dir := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(dir, 0o700)
	os.Chown(dir, 65534, 65534)
	if err := Dir(dir); !errors.Is(err, ErrNotPrivate) || !strings.Contains(err.Error(), "belongs to user 65534") {
		t.Fatalf("Dir of another user's folder: %v", err)
	}
}
