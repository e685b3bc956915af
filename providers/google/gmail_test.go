package google

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"

	"github.com/mark3labs/mcp-go/mcp"

	"github.com/agentvault/agentvault/providers/apitool"
	"github.com/agentvault/agentvault/providers/providertest"
)

// b64 is base64url as Gmail carries bodies and raw messages.
func b64(s string) string { return base64.URLEncoding.EncodeToString([]byte(s)) }

const metadataQuery = "format=metadata&metadataHeaders=From&metadataHeaders=To&metadataHeaders=Subject&metadataHeaders=Date&alt=json&prettyPrint=false"

// Shaped like https://developers.google.com/gmail/api/reference/rest/v1/users.messages.
var (
	metadataJSON = `{"id":"18c2a1b4e5f60001","threadId":"18c2a1b4e5f60000","labelIds":["INBOX","UNREAD"],
 "snippet":"Can we move the review to Thursday? I&#39;m out on Wednesday.","historyId":"4521","internalDate":"1793606400000","sizeEstimate":5120,
 "payload":{"partId":"","mimeType":"multipart/alternative","filename":"","headers":[
  {"name":"From","value":"Ann Lee <ann@example.com>"},{"name":"To","value":"me@acme.com"},
  {"name":"Subject","value":"Review"},{"name":"Date","value":"Mon, 2 Nov 2026 09:00:00 +0100"}]}}`

	fullJSON = `{"id":"18c2a1b4e5f60001","threadId":"18c2a1b4e5f60000","labelIds":["INBOX"],"snippet":"Can we move","historyId":"4521","internalDate":"1793606400000",
 "payload":{"partId":"","mimeType":"multipart/mixed","filename":"","headers":[
  {"name":"From","value":"Ann Lee <ann@example.com>"},{"name":"To","value":"me@acme.com"},{"name":"Cc","value":"bob@example.org"},
  {"name":"Subject","value":"Review"},{"name":"Date","value":"Mon, 2 Nov 2026 09:00:00 +0100"}],
  "body":{"size":0},
  "parts":[
   {"partId":"0","mimeType":"multipart/alternative","filename":"","headers":[],"body":{"size":0},"parts":[
    {"partId":"0.0","mimeType":"text/plain","filename":"","headers":[{"name":"Content-Type","value":"text/plain; charset=\"ISO-8859-1\""}],
     "body":{"size":48,"data":"` + base64.URLEncoding.EncodeToString([]byte("Can we move the review to Thursday?\r\nCaf\xe9 at 10.")) + `"}},
    {"partId":"0.1","mimeType":"text/html","filename":"","headers":[{"name":"Content-Type","value":"text/html; charset=\"UTF-8\""}],
     "body":{"size":60,"data":"` + b64("<div>Can we move the review to <b>Thursday</b>?</div>") + `"}}]},
   {"partId":"1","mimeType":"application/pdf","filename":"agenda.pdf","headers":[],"body":{"attachmentId":"ANGjdJ8","size":20480}}]}}`

	htmlOnlyJSON = `{"id":"18c2a1b4e5f60002","threadId":"18c2a1b4e5f60000","labelIds":["INBOX"],"snippet":"Thursday works",
 "payload":{"partId":"","mimeType":"text/html","filename":"","headers":[
  {"name":"From","value":"me@acme.com"},{"name":"To","value":"ann@example.com"},{"name":"Subject","value":"Re: Review"},
  {"name":"Content-Type","value":"text/html; charset=UTF-8"}],
  "body":{"size":90,"data":"` + b64("<html><head><style>p{color:red}</style></head><body><p>Thursday&nbsp;works &amp; 10 is fine.</p><script>alert(1)</script><p>Me</p></body></html>") + `"}}}`
)

