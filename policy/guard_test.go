package policy

import (
	"strings"
	"testing"
)

func TestGuards(t *testing.T) {
	guarded := func(k Kind, allow ...string) Policy {
		return Policy{Guards: []Guard{{Kind: k, Allow: allow}}}
	}
	call := func(tool string, k Kind, value string) Tool {
		return Tool{Name: tool, ReadOnly: ptr(false), Resources: []Resource{{Kind: k, Value: value}}}
	}
	tests := []struct {
		name   string
		policy Policy
		tool   Tool
		// reason is a fragment of the refusal; "" means the call is not refused.
		reason string
	}{
		{"ok/repo in owner wildcard", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme/widgets"), ""},
		{"ok/exact repo", guarded(Repo, "acme/widgets"), call("github_create_issue", Repo, "acme/widgets"), ""},
		{"ok/repo case is the same repo on GitHub", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "ACME/Widgets"), ""},
		{"ok/owner-wide search under owner wildcard", guarded(Repo, "acme/*"), call("github_search_issues", Repo, "acme/*"), ""},
		{"ok/star allows all", guarded(Repo, "*"), call("github_search_issues", Repo, ""), ""},
		{"ok/no guard of that kind", guarded(Channel, "eng"), call("github_create_issue", Repo, "evil/x"), ""},
		{"ok/recipient domain", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@acme.com"), ""},
		{"ok/recipient domain case", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@ACME.com"), ""},
		{"ok/recipient subdomain wildcard", guarded(Recipient, "*.acme.com"), call("gmail_send_message", Recipient, "bob@eu.acme.com"), ""},
		{"ok/recipient exact address", guarded(Recipient, "bob@example.org"), call("gmail_send_message", Recipient, "Bob@example.org"), ""},
		{"ok/channel with hash", guarded(Channel, "eng-bots"), call("slack_post_message", Channel, "#eng-bots"), ""},
		{"ok/channel id", guarded(Channel, "C0123ABCD"), call("slack_post_message", Channel, "C0123ABCD"), ""},
		{"ok/project key case", guarded(Project, "OPS"), call("jira_create_issue", Project, "ops"), ""},
		{"ok/path below prefix", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project/a.txt"), ""},
		{"ok/path equal to prefix", guarded(Path, "/home/me/project"), call("fs_list_directory", Path, "/home/me/project"), ""},
		{"ok/calendar primary", guarded(Calendar, "primary"), call("calendar_create_event", Calendar, "primary"), ""},
		{"ok/write to another branch", guarded(Branch, "other"), call("github_delete_file", Branch, "other"), ""},
		{"ok/folder shared with the allowed domain", guarded(Share, "acme.com"), call("drive_create_file", Share, "*@acme.com"), ""},

		{"fail/other repo", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "evil/widgets"), "evil/widgets is outside"},
		{"fail/write to the default branch", guarded(Branch, "other"), call("github_merge_pull_request", Branch, "default"), "write to the branch default is outside this vault's allowlist (other)"},
		{"fail/branch by name", guarded(Branch, "other"), call("github_delete_file", Branch, "main"), `not "default" or "other"`},
		{"fail/folder shared with a whole domain, one person allowed", guarded(Share, "bob@acme.com"), call("drive_create_file", Share, "*@acme.com"), "*@acme.com is outside"},
		{"fail/folder shared with another domain", guarded(Share, "acme.com"), call("drive_create_file", Share, "*@evil.com"), "outside"},
		{"fail/folder shared with anyone with the link", guarded(Share, "acme.com"), call("drive_create_file", Share, ""), "not limited"},
		{"fail/owner prefix is not the owner", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme-evil/widgets"), "outside"},
		{"fail/unbounded search", guarded(Repo, "acme/*"), call("github_search_issues", Repo, ""), "not limited to one repository"},
		{"fail/owner-wide search under one repo", guarded(Repo, "acme/widgets"), call("github_search_issues", Repo, "acme/*"), "outside"},
		{"fail/recipient other domain", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@evil.com"), "outside"},
		{"fail/recipient suffix trick", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@acme.com.evil.com"), "outside"},
		{"fail/recipient lookalike domain", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@evilacme.com"), "outside"},
		{"fail/subdomain needs wildcard", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@eu.acme.com"), "outside"},
		{"fail/channel other", guarded(Channel, "eng-bots"), call("slack_post_message", Channel, "general"), "outside"},
		{"fail/channel named like an allowed id", guarded(Channel, "C0123ABCD"), call("slack_post_message", Channel, "c0123abcd"), "outside"},
		{"fail/project other", guarded(Project, "OPS"), call("jira_create_issue", Project, "HR"), "outside"},
		{"fail/path sibling with same prefix", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project-secrets/a"), "outside"},
		{"fail/path case differs", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/HOME/me/project/a"), "outside"},
		{"fail/calendar other", guarded(Calendar, "primary"), call("calendar_create_event", Calendar, "boss@acme.com"), "outside"},

		// Bypass attempts: spellings that could name an allowed value while reaching another.
		{"bypass/repo trailing slash", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme/widgets/"), "refused"},
		{"bypass/repo dot-dot", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme/.."), "refused"},
		{"bypass/repo path traversal", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme/../evil/x"), "refused"},
		{"bypass/repo cyrillic a", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "\u0430cme/widgets"), "refused"},
		{"bypass/repo kelvin sign folds to k", guarded(Repo, "kacme/*"), call("github_create_issue", Repo, "\u212Aacme/widgets"), "refused"},
		{"bypass/repo fullwidth slash", guarded(Repo, "acme/*"), call("github_create_issue", Repo, "acme\uff0fwidgets"), "refused"},
		{"bypass/repo leading space", guarded(Repo, "acme/*"), call("github_create_issue", Repo, " acme/widgets"), "refused"},
		{"bypass/recipient display name", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@acme.com <eve@evil.com>"), "refused"},
		{"bypass/recipient list in one value", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@acme.com, eve@evil.com"), "refused"},
		{"bypass/recipient trailing dot", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@acme.com."), "refused"},
		{"bypass/recipient unicode domain", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, "bob@\u0430cme.com"), "refused"},
		{"bypass/recipient quoted local with at", guarded(Recipient, "acme.com"), call("gmail_send_message", Recipient, `"eve@evil.com"@acme.com`), "refused"},
		{"bypass/path dot-dot", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project/../.ssh/id"), "refused"},
		{"bypass/path trailing slash", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project/"), "refused"},
		{"bypass/path double slash", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me//project/a"), "refused"},
		{"bypass/path relative", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "project/a"), "refused"},
		{"bypass/path NUL", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project/a\x00/../../x"), "refused"},
		{"bypass/path invalid utf8", guarded(Path, "/home/me/project"), call("fs_write_file", Path, "/home/me/project/\xff"), "refused"},
		{"bypass/channel unicode", guarded(Channel, "eng-bots"), call("slack_post_message", Channel, "eng-b\u043ets"), "refused"},
		{"bypass/project unicode", guarded(Project, "OPS"), call("jira_create_issue", Project, "\u041ePS"), "refused"},
		{"bypass/second resource outside", guarded(Recipient, "acme.com"), Tool{Name: "gmail_send_message", Resources: []Resource{
			{Recipient, "bob@acme.com"}, {Recipient, "eve@evil.com"}}}, "eve@evil.com"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := Decide(tc.policy, tc.tool)
			if tc.reason == "" {
				if got.Decision == Block {
					t.Fatalf("refused: %+v", got)
				}
				return
			}
			if got.Decision != Block || !strings.HasPrefix(got.Rule, "guard:") || !strings.Contains(got.Reason, tc.reason) {
				t.Fatalf("got %+v, want a guard refusal mentioning %q", got, tc.reason)
			}
		})
	}
}

func TestGuardsScopeAndOrder(t *testing.T) {
	p := Policy{
		Rules:  []Rule{{"github_delete_file", Block}},
		Guards: []Guard{{Kind: Repo, Tools: "github_create_*", Allow: []string{"acme/*"}}},
	}
	outside := []Resource{{Repo, "evil/x"}}
	if got := Decide(p, Tool{Name: "github_create_issue", Resources: outside}); got.Decision != Block {
		t.Errorf("covered tool: %+v", got)
	}
	if got := Decide(p, Tool{Name: "github_get_issue", ReadOnly: ptr(true), Resources: outside}); got.Decision != Allow {
		t.Errorf("tool outside the guard's pattern: %+v", got)
	}
	// A rule that blocks keeps its own reason: guards only narrow.
	if got := Decide(p, Tool{Name: "github_delete_file", Resources: []Resource{{Repo, "acme/x"}}}); got.Rule != "github_delete_file" {
		t.Errorf("blocked by rule: %+v", got)
	}
	// Listing passes no resources: guards never hide a tool.
	if got := Decide(p, Tool{Name: "github_create_issue"}); got.Decision != Approve {
		t.Errorf("listing: %+v", got)
	}
	if !p.Guarding(Repo, "github_create_issue") || p.Guarding(Repo, "github_get_issue") || p.Guarding(Share, "github_create_issue") {
		t.Error("Guarding must say whether a guard of the kind covers the tool")
	}
}

func TestGuardValidateAndWithGuard(t *testing.T) {
	for _, g := range []Guard{
		{Kind: "colour", Allow: []string{"red"}},
		{Kind: Repo, Allow: []string{"acme"}},
		{Kind: Recipient, Allow: []string{"*acme.com"}},
		{Kind: Path, Allow: []string{"relative/dir"}},
		{Kind: Repo, Tools: "bad name!", Allow: []string{"acme/*"}},
	} {
		if err := g.Validate(); err == nil {
			t.Errorf("%+v: accepted", g)
		}
	}
	p, err := Policy{}.WithGuard(Guard{Kind: Repo, Allow: []string{"acme/*"}})
	if err != nil {
		t.Fatal(err)
	}
	p, _ = p.WithGuard(Guard{Kind: Repo, Allow: []string{"acme/widgets"}})
	if len(p.Guards) != 1 || p.Guards[0].Allow[0] != "acme/widgets" {
		t.Fatalf("replace: %+v", p.Guards)
	}
	if p, _ = p.WithGuard(Guard{Kind: Repo}); len(p.Guards) != 0 {
		t.Fatalf("remove: %+v", p.Guards)
	}
	if _, err := (Policy{}).WithGuard(Guard{Kind: Repo, Allow: []string{"not a repo"}}); err == nil {
		t.Fatal("invalid guard accepted")
	}
}

// FuzzGuards: whatever the value, a guard either refuses it or it names
// exactly what the allowlist allows, spelled plainly.
func FuzzGuards(f *testing.F) {
	for _, v := range []string{"acme/widgets", "ACME/x", "acme/../evil", "\u212Aacme/x", "bob@acme.com", "bob@acme.com.evil.com",
		`"x@y"@acme.com`, "/srv/ok/a", "/srv/ok/../etc", "/srv/okay", "#eng-bots", "OPS"} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, value string) {
		allowed := func(k Kind, allow string) bool {
			r := Decide(Policy{Guards: []Guard{{Kind: k, Allow: []string{allow}}}},
				Tool{Name: "x_y", ReadOnly: ptr(true), Resources: []Resource{{Kind: k, Value: value}}})
			return r.Decision != Block
		}
		lower := strings.ToLower(value)
		if _, name, _ := strings.Cut(value, "/"); allowed(Repo, "acme/*") && (!strings.HasPrefix(lower, "acme/") ||
			strings.Count(value, "/") != 1 || name == "." || name == ".." || !isASCII(value)) {
			t.Fatalf("repository %q passed acme/*", value)
		}
		if allowed(Recipient, "acme.com") && (!strings.HasSuffix(lower, "@acme.com") || strings.Count(value, "@") != 1 || !isASCII(value)) {
			t.Fatalf("recipient %q passed acme.com", value)
		}
		if allowed(Path, "/srv/ok") && (value != "/srv/ok" && !strings.HasPrefix(value, "/srv/ok/") || strings.Contains(value+"/", "/../") ||
			strings.Contains(value, "//") || strings.ContainsRune(value, 0)) {
			t.Fatalf("path %q passed /srv/ok", value)
		}
		if allowed(Channel, "C0123ABCD") && strings.TrimPrefix(value, "#") != "C0123ABCD" {
			t.Fatalf("channel %q passed the id C0123ABCD", value)
		}
		if allowed(Channel, "eng-bots") && strings.TrimPrefix(lower, "#") != "eng-bots" {
			t.Fatalf("channel %q passed eng-bots", value)
		}
		if allowed(Project, "OPS") && strings.ToUpper(value) != "OPS" {
			t.Fatalf("project %q passed OPS", value)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
