package signin

import "strings"

// ScopeMeaning says what scope lets an agent do on service ("github",
// "google", "slack" or "jira"), for the GUI and CLI to show when
// connecting; "" for a scope AgentVault has no description of. Google
// scopes may be given short ("gmail.readonly") or as URLs.
func ScopeMeaning(service, scope string) string {
	if service == "google" {
		scope = strings.TrimPrefix(scope, "https://www.googleapis.com/auth/")
	}
	return scopeMeanings[service][scope]
}

// scopeMeanings follows shared/docs/PROVIDERS.md, "Scopes → what they let
// an agent do".
var scopeMeanings = map[string]map[string]string{
	"github": {
		"repo":        "read and write code, issues and pull requests in every repository you can access (AgentVault's policy is then the only finer control)",
		"public_repo": "read and write code, issues and pull requests in public repositories",
		"workflow":    "change GitHub Actions workflows",
		"delete_repo": "delete repositories",
	},
	"google": {
		"gmail.readonly":  "read all your mail",
		"gmail.send":      "send mail as you",
		"gmail.compose":   "write drafts and send mail as you",
		"gmail.modify":    "read, send, label and trash mail: everything but permanent deletion",
		"calendar.events": "create, change and delete calendar events",
		"drive.file":      "only the Drive files AgentVault opened or created",
		"drive.readonly":  "read every file in your Drive",
		"drive":           "everything in your Drive, including deleting and sharing",
	},
	"slack": {
		"channels:history": "read messages in public channels",
		"groups:history":   "read messages in private channels",
		"im:history":       "read your direct messages",
		"mpim:history":     "read your group direct messages",
		"search:read":      "search everything you can see",
		"chat:write":       "post, edit and delete messages as you",
	},
	"jira": {
		"read:jira-work":  "read every project, issue and comment you can see",
		"write:jira-work": "create, edit, delete, comment on and transition issues (only AgentVault's policy can separate these)",
	},
}
