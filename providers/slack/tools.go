package slack

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mark3labs/mcp-go/mcp"
	sl "github.com/slack-go/slack"

	"github.com/agentvault/agentvault/providers/apitool"
)

// Argument spellings Slack uses, validated before any request. Channels
// match what argument guards accept (policy's channel form).
const (
	channelPattern = `^#?[A-Za-z0-9_-]{1,80}$`
	tsPattern      = `^[0-9]{1,12}\.[0-9]{1,8}$`
	timePattern    = `^[0-9]{1,12}(?:\.[0-9]{1,8})?$`
	userPattern    = `^[UW][A-Z0-9]{2,30}$`
)

// Scopes of which any one lets a tool work (Slack user scopes).
var (
	readScopes    = []string{"channels:read", "groups:read", "im:read", "mpim:read"}
	historyScopes = []string{"channels:history", "groups:history", "im:history", "mpim:history"}
	chatScopes    = []string{"chat:write"}
)

// maxMessage bounds the text of one message in a result.
const maxMessage = 4000

var conversationTypes = []string{"public_channel", "private_channel", "mpim", "im"}

func channelArg(desc string) mcp.ToolOption {
	return mcp.WithString("channel", mcp.Required(), mcp.Pattern(channelPattern), mcp.Description(desc))
}

func tsArg(name, desc string) mcp.ToolOption {
	return mcp.WithString(name, mcp.Required(), mcp.Pattern(tsPattern), mcp.Description(desc))
}

func textArg(desc string) mcp.ToolOption {
	return mcp.WithString("text", mcp.Required(), mcp.MinLength(1), mcp.Description(desc))
}

func pageArgs(def, limit int) []mcp.ToolOption {
	return []mcp.ToolOption{
		mcp.WithInteger("limit", mcp.Min(1), mcp.Max(float64(limit)), mcp.Description(fmt.Sprintf("Results per page (default %d, at most %d)", def, limit))),
		mcp.WithString("cursor", mcp.Description("next_cursor of the previous page")),
	}
}

