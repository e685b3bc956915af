package policy

import (
	"strings"
	"testing"
)

const goodTemplate = `{"kind":"agentvault-vault-template","version":1,"name":"reviewer","services":["fs"],
 "approval_timeout":"2m","rules":[{"pattern":"fs_*","decision":"block"},{"pattern":"fs_read_file","decision":"allow"}]}`

func TestDecodeTemplate(t *testing.T) {
	tpl, err := DecodeTemplate([]byte(goodTemplate))
	if err != nil {
		t.Fatal(err)
	}
	if tpl.Name != "reviewer" || len(tpl.Rules) != 2 || tpl.Rules[1] != (Rule{"fs_read_file", Allow}) {
		t.Fatalf("template %+v", tpl)
	}
	tests := []struct{ name, in, field string }{
		{"fail/unknown field", strings.Replace(goodTemplate, `"name"`, `"token":"x","name"`, 1), `"token"`},
		{"fail/wrong kind", strings.Replace(goodTemplate, "agentvault-vault-template", "other", 1), "field kind"},
		{"fail/future version", strings.Replace(goodTemplate, `"version":1`, `"version":3`, 1), "field version"},
		{"fail/flow in version 1", strings.Replace(goodTemplate, `"name"`, `"flow":{"on":true},"name"`, 1), "field flow"},
		{"fail/bad flow role", strings.Replace(goodTemplate, `"version":1,"name"`, `"version":2,"flow":{"marks":[{"pattern":"x","role":"drain","is":true}]},"name"`, 1), "field flow.marks[0]"},
		{"fail/no services", strings.Replace(goodTemplate, `["fs"]`, `[]`, 1), "field services"},
		{"fail/bad service", strings.Replace(goodTemplate, `["fs"]`, `["f s"]`, 1), "field services[0]"},
		{"fail/bad timeout", strings.Replace(goodTemplate, `"2m"`, `"2 weeks"`, 1), "field approval_timeout"},
		{"fail/bad pattern", strings.Replace(goodTemplate, `"fs_*"`, `"fs/*"`, 1), "field rules[0].pattern"},
		{"fail/bad decision", strings.Replace(goodTemplate, `"block"`, `"Block"`, 1), "field rules[0].decision"},
		{"fail/wrong type", strings.Replace(goodTemplate, `"version":1`, `"version":"1"`, 1), "version"},
		{"fail/trailing data", goodTemplate + `{}`, "after the template"},
		{"fail/empty name", strings.Replace(goodTemplate, `"reviewer"`, `" "`, 1), "field name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeTemplate([]byte(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.field) {
				t.Fatalf("error %v, want one naming %s", err, tt.field)
			}
		})
	}
}

func FuzzDecodeTemplate(f *testing.F) {
	f.Add(goodTemplate)
	f.Add(`{"kind":"agentvault-vault-template","version":1}`)
	f.Fuzz(func(t *testing.T, in string) {
		tpl, err := DecodeTemplate([]byte(in))
		if err == nil && tpl.Validate() != nil {
			t.Fatalf("accepted an invalid template %q", in)
		}
	})
}

// A version 2 template carries data-flow protection into the vault's policy.
func TestTemplateCarriesFlow(t *testing.T) {
	v2 := strings.Replace(goodTemplate, `"version":1,"name"`, `"version":2,"flow":{"on":true,"marks":[{"pattern":"fs_*","role":"source","is":true}]},"name"`, 1)
	tpl, err := DecodeTemplate([]byte(v2))
	if err != nil {
		t.Fatal(err)
	}
	f := tpl.Policy().Flow
	if !f.On || len(f.Marks) != 1 || !f.Roles(Tool{Name: "fs_read_file"}).Source {
		t.Fatalf("flow %+v", f)
	}
}
