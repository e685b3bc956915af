package google

import (
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
)

const readMetaQuery = "fields=id%2Cname%2CmimeType%2Csize&supportsAllDrives=true&alt=json&prettyPrint=false"

// multipart is the body of a Drive multipart upload, its boundary fixed by
// the test transport.
func multipart(metadata, mediaType, content string) string {
	return "--BOUNDARY\r\nContent-Type: application/json\r\n\r\n" + metadata + "\n\r\n" +
		"--BOUNDARY\r\nContent-Type: " + mediaType + "\r\n\r\n" + content + "\r\n--BOUNDARY--\r\n"
}

var driveCases = []providertest.Case{
	{Name: "drive_search_files", Tool: "drive_search_files", Args: map[string]any{"q": "name contains 'budget' and trashed = false", "pageSize": 10.0},
		Exchanges: []x{{Method: "GET", Path: "/drive/v3/files",
			Query: "q=name+contains+%27budget%27+and+trashed+%3D+false&pageSize=10&supportsAllDrives=true&includeItemsFromAllDrives=true" +
				"&fields=nextPageToken%2Cfiles%28id%2Cname%2CmimeType%2CmodifiedTime%2CwebViewLink%29&alt=json&prettyPrint=false",
			Response: `{"nextPageToken":"~!!~AI9FV7Qx","files":[{"id":"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms","name":"Budget 2027",
 "mimeType":"application/vnd.google-apps.spreadsheet","modifiedTime":"2026-10-30T16:12:45.123Z",
 "webViewLink":"https://docs.google.com/spreadsheets/d/1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms/edit?usp=drivesdk"}]}`}},
		Want: []string{`"id":"1BxiMVs0XRA5nFMdKvBdBZjgmUUqptlbs74OgvE2upms"`, `"name":"Budget 2027"`, `"modifiedTime":"2026-10-30T16:12:45.123Z"`, `"nextPageToken":"~!!~AI9FV7Qx"`}},
	{Name: "drive_search_files/default query", Tool: "drive_search_files",
		Exchanges: []x{{Method: "GET", Path: "/drive/v3/files",
			Query: "q=trashed+%3D+false&pageSize=25&supportsAllDrives=true&includeItemsFromAllDrives=true" +
				"&fields=nextPageToken%2Cfiles%28id%2Cname%2CmimeType%2CmodifiedTime%2CwebViewLink%29&alt=json&prettyPrint=false",
			Response: `{"files":[]}`}},
		Want: []string{`{"files":[]}`}},
	{Name: "drive_read_file/google doc", Tool: "drive_read_file", Args: map[string]any{"fileId": "1aDoc"},
		Exchanges: []x{
			{Method: "GET", Path: "/drive/v3/files/1aDoc", Query: readMetaQuery,
				Response: `{"id":"1aDoc","name":"Roadmap","mimeType":"application/vnd.google-apps.document"}`},
			{Method: "GET", Path: "/drive/v3/files/1aDoc/export", Query: "mimeType=text%2Fplain&alt=media&prettyPrint=false",
				Header: map[string]string{"Content-Type": "text/plain"}, Response: "\ufeffRoadmap\r\n\r\nQ1: ship the vault.\r\n"}},
		Want: []string{"Roadmap (application/vnd.google-apps.document) exported as text/plain\n\nRoadmap\r\n", "Q1: ship the vault."}},
	{Name: "drive_read_file/google sheet", Tool: "drive_read_file", Args: map[string]any{"fileId": "1aSheet"},
		Exchanges: []x{
			{Method: "GET", Path: "/drive/v3/files/1aSheet", Query: readMetaQuery,
				Response: `{"id":"1aSheet","name":"Budget 2027","mimeType":"application/vnd.google-apps.spreadsheet"}`},
			{Method: "GET", Path: "/drive/v3/files/1aSheet/export", Query: "mimeType=text%2Fcsv&alt=media&prettyPrint=false",
				Header: map[string]string{"Content-Type": "text/csv"}, Response: "item,amount\r\nlaptops,12000\r\n"}},
		Want: []string{"exported as text/csv", "laptops,12000"}},
	{Name: "drive_read_file/text file truncated", Tool: "drive_read_file", Args: map[string]any{"fileId": "1aLog"},
		Exchanges: []x{
			{Method: "GET", Path: "/drive/v3/files/1aLog", Query: readMetaQuery,
				Response: `{"id":"1aLog","name":"build.log","mimeType":"text/plain","size":"200000"}`},
			{Method: "GET", Path: "/drive/v3/files/1aLog", Query: "supportsAllDrives=true&alt=media&prettyPrint=false",
				Header: map[string]string{"Content-Type": "text/plain"}, Response: strings.Repeat("é", 100000)}},
		Want: []string{"build.log (text/plain, 200000 bytes)\n\néé", "\n[truncated by AgentVault after 64512 bytes]"}},
	{Name: "drive_read_file/binary", Tool: "drive_read_file", Args: map[string]any{"fileId": "1aPdf"},
		Exchanges: []x{{Method: "GET", Path: "/drive/v3/files/1aPdf", Query: readMetaQuery,
			Response: `{"id":"1aPdf","name":"contract.pdf","mimeType":"application/pdf","size":"48213"}`}},
		Want: []string{"contract.pdf (application/pdf, 48213 bytes) is not a text file"}},
	{Name: "drive_read_file/missing scope", Tool: "drive_read_file", Args: map[string]any{"fileId": "1aDoc"},
		Exchanges: []x{{Method: "GET", Path: "/drive/v3/files/1aDoc", Query: readMetaQuery, Status: 403,
			Header: map[string]string{"WWW-Authenticate": `Bearer realm="https://accounts.google.com/", error="insufficient_scope", scope="https://www.googleapis.com/auth/drive.readonly"`},
			Response: `{"error":{"code":403,"message":"Request had insufficient authentication scopes.","errors":[{"message":"Insufficient Permission","domain":"global","reason":"insufficientPermissions"}],
 "status":"PERMISSION_DENIED","details":[{"@type":"type.googleapis.com/google.rpc.ErrorInfo","reason":"ACCESS_TOKEN_SCOPE_INSUFFICIENT","domain":"googleapis.com",
 "metadata":{"service":"drive.googleapis.com","method":"google.apps.drive.v3.DriveFiles.Get"}}]}}`}},
		IsError: true, Want: []string{"permission denied", `lacks the "https://www.googleapis.com/auth/drive.readonly" scope`}},
	{Name: "drive_create_file", Tool: "drive_create_file", Args: map[string]any{"name": "notes.md", "content": "# Notes\n\nShip it.", "mimeType": "text/markdown", "parentId": "0AFolder"},
		Exchanges: []x{{Method: "POST", Path: "/upload/drive/v3/files",
			Query:    "uploadType=multipart&supportsAllDrives=true&fields=id%2Cname%2CmimeType%2CwebViewLink&alt=json&prettyPrint=false",
			Body:     multipart(`{"mimeType":"text/markdown","name":"notes.md","parents":["0AFolder"]}`, "text/markdown", "# Notes\n\nShip it."),
			Response: `{"id":"1aNew","name":"notes.md","mimeType":"text/markdown","webViewLink":"https://drive.google.com/file/d/1aNew/view?usp=drivesdk"}`}},
		Want: []string{`"id":"1aNew"`, `"webViewLink":"https://drive.google.com/file/d/1aNew/view?usp=drivesdk"`}},
	{Name: "drive_create_file/google doc", Tool: "drive_create_file", Args: map[string]any{"name": "Minutes", "content": "Decisions: none.", "mimeType": "application/vnd.google-apps.document"},
		Exchanges: []x{{Method: "POST", Path: "/upload/drive/v3/files",
			Query:    "uploadType=multipart&supportsAllDrives=true&fields=id%2Cname%2CmimeType%2CwebViewLink&alt=json&prettyPrint=false",
			Body:     multipart(`{"mimeType":"application/vnd.google-apps.document","name":"Minutes"}`, "text/plain", "Decisions: none."),
			Response: `{"id":"1aMin","name":"Minutes","mimeType":"application/vnd.google-apps.document","webViewLink":"https://docs.google.com/document/d/1aMin/edit?usp=drivesdk"}`}},
		Want: []string{`"mimeType":"application/vnd.google-apps.document"`}},
	{Name: "drive_create_file/folder refused", Tool: "drive_create_file", Args: map[string]any{"name": "x", "mimeType": "application/vnd.google-apps.folder"},
		IsError: true, Want: []string{"cannot create"}},
	{Name: "drive_share_file", Tool: "drive_share_file", Args: map[string]any{"fileId": "1aDoc", "emailAddress": "ann@example.com", "role": "commenter",
		"sendNotificationEmail": false},
		Exchanges: []x{{Method: "POST", Path: "/drive/v3/files/1aDoc/permissions",
			Query:    "sendNotificationEmail=false&supportsAllDrives=true&fields=id%2Ctype%2Crole%2CemailAddress&alt=json&prettyPrint=false",
			Body:     `{"type":"user","role":"commenter","emailAddress":"ann@example.com"}`,
			Response: `{"id":"06813795834562840231","type":"user","role":"commenter","emailAddress":"ann@example.com"}`}},
		Want: []string{`"permissionId":"06813795834562840231"`, `"role":"commenter"`}},
	{Name: "drive_share_file/rate limited", Tool: "drive_share_file", Args: map[string]any{"fileId": "1aDoc", "emailAddress": "ann@example.com", "role": "reader", "emailMessage": "FYI"},
		Exchanges: []x{{Method: "POST", Path: "/drive/v3/files/1aDoc/permissions",
			Query: "emailMessage=FYI&supportsAllDrives=true&fields=id%2Ctype%2Crole%2CemailAddress&alt=json&prettyPrint=false",
			Body:  `{"type":"user","role":"reader","emailAddress":"ann@example.com"}`, Status: 403,
			Response: `{"error":{"errors":[{"domain":"usageLimits","reason":"sharingRateLimitExceeded","message":"Rate limit exceeded. User message: \"Sorry, you have exceeded your sharing quota.\""}],
 "code":403,"message":"Rate limit exceeded. User message: \"Sorry, you have exceeded your sharing quota.\""}}`}},
		IsError: true, Want: []string{"rate limited", "sharing quota"}},
	{Name: "drive_trash_file", Tool: "drive_trash_file", Args: map[string]any{"fileId": "1aDoc"},
		Exchanges: []x{{Method: "PATCH", Path: "/drive/v3/files/1aDoc", Query: "supportsAllDrives=true&fields=id%2Cname%2Ctrashed&alt=json&prettyPrint=false",
			Body: `{"trashed":true}`, Response: `{"id":"1aDoc","name":"Roadmap","trashed":true}`}},
		Want: []string{`{"id":"1aDoc","name":"Roadmap","trashed":true}`}},
}

