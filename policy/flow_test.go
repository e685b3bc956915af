package policy

import "testing"

func TestFlowRoles(t *testing.T) {
	yes, no := true, false
	tests := []struct {
		name         string
		tool         Tool
		marks        []FlowMark
		source, sink bool
		undeclared   bool
	}{
		{"built-in read", Tool{Name: "gmail_get_message", ReadOnly: &yes, OpenWorld: &yes, Private: true}, nil, true, false, false},
		{"built-in send", Tool{Name: "slack_post_message", ReadOnly: &no, OpenWorld: &yes, Private: true}, nil, false, true, false},
		{"upstream open world", Tool{Name: "web_fetch", ReadOnly: &yes, OpenWorld: &yes}, nil, false, true, false},
		{"upstream closed world", Tool{Name: "fs_read_file", ReadOnly: &yes, OpenWorld: &no}, nil, false, false, false},
		{"upstream undeclared", Tool{Name: "fs_write_file", ReadOnly: &no}, nil, false, true, true},
		{"marked source", Tool{Name: "fs_read_file", ReadOnly: &yes, OpenWorld: &no}, []FlowMark{{"fs_*", Source, true}}, true, false, false},
		{"marked not a sink", Tool{Name: "fs_write_file"}, []FlowMark{{"fs_write_file", Sink, false}}, false, false, false},
		{"exact mark beats pattern", Tool{Name: "fs_write_file"}, []FlowMark{{"fs_*", Sink, false}, {"fs_write_file", Sink, true}}, false, true, false},
		{"equal specificity: is wins", Tool{Name: "fs_x"}, []FlowMark{{"fs_*", Sink, false}, {"*s_x", Sink, true}}, false, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Flow{On: true, Marks: tt.marks}.Roles(tt.tool)
			if r.Source != tt.source || r.Sink != tt.sink || r.Undeclared != tt.undeclared {
				t.Fatalf("roles %+v, want source %v sink %v undeclared %v", r, tt.source, tt.sink, tt.undeclared)
			}
		})
	}
}

func TestAfterSource(t *testing.T) {
	yes := true
	sink := Tool{Name: "slack_post_message", Private: true}
	read := Tool{Name: "gmail_get_message", ReadOnly: &yes, Private: true}
	on := Policy{Flow: Flow{On: true}}
	allow := Result{Decision: Allow, Rule: "slack_*"}
	if r := on.AfterSource(allow, sink, "gmail_get_message"); r.Decision != Approve || r.Rule != "flow:gmail_get_message" {
		t.Fatalf("a sink after a source: %+v", r)
	}
	if r := on.AfterSource(allow, sink, ""); r != allow {
		t.Fatalf("a sink before any source: %+v", r)
	}
	if r := on.AfterSource(Result{Decision: Allow}, read, "gmail_get_message"); r.Decision != Allow {
		t.Fatalf("a source after a source: %+v", r)
	}
	if r := on.AfterSource(Result{Decision: Block, Rule: "x"}, sink, "gmail_get_message"); r.Decision != Block {
		t.Fatalf("Block must stay Block: %+v", r)
	}
	if r := (Policy{}).AfterSource(allow, sink, "gmail_get_message"); r != allow {
		t.Fatalf("flow off: %+v", r)
	}
}

func TestFlowMarked(t *testing.T) {
	yes := true
	f, err := Flow{}.Marked(Sink, "fetch*", &yes)
	if err != nil || len(f.Marks) != 1 {
		t.Fatalf("%+v %v", f, err)
	}
	if f, _ = f.Marked(Sink, "fetch*", nil); len(f.Marks) != 0 {
		t.Fatalf("the mark was not removed: %+v", f)
	}
	if _, err := (Flow{}).Marked("drain", "x", &yes); err == nil {
		t.Fatal("an unknown role was accepted")
	}
	if _, err := (Flow{}).Marked(Source, "a/b", &yes); err == nil {
		t.Fatal("an invalid pattern was accepted")
	}
}
