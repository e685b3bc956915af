package policy

import (
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func ptr(b bool) *bool { return &b }

func TestDecide(t *testing.T) {
	readOnly := Tool{Name: "fs_read_file", ReadOnly: ptr(true)}
	write := Tool{Name: "fs_write_file", ReadOnly: ptr(false)}
	destructive := Tool{Name: "fs_delete_file", Destructive: ptr(true)}
	bare := Tool{Name: "fs_move_file"}
	rules := func(rs ...Rule) Policy { return Policy{Rules: rs} }

	tests := []struct {
		name   string
		policy Policy
		tool   Tool
		want   Result
	}{
		{"default/read-only allows", Policy{}, readOnly, Result{Decision: Allow, Rule: "default:read-only"}},
		{"default/write approves", Policy{}, write, Result{Decision: Approve, Rule: "default:write"}},
		{"default/destructive blocks", Policy{}, destructive, Result{Decision: Block, Rule: "default:destructive"}},
		{"default/unannotated approves", Policy{}, bare, Result{Decision: Approve, Rule: "default:write"}},
		{"default/destructive beats read-only hint", Policy{}, Tool{Name: "x", ReadOnly: ptr(true), Destructive: ptr(true)}, Result{Decision: Block, Rule: "default:destructive"}},
		{"default/destructive false is not read-only", Policy{}, Tool{Name: "x", Destructive: ptr(false)}, Result{Decision: Approve, Rule: "default:write"}},
		{"exact/overrides default", rules(Rule{"fs_delete_file", Allow}), destructive, Result{Decision: Allow, Rule: "fs_delete_file"}},
		{"exact/beats pattern", rules(Rule{"fs_*", Block}, Rule{"fs_read_file", Allow}), readOnly, Result{Decision: Allow, Rule: "fs_read_file"}},
		{"pattern/matches prefix", rules(Rule{"fs_*", Block}), readOnly, Result{Decision: Block, Rule: "fs_*"}},
		{"pattern/longer literal wins", rules(Rule{"fs_*", Block}, Rule{"fs_read_*", Allow}), readOnly, Result{Decision: Allow, Rule: "fs_read_*"}},
		{"pattern/order does not matter", rules(Rule{"fs_read_*", Allow}, Rule{"fs_*", Block}), readOnly, Result{Decision: Allow, Rule: "fs_read_*"}},
		{"pattern/block beats allow at equal specificity", rules(Rule{"fs_*", Allow}, Rule{"*ile", Block}), readOnly, Result{Decision: Block, Rule: "*ile"}},
		{"pattern/more literal characters win over strictness", rules(Rule{"fs_*", Block}, Rule{"*_file", Allow}), readOnly, Result{Decision: Allow, Rule: "*_file"}},
		{"pattern/approve beats allow at equal specificity", rules(Rule{"*ile", Allow}, Rule{"fs_*", Approve}), readOnly, Result{Decision: Approve, Rule: "fs_*"}},
		{"pattern/star matches everything", rules(Rule{"*", Block}), readOnly, Result{Decision: Block, Rule: "*"}},
		{"pattern/inner star", rules(Rule{"fs_*_file", Allow}), write, Result{Decision: Allow, Rule: "fs_*_file"}},
		{"pattern/no match falls back to default", rules(Rule{"github_*", Allow}), write, Result{Decision: Approve, Rule: "default:write"}},
		{"pattern/is not a regexp", rules(Rule{"fs_.*", Allow}), write, Result{Decision: Approve, Rule: "default:write"}},
		{"fail/unknown decision in store blocks", rules(Rule{"fs_read_file", "yes"}), readOnly, Result{Decision: Block, Rule: "fs_read_file"}},
		{"fail/invalid tool name blocks", rules(Rule{"*", Allow}), Tool{Name: "fs read"}, Result{Decision: Block, Rule: "invalid-name"}},
		{"fail/empty tool name blocks", Policy{}, Tool{Name: ""}, Result{Decision: Block, Rule: "invalid-name"}},
		{"fail/too long tool name blocks", rules(Rule{"*", Allow}), Tool{Name: string(make([]byte, 65))}, Result{Decision: Block, Rule: "invalid-name"}},
		{"case/matching is case-sensitive", rules(Rule{"FS_*", Allow}), write, Result{Decision: Approve, Rule: "default:write"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Decide(tt.policy, tt.tool); got != tt.want {
				t.Errorf("Decide = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestWith(t *testing.T) {
	p, err := Policy{}.With("fs_*", Block)
	if err != nil {
		t.Fatal(err)
	}
	p, err = p.With("fs_*", Allow)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 1 || p.Rules[0] != (Rule{"fs_*", Allow}) {
		t.Fatalf("With should replace the rule for the same pattern, got %+v", p.Rules)
	}
	for _, bad := range []string{"", "fs read", "fs/x", "fs_[a]", "fs?", string(make([]byte, 65))} {
		if _, err := p.With(bad, Allow); err == nil {
			t.Errorf("With(%q) accepted an invalid pattern", bad)
		}
	}
	if _, err := p.With("fs_x", "maybe"); err == nil {
		t.Error("With accepted an unknown decision")
	}
	p, _ = p.With("gh_*", Block)
	if q, found := p.Without("fs_*"); !found || len(q.Rules) != 1 || q.Rules[0].Pattern != "gh_*" || len(p.Rules) != 2 {
		t.Fatalf("Without(fs_*) = %+v, %v; the original now %+v", q.Rules, found, p.Rules)
	}
	if _, found := p.Without("fs_x"); found {
		t.Error("Without found a rule the policy does not have")
	}
}

func TestParseDecision(t *testing.T) {
	for _, ok := range []string{"allow", "approve", "block"} {
		if d, err := ParseDecision(ok); err != nil || string(d) != ok {
			t.Errorf("ParseDecision(%q) = %q, %v", ok, d, err)
		}
	}
	for _, bad := range []string{"", "Allow", "ALLOW", "deny", "allow "} {
		if _, err := ParseDecision(bad); err == nil {
			t.Errorf("ParseDecision(%q) accepted", bad)
		}
	}
}

func FuzzDecide(f *testing.F) {
	f.Add("fs_*", "fs_read_file")
	f.Add("*a*b*c*", "xaxbxcx")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		p := Policy{Rules: []Rule{{Pattern: pattern, Decision: Allow}}}
		r := Decide(p, Tool{Name: name})
		if !ToolNamePattern.MatchString(name) && r.Decision != Block {
			t.Fatalf("invalid name %q decided %v", name, r.Decision)
		}
		if r.Decision == Allow && !Matches(pattern, name) {
			t.Fatalf("allowed %q by %q without a match", name, pattern)
		}
		if len(pattern) <= 64 && utf8.ValidString(pattern) && utf8.ValidString(name) {
			quoted := strings.ReplaceAll(regexp.QuoteMeta(pattern), `\*`, `.*`)
			if want := regexp.MustCompile(`^(?s:` + quoted + `)$`).MatchString(name); Matches(pattern, name) != want {
				t.Fatalf("Matches(%q, %q) = %v, want %v", pattern, name, !want, want)
			}
		}
	})
}

func BenchmarkDecide(b *testing.B) {
	p := Policy{Rules: []Rule{{"fs_*", Block}, {"fs_read_*", Allow}, {"github_*", Approve}, {"github_get_issue", Allow}, {"*_delete_*", Block}}}
	tool := Tool{Name: "fs_read_text_file", ReadOnly: ptr(true)}
	for b.Loop() {
		if Decide(p, tool).Decision != Allow {
			b.Fatal("wrong decision")
		}
	}
}

func TestParseRateLimit(t *testing.T) {
	l, err := ParseRateLimit("github_*", "60/min")
	if err != nil || l.Count != 60 || time.Duration(l.Window) != time.Minute || l.String() != "60/min" {
		t.Fatalf("ParseRateLimit = %+v, %v", l, err)
	}
	if k, ok := l.Applies("github_create_issue"); !ok || k != "github_*|github_create_issue" {
		t.Fatalf("Applies = %q, %v", k, ok)
	}
	if _, ok := l.Applies("fs_read"); ok {
		t.Fatal("a github limit applies to fs_read")
	}
	all, _ := ParseRateLimit("*", "500/day")
	if k, ok := all.Applies("anything"); !ok || k != "*" {
		t.Fatal("a vault-wide limit does not count every tool together")
	}
	for _, bad := range []string{"60", "60/week", "0/min", "-1/min", "x/min", "1000000/s", "60/ min"} {
		if _, err := ParseRateLimit("*", bad); err == nil {
			t.Errorf("ParseRateLimit(%q) accepted", bad)
		}
	}
	if _, err := ParseRateLimit("bad pattern", "1/s"); err == nil {
		t.Error("an invalid pattern was accepted")
	}
}

func TestPresets(t *testing.T) {
	tools := []ToolDefault{{"r", Allow}, {"w", Approve}, {"d", Block}}
	want := map[string][]Decision{
		"read-only":      {Allow, Block, Block},
		"ask-for-writes": {Allow, Approve, Block},
		"developer":      {Allow, Allow, Approve},
		"public-bot":     {Allow, Block, Block},
		"full-access":    {Allow, Allow, Allow},
	}
	for name, decisions := range want {
		p, err := FindPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range p.Policy(tools).Rules {
			if r.Pattern != tools[i].Name || r.Decision != decisions[i] {
				t.Errorf("%s: %s → %s, want %s", name, r.Pattern, r.Decision, decisions[i])
			}
		}
	}
	if p, _ := FindPreset("public-bot"); len(p.Limits) != 2 {
		t.Error("the public bot preset has no rate limits")
	}
	if _, err := FindPreset("yolo"); err == nil || !strings.Contains(err.Error(), "read-only") {
		t.Errorf("unknown preset: %v", err)
	}
}