// A file created in a folder is shared with whoever the folder is: with a
// share guard, drive_create_file reports every permission on the folder but
// the user's own, reading Drive's pages to the end.
func TestDriveCreateReportsWhoTheFolderIsSharedWith(t *testing.T) {
	var mu sync.Mutex
	var requests []string
	asked := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(requests)
	}
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		requests = append(requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
		mu.Unlock()
		switch {
		case r.URL.Path == "/drive/v3/about":
			io.WriteString(w, `{"user":{"emailAddress":"Me@acme.com"}}`)
		case r.URL.Path == "/drive/v3/files/0AGone/permissions":
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":404,"message":"File not found: 0AGone.","errors":[{"reason":"notFound"}]}}`)
		case r.URL.Query().Get("pageToken") == "":
			io.WriteString(w, `{"nextPageToken":"p2","permissions":[{"type":"user","emailAddress":"me@acme.com"},
 {"type":"user","emailAddress":"bob@acme.com"},{"type":"group","emailAddress":"team@acme.com"}]}`)
		default:
			io.WriteString(w, `{"permissions":[{"type":"domain","domain":"evil.com"},{"type":"anyone"}]}`)
		}
	}))
	defer hs.Close()
	p := newProvider(t, hs.URL).(providers.LookingUp)
	share := func(k policy.Kind) bool { return k == policy.Share }
	args := map[string]any{"name": "notes.md", "parentId": "0AFolder"}

	got, err := p.LookUp(t.Context(), "drive_create_file", args, share)
	want := []policy.Resource{{Kind: policy.Share, Value: "bob@acme.com"}, {Kind: policy.Share, Value: "team@acme.com"},
		{Kind: policy.Share, Value: "*@evil.com"}, {Kind: policy.Share, Value: ""}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LookUp = %v, %v; want %v", got, err, want)
	}
	const perms = "GET /drive/v3/files/0AFolder/permissions?alt=json&fields=nextPageToken%2Cpermissions%28type%2CemailAddress%2Cdomain%29&prettyPrint=false&supportsAllDrives=true"
	if requests := asked(); len(requests) != 3 || requests[0] != "GET /drive/v3/about?alt=json&fields=user%28emailAddress%29&prettyPrint=false" ||
		requests[1] != perms || !strings.HasPrefix(requests[2], "GET /drive/v3/files/0AFolder/permissions?") || !strings.Contains(requests[2], "pageToken=p2") {
		t.Fatalf("requests %q", requests)
	}

	before := len(asked())
	for _, tc := range []struct {
		name    string
		args    map[string]any
		guarded func(policy.Kind) bool
	}{
		{"no share guard", args, func(policy.Kind) bool { return false }},
		{"the root of My Drive", map[string]any{"name": "notes.md"}, share},
	} {
		if got, err := p.LookUp(t.Context(), "drive_create_file", tc.args, tc.guarded); err != nil || got != nil || len(asked()) != before {
			t.Errorf("%s: %v, %v after requests %q; want nothing asked", tc.name, got, err, asked()[before:])
		}
	}
	if _, err := p.LookUp(t.Context(), "drive_create_file", map[string]any{"name": "x", "parentId": "0AGone"}, share); err == nil ||
		!strings.Contains(err.Error(), "reading who folder 0AGone is shared with") {
		t.Fatalf("a folder Drive cannot find: %v", err)
	}
}

// Without the signed-in user's address, no permission is taken for theirs:
// one without an address is sharing without limit.
func TestDriveFolderSharingWithoutTheUsersAddress(t *testing.T) {
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/drive/v3/about" {
			io.WriteString(w, `{"user":{}}`)
			return
		}
		io.WriteString(w, `{"permissions":[{"type":"user"}]}`)
	}))
	defer hs.Close()
	p := newProvider(t, hs.URL).(providers.LookingUp)
	got, err := p.LookUp(t.Context(), "drive_create_file", map[string]any{"name": "x", "parentId": "0AFolder"},
		func(k policy.Kind) bool { return k == policy.Share })
	if want := []policy.Resource{{Kind: policy.Share, Value: ""}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("LookUp = %v, %v; want %v", got, err, want)
	}
}