// Google's error bodies, from https://developers.google.com/gmail/api/guides/handle-errors.
const (
	invalidCredentials = `{"error":{"code":401,"message":"Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
 "errors":[{"message":"Invalid Credentials","domain":"global","reason":"authError","location":"Authorization","locationType":"header"}],"status":"UNAUTHENTICATED"}}`
	insufficientScope = `{"error":{"code":403,"message":"Request had insufficient authentication scopes.",
 "errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],"status":"PERMISSION_DENIED",
 "details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT","domain":"googleapis.com","metadata":{"service":"gmail.googleapis.com","method":"caribou.api.proto.MailboxService.SendMessage"}}]}}`
)

const rawDraft = "To: ann@example.com\r\nCc: bob@example.org\r\nSubject: =?utf-8?q?R=C3=A9union_jeudi?=\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"Hi Ann,\r\nThursday at 10 works. Caf=C3=A9?\r\n"

const rawSend = "To: ann@example.com\r\nBcc: audit@acme.com\r\nSubject: Review\r\n" +
	"MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n" +
	"See you Thursday."

var gmailCases = []providertest.Case{
	{Name: "gmail_search_messages", Tool: "gmail_search_messages", Args: map[string]any{"q": "from:ann@example.com is:unread", "maxResults": 2.0},
		Exchanges: []x{
			{Method: "GET", Path: "/gmail/v1/users/me/messages", Query: "q=from%3Aann%40example.com+is%3Aunread&maxResults=2&alt=json&prettyPrint=false",
				Response: `{"messages":[{"id":"18c2a1b4e5f60001","threadId":"18c2a1b4e5f60000"}],"nextPageToken":"09876","resultSizeEstimate":3}`},
			{Method: "GET", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60001", Query: metadataQuery, Response: metadataJSON}},
		Want: []string{`"from":"Ann Lee \u003cann@example.com\u003e"`, `"subject":"Review"`, `"snippet":"Can we move the review to Thursday? I'm out on Wednesday."`,
			`"threadId":"18c2a1b4e5f60000"`, `"nextPageToken":"09876"`, `"date":"Mon, 2 Nov 2026 09:00:00 +0100"`}},
	{Name: "gmail_search_messages/nothing found", Tool: "gmail_search_messages", Args: map[string]any{},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/messages", Query: "maxResults=10&alt=json&prettyPrint=false", Response: `{"resultSizeEstimate":0}`}},
		Want:      []string{`"messages":[]`}},
	{Name: "gmail_search_messages/revoked credential", Tool: "gmail_search_messages", Args: map[string]any{"q": "is:unread"},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/messages", Query: "q=is%3Aunread&maxResults=10&alt=json&prettyPrint=false", Status: 401,
			Header: map[string]string{"WWW-Authenticate": `Bearer realm="https://accounts.google.com/", error="invalid_token"`}, Response: invalidCredentials}},
		IsError: true, Want: []string{"reconnect Google", "invalid authentication credentials"}},
	{Name: "gmail_get_message", Tool: "gmail_get_message", Args: map[string]any{"id": "18c2a1b4e5f60001"},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60001", Query: "format=full&alt=json&prettyPrint=false", Response: fullJSON}},
		Want: []string{`"body":"Can we move the review to Thursday?\r\nCafé at 10."`, `"cc":"bob@example.org"`,
			`"attachments":[{"filename":"agenda.pdf","mimeType":"application/pdf","size":20480}]`}},
	{Name: "gmail_get_message/html only", Tool: "gmail_get_message", Args: map[string]any{"id": "18c2a1b4e5f60002"},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60002", Query: "format=full&alt=json&prettyPrint=false", Response: htmlOnlyJSON}},
		Want:      []string{`"body":"Thursday works \u0026 10 is fine.\n\nMe"`}},
	{Name: "gmail_get_message/id with a path refused before any request", Tool: "gmail_get_message", Args: map[string]any{"id": "../drafts"},
		IsError: true, Want: []string{"does not match"}},
	{Name: "gmail_get_thread", Tool: "gmail_get_thread", Args: map[string]any{"id": "18c2a1b4e5f60000"},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/threads/18c2a1b4e5f60000", Query: "format=full&alt=json&prettyPrint=false",
			Response: `{"id":"18c2a1b4e5f60000","historyId":"4530","messages":[` + fullJSON + `,` + htmlOnlyJSON + `]}`}},
		Want: []string{`"id":"18c2a1b4e5f60000"`, `"subject":"Re: Review"`, "Café at 10.", "Thursday works"}},
	{Name: "gmail_get_thread/long thread", Tool: "gmail_get_thread", Args: map[string]any{"id": "t1"},
		Exchanges: []x{{Method: "GET", Path: "/gmail/v1/users/me/threads/t1", Query: "format=full&alt=json&prettyPrint=false", Response: longThread(22)}},
		Want: []string{`{"id":"m1","threadId":"t1","snippet":"s1"}`, `{"id":"m2","threadId":"t1","snippet":"s2"}`,
			`{"id":"m3","threadId":"t1","labelIds":["INBOX"],"body":"b3"}`, `"body":"b22"}]}`}},
	{Name: "gmail_create_draft", Tool: "gmail_create_draft",
		Args: map[string]any{"to": []any{"ann@example.com"}, "cc": []any{"bob@example.org"}, "subject": "Réunion jeudi", "body": "Hi Ann,\nThursday at 10 works. Café?\n"},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/drafts", Query: "alt=json&prettyPrint=false", Body: `{"message":{"raw":"` + b64(rawDraft) + `"}}`,
			Response: `{"id":"r-5936192","message":{"id":"18c2a1b4e5f60009","threadId":"18c2a1b4e5f60009","labelIds":["DRAFT"]}}`}},
		Want: []string{`"draftId":"r-5936192"`, `"messageId":"18c2a1b4e5f60009"`}},
	{Name: "gmail_send_message", Tool: "gmail_send_message",
		Args: map[string]any{"to": []any{"ann@example.com"}, "bcc": []any{"audit@acme.com"}, "subject": "Review", "body": "See you Thursday."},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/send", Query: "alt=json&prettyPrint=false", Body: `{"raw":"` + b64(rawSend) + `"}`,
			Response: `{"id":"18c2a1b4e5f6000a","threadId":"18c2a1b4e5f6000a","labelIds":["SENT"]}`}},
		Want: []string{`"sent":true`, `"id":"18c2a1b4e5f6000a"`}},
	{Name: "gmail_send_message/missing scope", Tool: "gmail_send_message", Args: map[string]any{"to": []any{"ann@example.com"}, "body": "x"},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/send", Query: "alt=json&prettyPrint=false",
			Body:   `{"raw":"` + b64("To: ann@example.com\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nx") + `"}`,
			Status: 403, Header: map[string]string{"WWW-Authenticate": `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/gmail.send"`},
			Response: insufficientScope}},
		IsError: true, Want: []string{"permission denied", `lacks the "https://www.googleapis.com/auth/gmail.send" scope`}},
	{Name: "gmail_send_message/refused by Gmail", Tool: "gmail_send_message", Args: map[string]any{"cc": []any{"ann@example"}},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/send", Query: "alt=json&prettyPrint=false",
			Body:   `{"raw":"` + b64("Cc: ann@example\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n") + `"}`,
			Status: 400, Response: `{"error":{"code":400,"message":"Invalid Cc header","errors":[{"message":"Invalid Cc header","domain":"global","reason":"invalidArgument"}],"status":"INVALID_ARGUMENT"}}`}},
		IsError: true, Want: []string{"Google refused the request: Invalid Cc header"}},
	{Name: "gmail_send_message/display name refused before any request", Tool: "gmail_send_message", Args: map[string]any{"to": []any{"Ann <ann@example.com>"}},
		IsError: true, Want: []string{"not a single plain email address"}},
	{Name: "gmail_modify_labels", Tool: "gmail_modify_labels", Args: map[string]any{"id": "18c2a1b4e5f60001", "addLabelIds": []any{"STARRED"}, "removeLabelIds": []any{"UNREAD", "INBOX"}},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60001/modify", Query: "alt=json&prettyPrint=false",
			Body:     `{"addLabelIds":["STARRED"],"removeLabelIds":["UNREAD","INBOX"]}`,
			Response: `{"id":"18c2a1b4e5f60001","threadId":"18c2a1b4e5f60000","labelIds":["STARRED","IMPORTANT"]}`}},
		Want: []string{`"labelIds":["STARRED","IMPORTANT"]`}},
	{Name: "gmail_modify_labels/trash refused", Tool: "gmail_modify_labels", Args: map[string]any{"id": "18c2a1b4e5f60001", "addLabelIds": []any{"TRASH"}},
		IsError: true, Want: []string{"gmail_trash_message"}},
	{Name: "gmail_trash_message", Tool: "gmail_trash_message", Args: map[string]any{"id": "18c2a1b4e5f60001"},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60001/trash", Query: "alt=json&prettyPrint=false",
			Response: `{"id":"18c2a1b4e5f60001","threadId":"18c2a1b4e5f60000","labelIds":["TRASH"]}`}},
		Want: []string{`"trashed":true`, `"labelIds":["TRASH"]`}},
	{Name: "gmail_trash_message/rate limited", Tool: "gmail_trash_message", Args: map[string]any{"id": "18c2a1b4e5f60001"},
		Exchanges: []x{{Method: "POST", Path: "/gmail/v1/users/me/messages/18c2a1b4e5f60001/trash", Query: "alt=json&prettyPrint=false", Status: 429,
			Header:   map[string]string{"Retry-After": "30"},
			Response: `{"error":{"code":429,"message":"Too many concurrent requests for user.","errors":[{"message":"Too many concurrent requests for user.","domain":"global","reason":"rateLimitExceeded"}],"status":"RESOURCE_EXHAUSTED"}}`}},
		IsError: true, Want: []string{"rate limited; retry after", "Too many concurrent requests for user."}},
}

