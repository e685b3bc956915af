package upstream

import (
	"testing"

	"github.com/agentvault/agentvault/policy"
)

func TestPathGuardSeesEveryPath(t *testing.T) {
	guard := policy.Policy{Guards: []policy.Guard{{Kind: policy.Path, Allow: []string{"/home/me/project"}}}}
	var p Provider
	for _, tc := range []struct {
		args    map[string]any
		allowed bool
	}{
		{map[string]any{"path": "/home/me/project/a.txt"}, true},
		{map[string]any{"path": "/home/me/project/a.txt", "content": "plain text"}, true},
		{map[string]any{"edits": []any{map[string]any{"oldText": "a", "newText": "b"}}, "path": "/home/me/project/x"}, true},
		{map[string]any{"uri": "file:///home/me/project/notes.md"}, true},
		{map[string]any{"uri": "https://example.com/page", "url": "https://example.com"}, true},
		{map[string]any{"path": "/etc/shadow"}, false},
		{map[string]any{"uri": "file:///home/me/.ssh/id_rsa"}, false},
		{map[string]any{"uri": "file://evil.example/share/x"}, false},
		{map[string]any{"files": []any{"/etc/shadow"}}, false},
		{map[string]any{"src": "/home/me/project/a", "dst": "/tmp/b"}, false},
		{map[string]any{"options": map[string]any{"path": "/etc/shadow"}}, false},
		{map[string]any{"anything": "/etc/shadow"}, false},
		{map[string]any{"script": "~/.bashrc"}, false},
		{map[string]any{"path": "relative/file"}, false},
		{map[string]any{"path": 42.0}, false},
	} {
		res, err := p.Resources("tool", tc.args)
		if err != nil {
			t.Fatal(err)
		}
		d := policy.Decide(guard, policy.Tool{Name: "fs_tool", Resources: res})
		if allowed := d.Decision != policy.Block; allowed != tc.allowed {
			t.Errorf("%v: allowed = %v (%+v, resources %v)", tc.args, allowed, d, res)
		}
	}
}
