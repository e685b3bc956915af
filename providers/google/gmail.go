package google

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"html"
	"io"
	"mime"
	"mime/quotedprintable"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	xhtml "golang.org/x/net/html"
	"golang.org/x/net/html/charset"
	gmail "google.golang.org/api/gmail/v1"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Scopes of which any one lets a Gmail tool work. gmail.metadata is not
// among the read scopes: it forbids both search queries and message bodies.
var (
	gmailReadScopes   = []string{gmail.GmailReadonlyScope, gmail.GmailModifyScope, gmail.MailGoogleComScope}
	gmailDraftScopes  = []string{gmail.GmailComposeScope, gmail.GmailModifyScope, gmail.MailGoogleComScope}
	gmailSendScopes   = []string{gmail.GmailSendScope, gmail.GmailComposeScope, gmail.GmailModifyScope, gmail.MailGoogleComScope}
	gmailModifyScopes = []string{gmail.GmailModifyScope, gmail.MailGoogleComScope}
)

// me is the authenticated user, the only mailbox the tools reach.
const me = "me"

// Bounds on what one result carries.
const (
	messageText = 48 << 10 // one message's body
	threadText  = 48 << 10 // all the bodies of a thread together
	// threadBodies is how many of a thread's latest messages are shown with
	// their bodies; older ones show their snippet.
	threadBodies = 20
)

// The headers the summaries show.
var summaryHeaders = []string{"From", "To", "Subject", "Date"}

func gmailTools(s *gmail.Service) []apitool.Tool {
	return []apitool.Tool{
		gmailSearchMessages(s), gmailGetMessage(s), gmailGetThread(s), gmailCreateDraft(s), gmailSendMessage(s),
		gmailModifyLabels(s), gmailTrashMessage(s),
	}
}

func messageID(desc string) mcp.ToolOption {
	return mcp.WithString("id", mcp.Required(), mcp.Pattern(idPattern), mcp.Description(desc))
}

// header returns the first header called name, case-insensitively.
func header(p *gmail.MessagePart, name string) string {
	if p == nil {
		return ""
	}
	for _, h := range p.Headers {
		if strings.EqualFold(h.Name, name) {
			return h.Value
		}
	}
	return ""
}

type messageSummary struct {
	ID       string   `json:"id"`
	ThreadID string   `json:"threadId"`
	From     string   `json:"from,omitempty"`
	To       string   `json:"to,omitempty"`
	Subject  string   `json:"subject,omitempty"`
	Date     string   `json:"date,omitempty"`
	Snippet  string   `json:"snippet,omitempty"`
	Labels   []string `json:"labelIds,omitempty"`
}

func summarizeMessage(m *gmail.Message) messageSummary {
	return messageSummary{ID: m.Id, ThreadID: m.ThreadId, From: header(m.Payload, "From"), To: header(m.Payload, "To"),
		Subject: header(m.Payload, "Subject"), Date: header(m.Payload, "Date"),
		Snippet: html.UnescapeString(m.Snippet), // Gmail escapes snippets as HTML
		Labels:  m.LabelIds}
}

func gmailSearchMessages(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_search_messages", "Search Gmail",
			"Search the mailbox with Gmail's search syntax (e.g. \"from:ann@example.com is:unread newer_than:7d\") and list the matching messages with sender, recipients, subject, date and snippet.",
			apitool.ReadOnly,
			mcp.WithString("q", mcp.Description("Gmail search query; empty: the most recent messages")),
			mcp.WithInteger("maxResults", mcp.Min(1), mcp.Max(50), mcp.Description("Messages to return (default 10, at most 50)")),
			mcp.WithString("pageToken", mcp.Description("nextPageToken of a previous search, for the next page")),
		),
		Scopes: gmailReadScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			call := s.Users.Messages.List(me).MaxResults(int64(a.Int("maxResults", 10, 50))).Context(ctx)
			list, err := withSearch(call, a).Do()
			if err != nil {
				return nil, classify(err, gmailReadScopes)
			}
			out := struct {
				Messages      []messageSummary `json:"messages"`
				NextPageToken string           `json:"nextPageToken,omitempty"`
				Estimate      int64            `json:"resultSizeEstimate"`
			}{Messages: []messageSummary{}, NextPageToken: list.NextPageToken, Estimate: list.ResultSizeEstimate}
			// One metadata request per listed message: at most maxResults (≤ 50).
			for _, m := range list.Messages {
				full, err := s.Users.Messages.Get(me, m.Id).Format("metadata").MetadataHeaders(summaryHeaders...).Context(ctx).Do()
				if err != nil {
					return nil, classify(err, gmailReadScopes)
				}
				out.Messages = append(out.Messages, summarizeMessage(full))
			}
			return apitool.JSON(out)
		},
	}
}

