package google

import (
	"fmt"
	"testing"

	calendar "google.golang.org/api/calendar/v3"

	"github.com/agentvault/agentvault/providers/providertest"
)

// Shaped like https://developers.google.com/calendar/api/v3/reference/events.
const eventJSON = `{"kind":"calendar#event","etag":"\"3181161784712000\"","id":"7cbh8rpc10lrc0ckih9tafss99","status":"confirmed",
 "htmlLink":"https://www.google.com/calendar/event?eid=N2NiaDhycGMxMGxyYzBja2loOXRhZnNzOTkgbWVAYWNtZS5jb20",
 "created":"2026-10-20T09:00:00.000Z","updated":"2026-10-20T09:00:00.000Z","summary":"Design review","description":"Agenda in the doc.",
 "location":"Room 4","creator":{"email":"me@acme.com","self":true},"organizer":{"email":"me@acme.com","self":true},
 "start":{"dateTime":"2026-11-05T10:00:00+01:00","timeZone":"Europe/Paris"},"end":{"dateTime":"2026-11-05T11:00:00+01:00","timeZone":"Europe/Paris"},
 "iCalUID":"7cbh8rpc10lrc0ckih9tafss99@google.com","sequence":0,
 "attendees":[{"email":"ann@example.com","responseStatus":"needsAction"},{"email":"me@acme.com","organizer":true,"self":true,"responseStatus":"accepted"}],
 "hangoutLink":"https://meet.google.com/abc-defg-hij","reminders":{"useDefault":true},"eventType":"default"}`

