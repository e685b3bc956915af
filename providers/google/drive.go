package google

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mark3labs/mcp-go/mcp"
	drive "google.golang.org/api/drive/v3"
	"google.golang.org/api/googleapi"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Scopes of which any one lets a Drive tool work. drive.file covers only
// the files the app created or the user opened with it.
var (
	driveReadScopes  = []string{drive.DriveReadonlyScope, drive.DriveScope, drive.DriveFileScope}
	driveWriteScopes = []string{drive.DriveFileScope, drive.DriveScope}
)

// fileText bounds the text of a file shown to the agent, leaving room for
// the line that names it.
const fileText = apitool.MaxText - 1<<10

const mimeTypePattern = `^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$`

// Google's own formats, read through files.export as text.
var exports = map[string]string{
	"application/vnd.google-apps.document":     "text/plain",
	"application/vnd.google-apps.spreadsheet":  "text/csv", // the first sheet only
	"application/vnd.google-apps.presentation": "text/plain",
}

// Google formats drive_create_file converts uploaded text into.
var imports = map[string]string{
	"application/vnd.google-apps.document":    "text/plain",
	"application/vnd.google-apps.spreadsheet": "text/csv",
}

// Types besides text/* whose content is text.
var textTypes = []string{
	"application/json", "application/xml", "application/javascript", "application/x-javascript", "application/ecmascript",
	"application/x-yaml", "application/yaml", "application/toml", "application/x-sh", "application/sql", "application/csv",
	"application/x-ndjson", "application/graphql", "application/x-httpd-php", "application/x-tex", "application/rtf",
}

func isText(mimeType string) bool {
	mt := strings.ToLower(mimeType)
	return strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "+json") || strings.HasSuffix(mt, "+xml") || slices.Contains(textTypes, mt)
}

// cut shortens s to at most n bytes at a character boundary.
func cut(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n], true
}

func driveTools(s *drive.Service) []apitool.Tool {
	return []apitool.Tool{
		driveSearchFiles(s), driveReadFile(s), driveCreateFile(s), driveShareFile(s), driveTrashFile(s),
	}
}

func fileID() mcp.ToolOption {
	return mcp.WithString("fileId", mcp.Required(), mcp.Pattern(idPattern), mcp.Description("File id (from drive_search_files)"))
}

func driveSearchFiles(s *drive.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("drive_search_files", "Search Google Drive",
			"Find files in Drive, shared drives included, with Drive's query syntax, e.g. \"name contains 'budget' and mimeType = 'application/vnd.google-apps.spreadsheet' and trashed = false\" or \"fullText contains 'roadmap'\".",
			apitool.ReadOnly,
			mcp.WithString("q", mcp.Description("Drive query; empty: trashed = false (every file not in the trash)")),
			mcp.WithInteger("pageSize", mcp.Min(1), mcp.Max(100), mcp.Description("Files to return (default 25, at most 100)")),
			mcp.WithString("pageToken", mcp.Description("nextPageToken of a previous search, for the next page")),
		),
		Scopes: driveReadScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			// Every file not in the trash, unless withSearch sets a q argument.
			call := s.Files.List().Q("trashed = false").PageSize(int64(a.Int("pageSize", 25, 100))).
				SupportsAllDrives(true).IncludeItemsFromAllDrives(true).
				Fields("nextPageToken", "files(id,name,mimeType,modifiedTime,webViewLink)").Context(ctx)
			list, err := withSearch(call, a).Do()
			if err != nil {
				return nil, classify(err, driveReadScopes)
			}
			type file struct {
				ID       string `json:"id"`
				Name     string `json:"name"`
				MimeType string `json:"mimeType"`
				Modified string `json:"modifiedTime,omitempty"`
				Link     string `json:"webViewLink,omitempty"`
			}
			out := struct {
				Files         []file `json:"files"`
				NextPageToken string `json:"nextPageToken,omitempty"`
			}{Files: []file{}, NextPageToken: list.NextPageToken}
			for _, f := range list.Files {
				out.Files = append(out.Files, file{f.Id, f.Name, f.MimeType, f.ModifiedTime, f.WebViewLink})
			}
			return apitool.JSON(out)
		},
	}
}

