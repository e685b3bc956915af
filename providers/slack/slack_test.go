package slack

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"testing"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers"
	"github.com/agentvault/agentvault/providers/providertest"
)

func newProvider(t *testing.T, url string) providers.Provider {
	p, err := New(Config{HTTPClient: http.DefaultClient, BaseURL: url + "/api"})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestToolSnapshots(t *testing.T) { providertest.Snapshots(t, newProvider(t, "http://127.0.0.1:1")) }

type x = providertest.Exchange

const historyJSON = `{"ok":true,"messages":[
 {"type":"message","user":"U012AB3CDE","text":"Deploy is done","ts":"1512085950.000216","thread_ts":"1512085950.000216","reply_count":2,
  "reactions":[{"name":"tada","users":["U061F7AUR"],"count":1}]},
 {"type":"message","subtype":"bot_message","bot_id":"B0123","username":"ci","text":"build green","ts":"1512104434.000490",
  "files":[{"id":"F1","name":"log.txt"}],"edited":{"user":"U1","ts":"1512104435.000000"}}],
 "has_more":true,"pin_count":0,"response_metadata":{"next_cursor":"bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"}}`

func TestToolsOnTheWire(t *testing.T) {
	providertest.RunCases(t, newProvider, []providertest.Case{
		{Name: "list_conversations", Tool: "list_conversations", Args: map[string]any{"limit": 50.0, "cursor": "dXNlcjpVMDYxTkZUVDI="},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.list",
				Body: "types=public_channel%2Cprivate_channel&limit=50&cursor=dXNlcjpVMDYxTkZUVDI%3D&exclude_archived=true",
				Response: `{"ok":true,"channels":[{"id":"C012AB3CD","name":"general","is_channel":true,"is_private":false,"is_member":true,
				 "num_members":4,"topic":{"value":"Company-wide announcements"}},{"id":"G0AKFJBEU","name":"eng-secret","is_private":true,"is_member":false}],
				 "response_metadata":{"next_cursor":"dGVhbTpDMDYxRkE1UEI="}}`}},
			Want: []string{`{"id":"C012AB3CD","name":"general","private":false,"is_member":true,"members":4,"topic":"Company-wide announcements"}`,
				`"private":true`, `"next_cursor":"dGVhbTpDMDYxRkE1UEI="`}},
		{Name: "list_conversations/direct messages", Tool: "list_conversations", Args: map[string]any{"types": []any{"im"}},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.list", Body: "types=im&limit=100&exclude_archived=true",
				Response: `{"ok":true,"channels":[{"id":"D0C0F7S8Y","is_im":true,"user":"U0BS9U4SV"}],"response_metadata":{"next_cursor":""}}`}},
			Want: []string{`{"id":"D0C0F7S8Y","user":"U0BS9U4SV","private":false,"is_member":false}`}},
		{Name: "list_conversations/unknown type refused before any request", Tool: "list_conversations", Args: map[string]any{"types": []any{"everything"}},
			IsError: true, Want: []string{`unknown conversation type "everything"`}},
		{Name: "read_history", Tool: "read_history", Args: map[string]any{"channel": "C012AB3CD", "limit": 2.0, "oldest": "1512085000", "latest": "1512105000.000000"},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.history",
				Body:     "channel=C012AB3CD&limit=2&oldest=1512085000&latest=1512105000.000000&inclusive=0&include_all_metadata=0",
				Response: historyJSON}},
			Want: []string{`{"ts":"1512085950.000216","user":"U012AB3CDE","text":"Deploy is done","thread_ts":"1512085950.000216","reply_count":2,"reactions":["tada×1"]}`,
				`"bot":"ci","subtype":"bot_message"`, `"files":["log.txt"],"edited":true`, `"has_more":true`, `"next_cursor":"bmV4dF90czoxNTEyMDg1ODYxMDAwNTQz"`}},
		{Name: "read_history/rate limited", Tool: "read_history", Args: map[string]any{"channel": "C012AB3CD"},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.history", Body: "channel=C012AB3CD&limit=20&inclusive=0&include_all_metadata=0",
				Status: 429, Header: map[string]string{"Retry-After": "30"}, Response: `{"ok":false,"error":"ratelimited"}`}},
			IsError: true, Want: []string{"Slack: rate limited; retry after"}},
		{Name: "read_history/not in channel", Tool: "read_history", Args: map[string]any{"channel": "C012AB3CD"},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.history", Body: "channel=C012AB3CD&limit=20&inclusive=0&include_all_metadata=0",
				Response: `{"ok":false,"error":"not_in_channel"}`}},
			IsError: true, Want: []string{"permission denied: not_in_channel"}},
		{Name: "read_history/channel not found", Tool: "read_history", Args: map[string]any{"channel": "C0SECRET"},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.history", Body: "channel=C0SECRET&limit=20&inclusive=0&include_all_metadata=0",
				Response: `{"ok":false,"error":"channel_not_found"}`}},
			IsError: true, Want: []string{"Slack: not found: channel_not_found (or not visible to the connected account)"}},
		{Name: "read_history/channel with a slash refused", Tool: "read_history", Args: map[string]any{"channel": "C012/../x"},
			IsError: true, Want: []string{"channel"}},
		{Name: "read_thread", Tool: "read_thread", Args: map[string]any{"channel": "C012AB3CD", "ts": "1512085950.000216", "cursor": "bmV4dA=="},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.replies",
				Body: "channel=C012AB3CD&ts=1512085950.000216&cursor=bmV4dA%3D%3D&limit=50&inclusive=0&include_all_metadata=0",
				Response: `{"ok":true,"messages":[{"type":"message","user":"U061F7AUR","text":"island","thread_ts":"1482960137.003543","reply_count":3,"ts":"1482960137.003543"},
				 {"type":"message","user":"U061F7AUR","text":"one island","thread_ts":"1482960137.003543","parent_user_id":"U061F7AUR","ts":"1483037603.017503"}],
				 "has_more":false,"response_metadata":{"next_cursor":""}}`}},
			Want: []string{`"text":"island"`, `{"ts":"1483037603.017503","user":"U061F7AUR","text":"one island","thread_ts":"1482960137.003543"}`, `"has_more":false}`}},
		{Name: "read_thread/thread not found", Tool: "read_thread", Args: map[string]any{"channel": "C012AB3CD", "ts": "1.2"},
			Exchanges: []x{{Method: "POST", Path: "/api/conversations.replies", Body: "channel=C012AB3CD&ts=1.2&limit=50&inclusive=0&include_all_metadata=0",
				Response: `{"ok":false,"error":"thread_not_found"}`}},
			IsError: true, Want: []string{"not found: thread_not_found"}},
		{Name: "search_messages", Tool: "search_messages", Args: map[string]any{"query": "deploy in:#eng", "sort": "timestamp", "count": 5.0, "page": 2.0},
			Exchanges: []x{{Method: "POST", Path: "/api/search.messages", Body: "query=deploy+in%3A%23eng&sort=timestamp&count=5&page=2",
				Response: `{"ok":true,"query":"deploy in:#eng","messages":{"total":6,"paging":{"count":5,"total":6,"page":2,"pages":2},
				 "pagination":{"total_count":6,"page":2,"per_page":5,"page_count":2,"first":6,"last":6},
				 "matches":[{"type":"message","channel":{"id":"C0ENG","name":"eng","is_private":false},"user":"U2147483709","username":"ann",
				  "ts":"1359414002.000003","text":"deploy at 5","permalink":"https://acme.slack.com/archives/C0ENG/p1359414002000003"}]}}`}},
			Want: []string{`"total":6,"page":2,"pages":2`,
				`{"channel":"C0ENG","channel_name":"eng","ts":"1359414002.000003","user":"U2147483709","username":"ann","text":"deploy at 5","permalink":"https://acme.slack.com/archives/C0ENG/p1359414002000003"}`}},
		{Name: "search_messages/bot token", Tool: "search_messages", Args: map[string]any{"query": "deploy"},
			Exchanges: []x{{Method: "POST", Path: "/api/search.messages", Body: "query=deploy", Response: `{"ok":false,"error":"not_allowed_token_type"}`}},
			IsError:   true, Want: []string{"permission denied: not_allowed_token_type"}},
		{Name: "get_user", Tool: "get_user", Args: map[string]any{"user": "W012A3CDE"},
			Exchanges: []x{{Method: "POST", Path: "/api/users.info", Body: "user=W012A3CDE&include_locale=true",
				Response: `{"ok":true,"user":{"id":"W012A3CDE","team_id":"T012AB3C4","name":"spengler","deleted":false,"real_name":"Egon Spengler",
				 "tz":"America/Los_Angeles","profile":{"title":"Ghostbuster","real_name":"Egon Spengler","display_name":"spengler",
				 "status_text":"Print is dead","status_emoji":":books:","email":"spengler@ghostbusters.example.com"},"is_bot":false}}`}},
			Want: []string{`{"id":"W012A3CDE","name":"spengler","real_name":"Egon Spengler","display_name":"spengler","title":"Ghostbuster",` +
				`"email":"spengler@ghostbusters.example.com","tz":"America/Los_Angeles","status":":books: Print is dead"}`}},
		{Name: "get_user/not found", Tool: "get_user", Args: map[string]any{"user": "U999"},
			Exchanges: []x{{Method: "POST", Path: "/api/users.info", Body: "user=U999&include_locale=true", Response: `{"ok":false,"error":"user_not_found"}`}},
			IsError:   true, Want: []string{"not found: user_not_found"}},
		{Name: "get_permalink", Tool: "get_permalink", Args: map[string]any{"channel": "C1H9RESGA", "ts": "1358546515.000008"},
			Exchanges: []x{{Method: "GET", Path: "/api/chat.getPermalink", Query: "channel=C1H9RESGA&message_ts=1358546515.000008",
				Response: `{"ok":true,"channel":"C1H9RESGA","permalink":"https://ghostbusters.slack.com/archives/C1H9RESGA/p135854651500008"}`}},
			Want: []string{`{"permalink":"https://ghostbusters.slack.com/archives/C1H9RESGA/p135854651500008"}`}},
		{Name: "get_permalink/message not found", Tool: "get_permalink", Args: map[string]any{"channel": "C1H9RESGA", "ts": "1.2"},
			Exchanges: []x{{Method: "GET", Path: "/api/chat.getPermalink", Query: "channel=C1H9RESGA&message_ts=1.2", Response: `{"ok":false,"error":"message_not_found"}`}},
			IsError:   true, Want: []string{"not found: message_not_found"}},
		{Name: "post_message", Tool: "post_message", Args: map[string]any{"channel": "#eng-bots", "text": "Hello <@U123> & all"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.postMessage", Body: "channel=%23eng-bots&text=Hello+%3C%40U123%3E+%26+all",
				Response: `{"ok":true,"channel":"C123ABC456","ts":"1503435956.000247","message":{"text":"Hello <@U123> &amp; all","user":"U012AB3CDE","type":"message","ts":"1503435956.000247"}}`}},
			Want: []string{`{"channel":"C123ABC456","ts":"1503435956.000247"}`}},
		{Name: "post_message/revoked credential", Tool: "post_message", Args: map[string]any{"channel": "C123", "text": "x"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.postMessage", Body: "channel=C123&text=x", Response: `{"ok":false,"error":"invalid_auth"}`}},
			IsError:   true, Want: []string{"ask the user to reconnect Slack in AgentVault: invalid_auth"}},
		{Name: "post_message/missing scope", Tool: "post_message", Args: map[string]any{"channel": "C123", "text": "x"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.postMessage", Body: "channel=C123&text=x",
				Response: `{"ok":false,"error":"missing_scope","needed":"chat:write","provided":"channels:history,channels:read"}`}},
			IsError: true, Want: []string{`permission denied (the connection lacks the "chat:write" scope: reconnect Slack in AgentVault and grant it): missing_scope`}},
		{Name: "post_message/archived", Tool: "post_message", Args: map[string]any{"channel": "C123", "text": "x"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.postMessage", Body: "channel=C123&text=x", Response: `{"ok":false,"error":"is_archived"}`}},
			IsError:   true, Want: []string{"Slack refused the request: is_archived"}},
		{Name: "post_message/empty text refused", Tool: "post_message", Args: map[string]any{"channel": "C123", "text": ""},
			IsError: true, Want: []string{"text"}},
		{Name: "reply_in_thread", Tool: "reply_in_thread", Args: map[string]any{"channel": "C123ABC456", "thread_ts": "1503435956.000247", "text": "On it"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.postMessage", Body: "channel=C123ABC456&text=On+it&thread_ts=1503435956.000247",
				Response: `{"ok":true,"channel":"C123ABC456","ts":"1503435999.000100","message":{"text":"On it","type":"message","ts":"1503435999.000100","thread_ts":"1503435956.000247"}}`}},
			Want: []string{`{"channel":"C123ABC456","ts":"1503435999.000100","thread_ts":"1503435956.000247"}`}},
		{Name: "add_reaction", Tool: "add_reaction", Args: map[string]any{"channel": "C0G9QF9GZ", "ts": "1360782400.498405", "name": ":thumbsup:"},
			Exchanges: []x{{Method: "POST", Path: "/api/reactions.add", Body: "name=thumbsup&channel=C0G9QF9GZ&timestamp=1360782400.498405", Response: `{"ok":true}`}},
			Want:      []string{`{"channel":"C0G9QF9GZ","reaction":"thumbsup","ts":"1360782400.498405"}`}},
		{Name: "add_reaction/already reacted", Tool: "add_reaction", Args: map[string]any{"channel": "C0G9QF9GZ", "ts": "1360782400.498405", "name": "eyes"},
			Exchanges: []x{{Method: "POST", Path: "/api/reactions.add", Body: "name=eyes&channel=C0G9QF9GZ&timestamp=1360782400.498405", Response: `{"ok":false,"error":"already_reacted"}`}},
			IsError:   true, Want: []string{"refused the request: already_reacted"}},
		{Name: "update_message", Tool: "update_message", Args: map[string]any{"channel": "C123ABC456", "ts": "1401383885.000061", "text": "Updated text"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.update", Body: "channel=C123ABC456&ts=1401383885.000061&text=Updated+text",
				Response: `{"ok":true,"channel":"C123ABC456","ts":"1401383885.000061","text":"Updated text","message":{"text":"Updated text","user":"U34567890"}}`}},
			Want: []string{`{"channel":"C123ABC456","ts":"1401383885.000061"}`}},
		{Name: "update_message/not the author", Tool: "update_message", Args: map[string]any{"channel": "C123ABC456", "ts": "1401383885.000061", "text": "x"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.update", Body: "channel=C123ABC456&ts=1401383885.000061&text=x", Response: `{"ok":false,"error":"cant_update_message"}`}},
			IsError:   true, Want: []string{"permission denied: cant_update_message"}},
		{Name: "delete_message", Tool: "delete_message", Args: map[string]any{"channel": "C123ABC456", "ts": "1401383885.000061"},
			Exchanges: []x{{Method: "POST", Path: "/api/chat.delete", Body: "channel=C123ABC456&ts=1401383885.000061",
				Response: `{"ok":true,"channel":"C123ABC456","ts":"1401383885.000061"}`}},
			Want: []string{`{"channel":"C123ABC456","deleted":true,"ts":"1401383885.000061"}`}},
	})
}