var calendarCases = []providertest.Case{
	{Name: "calendar_list_calendars", Tool: "calendar_list_calendars",
		Exchanges: []x{{Method: "GET", Path: "/calendar/v3/users/me/calendarList", Query: "maxResults=250&alt=json&prettyPrint=false",
			Response: `{"kind":"calendar#calendarList","etag":"\"p33k\"","items":[
 {"kind":"calendar#calendarListEntry","id":"me@acme.com","summary":"me@acme.com","timeZone":"Europe/Paris","accessRole":"owner","primary":true,"selected":true},
 {"kind":"calendar#calendarListEntry","id":"en.usa#holiday@group.v.calendar.google.com","summary":"Holidays in United States","timeZone":"Europe/Paris","accessRole":"reader"},
 {"kind":"calendar#calendarListEntry","id":"c_1a2b3c@group.calendar.google.com","summary":"Team","summaryOverride":"Platform team","accessRole":"writer"}]}`}},
		Want: []string{`{"id":"me@acme.com","summary":"me@acme.com","primary":true,"accessRole":"owner","timeZone":"Europe/Paris"}`,
			`"id":"en.usa#holiday@group.v.calendar.google.com"`, `"summary":"Platform team"`}},
	{Name: "calendar_list_events", Tool: "calendar_list_events", Args: map[string]any{"calendarId": "team@acme.com", "timeMin": "2026-11-02T00:00:00+01:00",
		"timeMax": "2026-11-09T00:00:00+01:00", "q": "review", "maxResults": 5.0},
		Exchanges: []x{{Method: "GET", Path: "/calendar/v3/calendars/team%40acme.com/events",
			Query: "timeMin=2026-11-02T00%3A00%3A00%2B01%3A00&timeMax=2026-11-09T00%3A00%3A00%2B01%3A00&q=review&maxResults=5&singleEvents=true&orderBy=startTime&alt=json&prettyPrint=false",
			Response: `{"kind":"calendar#events","summary":"team@acme.com","updated":"2026-10-20T09:00:00.000Z","timeZone":"Europe/Paris","accessRole":"owner",
 "defaultReminders":[],"nextPageToken":"CigKGjdjYmg4","items":[` + eventJSON + `]}`}},
		Want: []string{`"id":"7cbh8rpc10lrc0ckih9tafss99"`, `"start":"2026-11-05T10:00:00+01:00"`, `"responseStatus":"needsAction"`,
			`"nextPageToken":"CigKGjdjYmg4"`, `"timeZone":"Europe/Paris"`}},
	{Name: "calendar_list_events/upcoming by default", Tool: "calendar_list_events",
		Exchanges: []x{{Method: "GET", Path: "/calendar/v3/calendars/primary/events",
			Query:    "timeMin=2026-11-02T08%3A00%3A00Z&maxResults=25&singleEvents=true&orderBy=startTime&alt=json&prettyPrint=false",
			Response: `{"kind":"calendar#events","summary":"me@acme.com","timeZone":"Europe/Paris","items":[]}`}},
		Want: []string{`"events":[]`}},
	{Name: "calendar_list_events/bad time refused before any request", Tool: "calendar_list_events", Args: map[string]any{"timeMin": "next monday"},
		IsError: true, Want: []string{"not an RFC 3339 time"}},
	{Name: "calendar_get_event", Tool: "calendar_get_event", Args: map[string]any{"eventId": "7cbh8rpc10lrc0ckih9tafss99"},
		Exchanges: []x{{Method: "GET", Path: "/calendar/v3/calendars/primary/events/7cbh8rpc10lrc0ckih9tafss99", Query: "alt=json&prettyPrint=false", Response: eventJSON}},
		Want:      []string{`"description":"Agenda in the doc."`, `"hangoutLink":"https://meet.google.com/abc-defg-hij"`, `"organizer":"me@acme.com"`}},
	{Name: "calendar_get_event/not found", Tool: "calendar_get_event", Args: map[string]any{"calendarId": "team@acme.com", "eventId": "gone0001"},
		Exchanges: []x{{Method: "GET", Path: "/calendar/v3/calendars/team%40acme.com/events/gone0001", Query: "alt=json&prettyPrint=false", Status: 404,
			Response: `{"error":{"errors":[{"domain":"global","reason":"notFound","message":"Not Found"}],"code":404,"message":"Not Found"}}`}},
		IsError: true, Want: []string{"Google: not found: Not Found (or not visible to the connected account)"}},
	{Name: "calendar_freebusy", Tool: "calendar_freebusy", Args: map[string]any{"timeMin": "2026-11-02T00:00:00Z", "timeMax": "2026-11-03T00:00:00Z",
		"calendarIds": []any{"primary", "ann@example.com"}, "timeZone": "Europe/Paris"},
		Exchanges: []x{{Method: "POST", Path: "/calendar/v3/freeBusy", Query: "alt=json&prettyPrint=false",
			Body: `{"timeMin":"2026-11-02T00:00:00Z","timeMax":"2026-11-03T00:00:00Z","timeZone":"Europe/Paris","items":[{"id":"primary"},{"id":"ann@example.com"}]}`,
			Response: `{"kind":"calendar#freeBusy","timeMin":"2026-11-02T00:00:00.000Z","timeMax":"2026-11-03T00:00:00.000Z","calendars":{
 "primary":{"busy":[{"start":"2026-11-02T10:00:00+01:00","end":"2026-11-02T11:00:00+01:00"}]},
 "ann@example.com":{"errors":[{"domain":"global","reason":"notFound"}],"busy":[]}}}`}},
		Want: []string{`{"id":"primary","busy":[{"start":"2026-11-02T10:00:00+01:00","end":"2026-11-02T11:00:00+01:00"}]}`,
			`{"id":"ann@example.com","busy":[],"errors":["notFound"]}`}},
	{Name: "calendar_create_event", Tool: "calendar_create_event", Args: map[string]any{"summary": "Design review", "start": "2026-11-05T10:00:00+01:00",
		"end": "2026-11-05T11:00:00+01:00", "timeZone": "Europe/Paris", "attendees": []any{"ann@example.com"}, "location": "Room 4", "sendUpdates": "all"},
		Exchanges: []x{{Method: "POST", Path: "/calendar/v3/calendars/primary/events", Query: "sendUpdates=all&alt=json&prettyPrint=false",
			Body: `{"summary":"Design review","location":"Room 4","start":{"dateTime":"2026-11-05T10:00:00+01:00","timeZone":"Europe/Paris"},
 "end":{"dateTime":"2026-11-05T11:00:00+01:00","timeZone":"Europe/Paris"},"attendees":[{"email":"ann@example.com"}]}`,
			Response: eventJSON}},
		Want: []string{`"id":"7cbh8rpc10lrc0ckih9tafss99"`, `"htmlLink":"https://www.google.com/calendar/event?eid=`}},
	{Name: "calendar_create_event/all day", Tool: "calendar_create_event", Args: map[string]any{"calendarId": "team@acme.com", "summary": "Offsite",
		"start": "2026-11-10", "end": "2026-11-12"},
		Exchanges: []x{{Method: "POST", Path: "/calendar/v3/calendars/team%40acme.com/events", Query: "alt=json&prettyPrint=false",
			Body:     `{"summary":"Offsite","start":{"date":"2026-11-10"},"end":{"date":"2026-11-12"}}`,
			Response: `{"kind":"calendar#event","id":"0ffs1te","status":"confirmed","summary":"Offsite","start":{"date":"2026-11-10"},"end":{"date":"2026-11-12"}}`}},
		Want: []string{`"start":"2026-11-10","end":"2026-11-12"`}},
	{Name: "calendar_create_event/rate limited", Tool: "calendar_create_event", Args: map[string]any{"summary": "x", "start": "2026-11-10", "end": "2026-11-11"},
		Exchanges: []x{{Method: "POST", Path: "/calendar/v3/calendars/primary/events", Query: "alt=json&prettyPrint=false",
			Body: `{"summary":"x","start":{"date":"2026-11-10"},"end":{"date":"2026-11-11"}}`, Status: 403,
			Response: `{"error":{"errors":[{"domain":"usageLimits","reason":"userRateLimitExceeded","message":"User Rate Limit Exceeded"}],"code":403,"message":"User Rate Limit Exceeded"}}`}},
		IsError: true, Want: []string{"Google: rate limited: User Rate Limit Exceeded"}},
	{Name: "calendar_update_event", Tool: "calendar_update_event", Args: map[string]any{"eventId": "7cbh8rpc10lrc0ckih9tafss99",
		"start": "2026-11-06T10:00:00+01:00", "end": "2026-11-06T11:00:00+01:00", "description": "", "attendees": []any{}, "sendUpdates": "none"},
		Exchanges: []x{{Method: "PATCH", Path: "/calendar/v3/calendars/primary/events/7cbh8rpc10lrc0ckih9tafss99", Query: "sendUpdates=none&alt=json&prettyPrint=false",
			Body:     `{"description":"","start":{"dateTime":"2026-11-06T10:00:00+01:00"},"end":{"dateTime":"2026-11-06T11:00:00+01:00"},"attendees":[]}`,
			Response: eventJSON}},
		Want: []string{`"id":"7cbh8rpc10lrc0ckih9tafss99"`}},
	{Name: "calendar_update_event/nothing to change", Tool: "calendar_update_event", Args: map[string]any{"eventId": "7cbh8rpc10lrc0ckih9tafss99", "sendUpdates": "all"},
		IsError: true, Want: []string{"at least one field"}},
	{Name: "calendar_delete_event", Tool: "calendar_delete_event", Args: map[string]any{"eventId": "7cbh8rpc10lrc0ckih9tafss99", "sendUpdates": "all"},
		Exchanges: []x{{Method: "DELETE", Path: "/calendar/v3/calendars/primary/events/7cbh8rpc10lrc0ckih9tafss99", Query: "sendUpdates=all&alt=json&prettyPrint=false", Status: 204}},
		Want:      []string{`"deleted":"7cbh8rpc10lrc0ckih9tafss99"`}},
}

func TestListedEventsShowFewAttendees(t *testing.T) {
	e := &calendar.Event{Id: "allhands"}
	for i := range 25 {
		e.Attendees = append(e.Attendees, &calendar.EventAttendee{Email: fmt.Sprintf("p%d@acme.com", i)})
	}
	if s := summarizeEvent(e, false); len(s.Attendees) != 10 || s.MoreAttendees != 15 {
		t.Errorf("listed: %d attendees, %d more", len(s.Attendees), s.MoreAttendees)
	}
	if s := summarizeEvent(e, true); len(s.Attendees) != 25 || s.MoreAttendees != 0 {
		t.Errorf("full: %d attendees, %d more", len(s.Attendees), s.MoreAttendees)
	}
}