type attachment struct {
	Filename string `json:"filename"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
}

type messageDetail struct {
	messageSummary
	Cc          string       `json:"cc,omitempty"`
	Body        string       `json:"body,omitempty"`
	Attachments []attachment `json:"attachments,omitempty"`
}

func detailMessage(m *gmail.Message, limit int) messageDetail {
	d := messageDetail{messageSummary: summarizeMessage(m), Cc: header(m.Payload, "Cc")}
	d.Snippet = ""
	var plain, htm []string
	walkParts(m.Payload, func(p *gmail.MessagePart) {
		if p.Filename != "" || (p.Body != nil && p.Body.AttachmentId != "") {
			size := int64(0)
			if p.Body != nil {
				size = p.Body.Size
			}
			d.Attachments = append(d.Attachments, attachment{p.Filename, p.MimeType, size})
			return
		}
		if p.Body == nil || p.Body.Data == "" {
			return
		}
		switch strings.ToLower(p.MimeType) {
		case "text/plain":
			plain = append(plain, partText(p))
		case "text/html":
			htm = append(htm, partText(p))
		}
	})
	switch {
	case len(plain) > 0:
		d.Body = strings.Join(plain, "\n\n")
	case len(htm) > 0:
		d.Body = htmlText(strings.Join(htm, "\n"))
	}
	d.Body = apitool.Truncate(strings.TrimSpace(d.Body), limit)
	return d
}

func walkParts(p *gmail.MessagePart, f func(*gmail.MessagePart)) {
	if p == nil {
		return
	}
	if len(p.Parts) == 0 {
		f(p)
	}
	for _, c := range p.Parts {
		walkParts(c, f)
	}
}

// partText decodes a part's body: base64url as Gmail sends it, then from
// the part's charset to UTF-8.
func partText(p *gmail.MessagePart) string {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(p.Body.Data, "="))
	if err != nil {
		return "[AgentVault could not decode this part]"
	}
	if _, params, err := mime.ParseMediaType(header(p, "Content-Type")); err == nil {
		if cs := strings.ToLower(params["charset"]); cs != "" && cs != "utf-8" && cs != "us-ascii" {
			if r, err := charset.NewReaderLabel(cs, bytes.NewReader(raw)); err == nil {
				if b, err := io.ReadAll(r); err == nil {
					raw = b
				}
			}
		}
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// htmlText is the visible text of an HTML body: no tags, scripts or
// styles, entities decoded, a line break per block.
func htmlText(s string) string {
	z := xhtml.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return collapseLines(b.String())
		case xhtml.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken, xhtml.EndTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "script", "style", "head", "title":
				if t := z.Token(); t.Type == xhtml.StartTagToken {
					skip++
				} else if t.Type == xhtml.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "table", "blockquote":
				b.WriteByte('\n')
			case "td", "th":
				b.WriteByte('\t')
			}
		}
	}
}

// collapseLines trims every line, collapses runs of spaces and keeps at
// most one empty line in a row.
func collapseLines(s string) string {
	var out []string
	blank := false
	for _, line := range strings.Split(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			if !blank && len(out) > 0 {
				out = append(out, "")
			}
			blank = true
			continue
		}
		blank = false
		out = append(out, line)
	}
	return strings.TrimSpace(strings.Join(out, "\n"))
}

func gmailGetMessage(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_get_message", "Read an email",
			"Read one message: headers, text body (HTML reduced to text; long bodies truncated) and the names of its attachments.",
			apitool.ReadOnly, messageID("Message id (from gmail_search_messages)")),
		Scopes: gmailReadScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			m, err := s.Users.Messages.Get(me, a.String("id")).Format("full").Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailReadScopes)
			}
			return apitool.JSON(detailMessage(m, messageText))
		},
	}
}

func gmailGetThread(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_get_thread", "Read an email thread",
			"Read a conversation, oldest message first: the latest 20 messages with their text bodies (long ones truncated), older ones by their snippet.",
			apitool.ReadOnly, messageID("Thread id (threadId from gmail_search_messages)")),
		Scopes: gmailReadScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			t, err := s.Users.Threads.Get(me, a.String("id")).Format("full").Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailReadScopes)
			}
			out := struct {
				ID       string          `json:"id"`
				Messages []messageDetail `json:"messages"`
			}{ID: t.Id, Messages: []messageDetail{}}
			// The latest threadBodies messages with bodies sharing threadText,
			// older ones by their snippet, so the JSON stays whole.
			withBody := min(len(t.Messages), threadBodies)
			limit := threadText / max(1, withBody)
			for i, m := range t.Messages {
				if i < len(t.Messages)-withBody {
					d := messageDetail{messageSummary: summarizeMessage(m)}
					d.Labels = nil
					out.Messages = append(out.Messages, d)
					continue
				}
				out.Messages = append(out.Messages, detailMessage(m, limit))
			}
			return apitool.JSON(out)
		},
	}
}

func recipients() []mcp.ToolOption {
	return []mcp.ToolOption{
		mcp.WithArray("to", mcp.WithStringItems(), mcp.Description("Recipients: plain addresses such as ann@example.com, no display names")),
		mcp.WithArray("cc", mcp.WithStringItems(), mcp.Description("Cc recipients: plain addresses")),
		mcp.WithArray("bcc", mcp.WithStringItems(), mcp.Description("Bcc recipients: plain addresses")),
		mcp.WithString("subject", mcp.Description("Subject")),
		mcp.WithString("body", mcp.Description("Plain-text body")),
	}
}

var recipientResources = addressResources(policy.Recipient, "to", "cc", "bcc")

// rawMessage builds the RFC 5322 message of a draft or a mail to send, as
// Gmail wants it: base64url. Recipients must be plain addresses (what the
// recipient guard checked is exactly what is sent); the subject is
// RFC 2047-encoded, so no argument can add a header. Gmail sets From, Date
// and Message-ID.
func rawMessage(a apitool.Args, needRecipient bool) (string, error) {
	var b strings.Builder
	n := 0
	for _, h := range []struct{ name, arg string }{{"To", "to"}, {"Cc", "cc"}, {"Bcc", "bcc"}} {
		list := a.Strings(h.arg)
		for _, addr := range list {
			if err := plainAddress(addr); err != nil {
				return "", err
			}
		}
		if len(list) > 0 {
			fmt.Fprintf(&b, "%s: %s\r\n", h.name, strings.Join(list, ", "))
			n += len(list)
		}
	}
	if needRecipient && n == 0 {
		return "", invalid("give at least one recipient in to, cc or bcc")
	}
	if subject := a.String("subject"); subject != "" {
		fmt.Fprintf(&b, "Subject: %s\r\n", mime.QEncoding.Encode("utf-8", subject))
	}
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: text/plain; charset=\"UTF-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n")
	body := strings.ReplaceAll(strings.ReplaceAll(a.String("body"), "\r\n", "\n"), "\n", "\r\n")
	qp := quotedprintable.NewWriter(&b)
	if _, err := io.WriteString(qp, body); err != nil {
		return "", fmt.Errorf("encoding the message: %w", err)
	}
	if err := qp.Close(); err != nil {
		return "", fmt.Errorf("encoding the message: %w", err)
	}
	return base64.URLEncoding.EncodeToString([]byte(b.String())), nil
}

func gmailCreateDraft(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_create_draft", "Create an email draft",
			"Save a plain-text email as a draft in the user's mailbox, for the user to review and send. Nothing is sent.",
			apitool.Writes, recipients()...),
		Scopes:    gmailDraftScopes,
		Resources: recipientResources,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			raw, err := rawMessage(a, false)
			if err != nil {
				return nil, err
			}
			d, err := s.Users.Drafts.Create(me, &gmail.Draft{Message: &gmail.Message{Raw: raw}}).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailDraftScopes)
			}
			out := map[string]any{"draftId": d.Id}
			if d.Message != nil {
				out["messageId"], out["threadId"] = d.Message.Id, d.Message.ThreadId
			}
			return apitool.JSON(out)
		},
	}
}

func gmailSendMessage(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_send_message", "Send an email",
			"Send a plain-text email from the user's address. Irreversible: once sent it cannot be recalled. Prefer gmail_create_draft when the user should review it first.",
			apitool.Writes, recipients()...),
		Scopes:    gmailSendScopes,
		Resources: recipientResources,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			raw, err := rawMessage(a, true)
			if err != nil {
				return nil, err
			}
			m, err := s.Users.Messages.Send(me, &gmail.Message{Raw: raw}).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailSendScopes)
			}
			return apitool.JSON(map[string]any{"sent": true, "id": m.Id, "threadId": m.ThreadId, "labelIds": m.LabelIds})
		},
	}
}

func gmailModifyLabels(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_modify_labels", "Change an email's labels",
			"Add or remove label ids on a message: e.g. remove UNREAD to mark it read, remove INBOX to archive it, add STARRED, or a user label id (Label_…). Use gmail_trash_message to trash.",
			apitool.Writes,
			messageID("Message id"),
			mcp.WithArray("addLabelIds", mcp.WithStringItems(), mcp.Description("Label ids to add")),
			mcp.WithArray("removeLabelIds", mcp.WithStringItems(), mcp.Description("Label ids to remove")),
		),
		Scopes: gmailModifyScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			add, remove := a.Strings("addLabelIds"), a.Strings("removeLabelIds")
			if len(add)+len(remove) == 0 {
				return nil, invalid("give addLabelIds or removeLabelIds")
			}
			for _, l := range add {
				if strings.EqualFold(l, "TRASH") {
					return nil, invalid("use gmail_trash_message to move a message to the trash")
				}
			}
			m, err := s.Users.Messages.Modify(me, a.String("id"), &gmail.ModifyMessageRequest{AddLabelIds: add, RemoveLabelIds: remove}).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailModifyScopes)
			}
			return apitool.JSON(map[string]any{"id": m.Id, "labelIds": m.LabelIds})
		},
	}
}

func gmailTrashMessage(s *gmail.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("gmail_trash_message", "Move an email to the trash",
			"Move a message to the trash; Gmail deletes it for good after 30 days. AgentVault offers no permanent delete.",
			apitool.Destroys, messageID("Message id")),
		Scopes: gmailModifyScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			m, err := s.Users.Messages.Trash(me, a.String("id")).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, gmailModifyScopes)
			}
			return apitool.JSON(map[string]any{"id": m.Id, "trashed": true, "labelIds": m.LabelIds})
		},
	}
}