func driveReadFile(s *drive.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("drive_read_file", "Read a Drive file",
			"Read a file as text: Google Docs and Slides as plain text, Google Sheets as CSV (first sheet), other text files as they are (long files truncated). Binary files (PDF, images, Office) are not shown.",
			apitool.ReadOnly, fileID()),
		Scopes: driveReadScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			f, err := s.Files.Get(a.String("fileId")).SupportsAllDrives(true).Fields("id,name,mimeType,size").Context(ctx).Do()
			if err != nil {
				return nil, classify(err, driveReadScopes)
			}
			head := fmt.Sprintf("%s (%s", f.Name, f.MimeType)
			if f.Size > 0 {
				head += fmt.Sprintf(", %d bytes", f.Size)
			}
			head += ")"
			var res *http.Response
			switch export, ok := exports[f.MimeType]; {
			case ok:
				head += " exported as " + export
				res, err = s.Files.Export(f.Id, export).Context(ctx).Download()
			case isText(f.MimeType):
				res, err = s.Files.Get(f.Id).SupportsAllDrives(true).Context(ctx).Download()
			default:
				return apitool.Text(head + " is not a text file: AgentVault does not show its content."), nil
			}
			if err != nil {
				return nil, classify(err, driveReadScopes)
			}
			defer res.Body.Close()
			body, err := io.ReadAll(io.LimitReader(res.Body, fileText+1))
			if err != nil {
				return nil, fmt.Errorf("reading %s from Drive: %w", f.Id, err)
			}
			text, more := cut(strings.TrimPrefix(string(body), "\ufeff"), fileText) // Docs exports start with a BOM
			if !utf8.ValidString(text) || bytes.ContainsRune(body, 0) {
				return apitool.Text(head + " is not UTF-8 text (binary data or another encoding): AgentVault does not show it."), nil
			}
			if more {
				text += fmt.Sprintf("\n[truncated by AgentVault after %d bytes]", len(text))
			}
			return apitool.Text(head + "\n\n" + text), nil
		},
	}
}

func driveCreateFile(s *drive.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("drive_create_file", "Create a Drive file",
			"Create a file with text content. With mimeType application/vnd.google-apps.document the text becomes a Google Doc; with application/vnd.google-apps.spreadsheet, CSV becomes a Google Sheet.",
			apitool.Writes,
			mcp.WithString("name", mcp.Required(), mcp.MinLength(1), mcp.Description("File name, e.g. notes.md")),
			mcp.WithString("content", mcp.Description("Text content")),
			mcp.WithString("mimeType", mcp.Pattern(mimeTypePattern), mcp.Description("Type of the file (default text/plain)")),
			mcp.WithString("parentId", mcp.Pattern(idPattern), mcp.Description("Folder id (default: My Drive's root)")),
		),
		Scopes: driveWriteScopes,
		// A file created in a folder is shared with whoever the folder is.
		LookUpKind: policy.Share,
		LookUp: func(ctx context.Context, a apitool.Args) ([]policy.Resource, error) {
			return folderSharing(ctx, s, a.String("parentId"))
		},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			mt := a.String("mimeType")
			if mt == "" {
				mt = "text/plain"
			}
			media := mt
			if strings.HasPrefix(mt, "application/vnd.google-apps.") {
				if media = imports[mt]; media == "" {
					return nil, invalid("drive_create_file cannot create a %s from text; use a Google Doc or Sheet, or a text type", mt)
				}
			}
			f := &drive.File{Name: a.String("name"), MimeType: mt}
			if p := a.String("parentId"); p != "" {
				f.Parents = []string{p}
			}
			created, err := s.Files.Create(f).Media(strings.NewReader(a.String("content")), googleapi.ContentType(media)).
				SupportsAllDrives(true).Fields("id,name,mimeType,webViewLink").Context(ctx).Do()
			if err != nil {
				return nil, classify(err, driveWriteScopes)
			}
			return apitool.JSON(map[string]any{"id": created.Id, "name": created.Name, "mimeType": created.MimeType, "webViewLink": created.WebViewLink})
		},
	}
}

