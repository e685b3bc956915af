package signin

import (
	"strings"
	"testing"
)

func TestScopeMeaning(t *testing.T) {
	tests := []struct {
		service, scope string
		want           string // a part of the meaning; "": none
	}{
		{"github", "repo", "every repository"},
		{"github", "public_repo", "public repositories"},
		{"github", "workflow", "Actions workflows"},
		{"github", "delete_repo", "delete repositories"},
		{"google", "gmail.readonly", "read all your mail"},
		{"google", "https://www.googleapis.com/auth/gmail.send", "send mail as you"},
		{"google", "gmail.compose", "drafts"},
		{"google", "gmail.modify", "everything but permanent deletion"},
		{"google", "calendar.events", "delete calendar events"},
		{"google", "drive.file", "only the Drive files"},
		{"google", "drive.readonly", "read every file"},
		{"google", "https://www.googleapis.com/auth/drive", "deleting and sharing"},
		{"slack", "channels:history", "read messages"},
		{"slack", "search:read", "search everything"},
		{"slack", "chat:write", "post, edit and delete"},
		{"jira", "read:jira-work", "read every"},
		{"jira", "write:jira-work", "delete, comment"},
		{"github", "read:org", ""},
		{"slack", "repo", ""},
		{"gitlab", "api", ""},
	}
	for _, tt := range tests {
		got := ScopeMeaning(tt.service, tt.scope)
		if (tt.want == "") != (got == "") || !strings.Contains(got, tt.want) {
			t.Errorf("ScopeMeaning(%q, %q) = %q, want it to say %q", tt.service, tt.scope, got, tt.want)
		}
	}
}