func opts(groups ...[]mcp.ToolOption) []mcp.ToolOption {
	var out []mcp.ToolOption
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

func tools(c *sl.Client) []apitool.Tool {
	return []apitool.Tool{
		listConversations(c), readHistory(c), readThread(c), searchMessages(c), getUser(c), getPermalink(c),
		postMessage(c), replyInThread(c), addReaction(c), updateMessage(c), deleteMessage(c),
	}
}

type message struct {
	TS         string   `json:"ts"`
	User       string   `json:"user,omitempty"`
	Bot        string   `json:"bot,omitempty"`
	Subtype    string   `json:"subtype,omitempty"`
	Text       string   `json:"text"`
	ThreadTS   string   `json:"thread_ts,omitempty"`
	ReplyCount int      `json:"reply_count,omitempty"`
	Files      []string `json:"files,omitempty"`
	Reactions  []string `json:"reactions,omitempty"`
	Edited     bool     `json:"edited,omitempty"`
}

func summarize(m sl.Message) message {
	s := message{TS: m.Timestamp, User: m.User, Subtype: m.SubType, Text: apitool.Truncate(m.Text, maxMessage),
		ThreadTS: m.ThreadTimestamp, ReplyCount: m.ReplyCount, Edited: m.Edited != nil}
	if m.BotID != "" {
		s.Bot = m.Username
		if s.Bot == "" {
			s.Bot = m.BotID
		}
	}
	for _, f := range m.Files {
		s.Files = append(s.Files, f.Name)
	}
	for _, r := range m.Reactions {
		s.Reactions = append(s.Reactions, fmt.Sprintf("%s×%d", r.Name, r.Count))
	}
	return s
}

type page struct {
	Messages   []message `json:"messages"`
	HasMore    bool      `json:"has_more"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

func messages(list []sl.Message, hasMore bool, cursor string) page {
	out := page{Messages: []message{}, HasMore: hasMore, NextCursor: cursor}
	for _, m := range list {
		out.Messages = append(out.Messages, summarize(m))
	}
	return out
}

func listConversations(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("list_conversations", "List conversations",
			"List the workspace's channels (not archived) with their ids, for the other tools' channel argument.", apitool.ReadOnly,
			opts([]mcp.ToolOption{
				mcp.WithArray("types", mcp.WithStringEnumItems(conversationTypes),
					mcp.Description("Conversation types (default: public_channel, private_channel)")),
			}, pageArgs(100, 200))...),
		Scopes: readScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			types := a.Strings("types")
			for _, t := range types {
				if !slices.Contains(conversationTypes, t) {
					return nil, &apitool.Error{Kind: apitool.Invalid, Service: service, Message: fmt.Sprintf("unknown conversation type %q (types: %s)", t, strings.Join(conversationTypes, ", "))}
				}
			}
			if len(types) == 0 {
				types = []string{"public_channel", "private_channel"}
			}
			list, next, err := c.GetConversationsContext(ctx, &sl.GetConversationsParameters{
				Types: types, Limit: a.Int("limit", 100, 200), Cursor: a.String("cursor"), ExcludeArchived: true})
			if err != nil {
				return nil, classify(err)
			}
			type conversation struct {
				ID       string `json:"id"`
				Name     string `json:"name,omitempty"`
				User     string `json:"user,omitempty"`
				Private  bool   `json:"private"`
				IsMember bool   `json:"is_member"`
				Members  int    `json:"members,omitempty"`
				Topic    string `json:"topic,omitempty"`
			}
			out := struct {
				Conversations []conversation `json:"conversations"`
				NextCursor    string         `json:"next_cursor,omitempty"`
			}{Conversations: []conversation{}, NextCursor: next}
			for _, ch := range list {
				out.Conversations = append(out.Conversations, conversation{ch.ID, ch.Name, ch.User, ch.IsPrivate, ch.IsMember,
					ch.NumMembers, apitool.Truncate(ch.Topic.Value, 200)})
			}
			return apitool.JSON(out)
		},
	}
}

func readHistory(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("read_history", "Read channel history",
			"Read a conversation's messages, newest first. Thread replies are not included: read them with read_thread.", apitool.ReadOnly,
			opts([]mcp.ToolOption{
				channelArg("Conversation id (C…, G…, D…)"),
				mcp.WithString("oldest", mcp.Pattern(timePattern), mcp.Description("Only messages after this ts (Unix time)")),
				mcp.WithString("latest", mcp.Pattern(timePattern), mcp.Description("Only messages before this ts (Unix time)")),
			}, pageArgs(20, 100))...),
		Scopes:    historyScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			res, err := c.GetConversationHistoryContext(ctx, &sl.GetConversationHistoryParameters{ChannelID: a.String("channel"),
				Oldest: a.String("oldest"), Latest: a.String("latest"), Limit: a.Int("limit", 20, 100), Cursor: a.String("cursor")})
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(messages(res.Messages, res.HasMore, res.ResponseMetaData.NextCursor))
		},
	}
}

func readThread(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("read_thread", "Read a thread",
			"Read a thread: its parent message, then the replies, oldest first.", apitool.ReadOnly,
			opts([]mcp.ToolOption{
				channelArg("Conversation id"),
				tsArg("ts", "ts of the thread's parent message"),
			}, pageArgs(50, 100))...),
		Scopes:    historyScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			list, more, next, err := c.GetConversationRepliesContext(ctx, &sl.GetConversationRepliesParameters{ChannelID: a.String("channel"),
				Timestamp: a.String("ts"), Limit: a.Int("limit", 50, 100), Cursor: a.String("cursor")})
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(messages(list, more, next))
		},
	}
}

func searchMessages(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("search_messages", "Search messages",
			"Search messages with Slack's search syntax (e.g. \"deploy in:#eng from:@ann after:2026-01-01\").", apitool.ReadOnly,
			mcp.WithString("query", mcp.Required(), mcp.MinLength(1), mcp.Description("Search query; in:#channel limits it to a channel")),
			mcp.WithString("sort", mcp.Enum("score", "timestamp"), mcp.Description("Default: score (best match first); timestamp: newest first")),
			mcp.WithInteger("count", mcp.Min(1), mcp.Max(100), mcp.Description("Results per page (default 20, at most 100)")),
			mcp.WithInteger("page", mcp.Min(1), mcp.Max(100), mcp.Description("Page number, from 1"))),
		Scopes:    []string{"search:read"},
		Resources: searchResources,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			p := sl.NewSearchParameters()
			p.Count, p.Page = a.Int("count", 20, 100), a.Int("page", 1, 100)
			if a.Has("sort") {
				p.Sort = a.String("sort")
			}
			res, err := c.SearchMessagesContext(ctx, a.String("query"), p)
			if err != nil {
				return nil, classify(err)
			}
			type match struct {
				Channel     string `json:"channel"`
				ChannelName string `json:"channel_name,omitempty"`
				TS          string `json:"ts"`
				User        string `json:"user,omitempty"`
				Username    string `json:"username,omitempty"`
				Text        string `json:"text"`
				Permalink   string `json:"permalink"`
			}
			out := struct {
				Total   int     `json:"total"`
				Page    int     `json:"page"`
				Pages   int     `json:"pages"`
				Matches []match `json:"matches"`
			}{Total: res.Total, Page: res.Paging.Page, Pages: res.Paging.Pages, Matches: []match{}}
			for _, m := range res.Matches {
				out.Matches = append(out.Matches, match{m.Channel.ID, m.Channel.Name, m.Timestamp, m.User, m.Username,
					apitool.Truncate(m.Text, maxMessage), m.Permalink})
			}
			return apitool.JSON(out)
		},
	}
}

func getUser(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_user", "Get a user", "Read a user's names, title, time zone and status.", apitool.ReadOnly,
			mcp.WithString("user", mcp.Required(), mcp.Pattern(userPattern), mcp.Description("User id (U…, W…)"))),
		Scopes: []string{"users:read"},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			u, err := c.GetUserInfoContext(ctx, a.String("user"))
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				RealName    string `json:"real_name,omitempty"`
				DisplayName string `json:"display_name,omitempty"`
				Title       string `json:"title,omitempty"`
				Email       string `json:"email,omitempty"`
				TZ          string `json:"tz,omitempty"`
				Status      string `json:"status,omitempty"`
				IsBot       bool   `json:"is_bot,omitempty"`
				Deleted     bool   `json:"deleted,omitempty"`
			}{u.ID, u.Name, u.RealName, u.Profile.DisplayName, u.Profile.Title, u.Profile.Email, u.TZ,
				strings.TrimSpace(u.Profile.StatusEmoji + " " + u.Profile.StatusText), u.IsBot, u.Deleted})
		},
	}
}

func getPermalink(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("get_permalink", "Get a message link", "Get the permanent link to a message, to share it with people.", apitool.ReadOnly,
			channelArg("Conversation id"), tsArg("ts", "ts of the message")),
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			link, err := c.GetPermalinkContext(ctx, &sl.PermalinkParameters{Channel: a.String("channel"), Ts: a.String("ts")})
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]string{"permalink": link})
		},
	}
}

// posted is what the agent learns of a message it sent.
type posted struct {
	Channel  string `json:"channel"`
	TS       string `json:"ts"`
	ThreadTS string `json:"thread_ts,omitempty"`
}

func post(ctx context.Context, c *sl.Client, channel string, opts ...sl.MsgOption) (*mcp.CallToolResult, error) {
	ch, ts, m, err := c.PostMessageWithResponseContext(ctx, channel, opts...)
	if err != nil {
		return nil, classify(err)
	}
	return apitool.JSON(posted{ch, ts, m.ThreadTimestamp})
}

func postMessage(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("post_message", "Post a message", "Post a message to a conversation as the connected user.", apitool.Writes,
			channelArg("Conversation id, or a channel name"),
			textArg("Message text (Slack mrkdwn; <@U123> mentions a user)")),
		Scopes:    chatScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			return post(ctx, c, a.String("channel"), sl.MsgOptionText(a.String("text"), false))
		},
	}
}

func replyInThread(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("reply_in_thread", "Reply in a thread", "Reply in a message's thread as the connected user.", apitool.Writes,
			channelArg("Conversation id"),
			tsArg("thread_ts", "ts of the thread's parent message"),
			textArg("Reply text (Slack mrkdwn)")),
		Scopes:    chatScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			return post(ctx, c, a.String("channel"), sl.MsgOptionText(a.String("text"), false), sl.MsgOptionTS(a.String("thread_ts")))
		},
	}
}

func addReaction(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("add_reaction", "Add a reaction", "React to a message with an emoji as the connected user.", apitool.Writes,
			channelArg("Conversation id"),
			tsArg("ts", "ts of the message"),
			mcp.WithString("name", mcp.Required(), mcp.Pattern(`^:?[a-z0-9_+'-]+(?:::skin-tone-[2-6])?:?$`), mcp.Description("Emoji name, e.g. thumbsup or :eyes:"))),
		Scopes:    []string{"reactions:write"},
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			name := strings.TrimSuffix(strings.TrimPrefix(a.String("name"), ":"), ":")
			if err := c.AddReactionContext(ctx, name, sl.NewRefToMessage(a.String("channel"), a.String("ts"))); err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]string{"channel": a.String("channel"), "ts": a.String("ts"), "reaction": name})
		},
	}
}

func updateMessage(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("update_message", "Edit a message", "Replace the text of a message the connected user posted.", apitool.Writes,
			channelArg("Conversation id"),
			tsArg("ts", "ts of the message"),
			textArg("New text (Slack mrkdwn)")),
		Scopes:    chatScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			ch, ts, _, err := c.UpdateMessageContext(ctx, a.String("channel"), a.String("ts"), sl.MsgOptionText(a.String("text"), false))
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(posted{Channel: ch, TS: ts})
		},
	}
}

func deleteMessage(c *sl.Client) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("delete_message", "Delete a message", "Delete a message the connected user posted. It cannot be restored.", apitool.Destroys,
			channelArg("Conversation id"),
			tsArg("ts", "ts of the message")),
		Scopes:    chatScopes,
		Resources: channelResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			ch, ts, err := c.DeleteMessageContext(ctx, a.String("channel"), a.String("ts"))
			if err != nil {
				return nil, classify(err)
			}
			return apitool.JSON(map[string]any{"deleted": true, "channel": ch, "ts": ts})
		},
	}
}