// folderSharing is who, besides the signed-in user, sees what is created
// in folder: every permission on it, inherited ones included. A domain is
// "*@domain"; anyone with the link, or a kind of permission Drive adds
// later, is sharing without limit (""). Without a folder the file goes to
// the root of My Drive, which is shared with no one.
func folderSharing(ctx context.Context, s *drive.Service, folder string) ([]policy.Resource, error) {
	if folder == "" {
		return nil, nil
	}
	failed := func(err error) error {
		return fmt.Errorf("reading who folder %s is shared with: %w", folder, classify(err, driveWriteScopes))
	}
	about, err := s.About.Get().Fields("user(emailAddress)").Context(ctx).Do()
	if err != nil {
		return nil, failed(err)
	}
	me := ""
	if about.User != nil {
		me = about.User.EmailAddress
	}
	var out []policy.Resource
	err = s.Permissions.List(folder).SupportsAllDrives(true).Fields("nextPageToken", "permissions(type,emailAddress,domain)").
		Pages(ctx, func(l *drive.PermissionList) error {
			for _, p := range l.Permissions {
				v := ""
				switch p.Type {
				case "user", "group":
					if me != "" && strings.EqualFold(p.EmailAddress, me) {
						continue
					}
					v = p.EmailAddress
				case "domain":
					v = "*@" + p.Domain
				}
				out = append(out, policy.Resource{Kind: policy.Share, Value: v})
			}
			return nil
		})
	if err != nil {
		return nil, failed(err)
	}
	return out, nil
}

func driveShareFile(s *drive.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("drive_share_file", "Share a Drive file",
			"Give one person access to a file or folder. This exposes its content to them (a folder: everything in it), and writers can share it further.",
			apitool.Destroys,
			fileID(),
			mcp.WithString("emailAddress", mcp.Required(), mcp.Description("The person's plain email address")),
			mcp.WithString("role", mcp.Required(), mcp.Enum("reader", "commenter", "writer"), mcp.Description("Access to give")),
			mcp.WithBoolean("sendNotificationEmail", mcp.Description("Email them about it (default true)")),
			mcp.WithString("emailMessage", mcp.Description("Text of the notification email")),
		),
		Scopes: driveWriteScopes,
		Resources: func(a apitool.Args) []policy.Resource {
			return []policy.Resource{{Kind: policy.Share, Value: a.String("emailAddress")}}
		},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			email := a.String("emailAddress")
			if err := plainAddress(email); err != nil {
				return nil, err
			}
			call := s.Permissions.Create(a.String("fileId"), &drive.Permission{Type: "user", Role: a.String("role"), EmailAddress: email}).
				SupportsAllDrives(true).Fields("id,type,role,emailAddress").Context(ctx)
			if a.Has("sendNotificationEmail") {
				call.SendNotificationEmail(a.Bool("sendNotificationEmail"))
			}
			if m := a.String("emailMessage"); m != "" {
				call.EmailMessage(m)
			}
			p, err := call.Do()
			if err != nil {
				return nil, classify(err, driveWriteScopes)
			}
			return apitool.JSON(map[string]any{"fileId": a.String("fileId"), "permissionId": p.Id, "emailAddress": p.EmailAddress, "role": p.Role})
		},
	}
}

func driveTrashFile(s *drive.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("drive_trash_file", "Move a Drive file to the trash",
			"Move a file or folder to the trash; Drive deletes it for good after 30 days. AgentVault offers no permanent delete.",
			apitool.Destroys, fileID()),
		Scopes: driveWriteScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			f, err := s.Files.Update(a.String("fileId"), &drive.File{Trashed: true}).SupportsAllDrives(true).
				Fields("id,name,trashed").Context(ctx).Do()
			if err != nil {
				return nil, classify(err, driveWriteScopes)
			}
			return apitool.JSON(map[string]any{"id": f.Id, "name": f.Name, "trashed": f.Trashed})
		},
	}
}