// bearer adds the credential the way an oauth2 client does, but with Add:
// a header slack-go set too would show on the wire as a second value.
type bearer struct{}

func (bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Add("Authorization", "Bearer xoxp-test")
	return http.DefaultTransport.RoundTrip(r)
}

func TestOnlyTheClientAuthenticates(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Error(err)
		}
		if got := r.Header.Values("Authorization"); !slices.Equal(got, []string{"Bearer xoxp-test"}) {
			t.Errorf("%s: Authorization %q", r.URL.Path, got)
		}
		if r.Form.Has("token") {
			t.Errorf("%s: token parameter sent: %v", r.URL.Path, r.Form)
		}
		seen = append(seen, r.URL.Path)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"ok":true,"channel":"C1","ts":"1.2","permalink":"https://x.slack.com/archives/C1/p12"}`))
	}))
	defer srv.Close()
	p, err := New(Config{HTTPClient: &http.Client{Transport: bearer{}}, BaseURL: srv.URL + "/api/"})
	if err != nil {
		t.Fatal(err)
	}
	for tool, args := range map[string]map[string]any{
		"post_message":  {"channel": "C1", "text": "hi"},
		"get_permalink": {"channel": "C1", "ts": "1.2"},
	} {
		if res, err := p.Call(t.Context(), tool, args, nil); err != nil || res.IsError {
			t.Errorf("%s: %v %s", tool, err, providertest.ResultText(res))
		}
	}
	slices.Sort(seen)
	if want := []string{"/api/chat.getPermalink", "/api/chat.postMessage"}; !slices.Equal(seen, want) {
		t.Errorf("requests %v, want %v", seen, want)
	}
}

func TestServerErrorIsInfrastructure(t *testing.T) {
	api := providertest.NewAPI(t, x{Method: "POST", Path: "/api/chat.delete", Body: "channel=C1&ts=1.2", Status: 503, Response: "<html>down</html>"})
	if res, err := newProvider(t, api.URL).Call(t.Context(), "delete_message", map[string]any{"channel": "C1", "ts": "1.2"}, nil); err == nil {
		t.Fatalf("want an infrastructure error, got %+v", res)
	}
}

func TestArgumentsAreStrict(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1")
	for name, args := range map[string]map[string]any{
		"case-smuggled key":  {"Channel": "C0SECRET", "channel": "C0OK", "text": "x"},
		"wrong type":         {"channel": "C0OK", "text": 5.0},
		"missing required":   {"text": "x"},
		"channel as list":    {"channel": []any{"C0OK", "C0SECRET"}, "text": "x"},
		"channel with space": {"channel": "C0OK C0SECRET", "text": "x"},
	} {
		res, err := p.Call(t.Context(), "post_message", args, nil)
		if err != nil || !res.IsError {
			t.Errorf("%s: %v %+v", name, err, res)
		}
		if _, err := p.(providers.Guarded).Resources("post_message", args); err == nil {
			t.Errorf("%s: resources read from arguments the call refuses", name)
		}
	}
}

func TestResources(t *testing.T) {
	p := newProvider(t, "http://127.0.0.1:1").(providers.Guarded)
	ch := func(v string) policy.Resource { return policy.Resource{Kind: policy.Channel, Value: v} }
	unbounded := []policy.Resource{ch("")}
	search := func(q string) (string, map[string]any) { return "search_messages", map[string]any{"query": q} }
	for _, tc := range []struct {
		tool string
		args map[string]any
		want []policy.Resource
	}{
		{"post_message", map[string]any{"channel": "#eng-bots", "text": "x"}, []policy.Resource{ch("#eng-bots")}},
		{"read_history", map[string]any{"channel": "C0123ABCD"}, []policy.Resource{ch("C0123ABCD")}},
		{"delete_message", map[string]any{"channel": "C0123ABCD", "ts": "1.2"}, []policy.Resource{ch("C0123ABCD")}},
		{"get_permalink", map[string]any{"channel": "C0123ABCD", "ts": "1.2"}, []policy.Resource{ch("C0123ABCD")}},
		{"list_conversations", nil, nil},
		{"get_user", map[string]any{"user": "U123"}, nil},
	} {
		got, err := p.Resources(tc.tool, tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s %v: %v %v, want %v", tc.tool, tc.args, got, err, tc.want)
		}
	}
	for _, tc := range []struct {
		query string
		want  []policy.Resource
	}{
		{"deploy in:#eng", []policy.Resource{ch("#eng")}},
		{"in:eng in:<#C0OPS|ops> in:<#C0SEC>", []policy.Resource{ch("eng"), ch("C0OPS"), ch("C0SEC")}},
		{"from:@ann in:@bob", []policy.Resource{ch("@bob")}},
		{"deploy failed", unbounded},
		{"deploy -in:#random", unbounded},
		{"deploy -in:#random in:#eng", []policy.Resource{ch("#eng")}},
		{`"in:#eng" secret`, unbounded},
		{`"deploy in:#eng`, unbounded},
		{`in:#eng"x secret`, unbounded},
		{"IN:#eng secret", unbounded},
		{"secret,in:#eng", unbounded},
		{"secret\tin:#eng", unbounded},
		{"in: secret", unbounded},
	} {
		tool, args := search(tc.query)
		got, err := p.Resources(tool, args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("search %q: %v %v, want %v", tc.query, got, err, tc.want)
		}
	}
}

func TestScopesHideTools(t *testing.T) {
	p, err := New(Config{HTTPClient: http.DefaultClient, Granted: []string{"channels:history", "channels:read"}})
	if err != nil {
		t.Fatal(err)
	}
	tools, _ := p.Tools(t.Context())
	var names []string
	for _, tool := range tools {
		names = append(names, tool.Name)
	}
	if want := []string{"list_conversations", "read_history", "read_thread", "get_permalink"}; !slices.Equal(names, want) {
		t.Fatalf("tools %v, want %v", names, want)
	}
	res, _ := p.Call(t.Context(), "post_message", map[string]any{"channel": "C1", "text": "x"}, nil)
	if !res.IsError {
		t.Fatal("unavailable tool ran")
	}
}