// No argument reaches the headers of a message except as the values of
// To, Cc, Bcc and an encoded Subject.
func TestRawMessageHasNoInjectedHeaders(t *testing.T) {
	a, err := apitool.Parse(newTool(t, "gmail_send_message").InputSchema, map[string]any{
		"to": []any{"ann@example.com"}, "subject": "Hi\r\nBcc: evil@example.net\r\n\r\nbody", "body": "Text\r\n.\r\nBcc: evil@example.net"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rawMessage(a, true)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := base64.URLEncoding.DecodeString(raw)
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(msg), "\r\n\r\n")
	for _, line := range strings.Split(head, "\r\n") {
		name, _, _ := strings.Cut(line, ":")
		switch name {
		case "To", "Subject", "MIME-Version", "Content-Type", "Content-Transfer-Encoding":
		default:
			t.Errorf("unexpected header line %q in\n%s", line, head)
		}
	}
}

func newTool(t *testing.T, name string) *mcp.Tool {
	t.Helper()
	tools, err := newProvider(t, "http://127.0.0.1:1").Tools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for i := range tools {
		if tools[i].Name == name {
			return &tools[i]
		}
	}
	t.Fatalf("no tool %s", name)
	return nil
}

// longThread is a thread of n messages m1…mn, each with snippet si and a
// plain-text body bi.
func longThread(n int) string {
	var msgs []string
	for i := 1; i <= n; i++ {
		msgs = append(msgs, fmt.Sprintf(`{"id":"m%d","threadId":"t1","labelIds":["INBOX"],"snippet":"s%d","payload":{"mimeType":"text/plain","headers":[],"body":{"size":2,"data":"%s"}}}`,
			i, i, b64(fmt.Sprintf("b%d", i))))
	}
	return `{"id":"t1","historyId":"1","messages":[` + strings.Join(msgs, ",") + `]}`
}
