package google

import (
	"context"
	"regexp"
	"time"

	"github.com/mark3labs/mcp-go/mcp"
	calendar "google.golang.org/api/calendar/v3"
	"google.golang.org/api/googleapi"

	"github.com/agentvault/agentvault/policy"
	"github.com/agentvault/agentvault/providers/apitool"
)

// Scopes of which any one lets a Calendar tool work.
var (
	calendarReadScopes     = []string{calendar.CalendarReadonlyScope, calendar.CalendarEventsScope, calendar.CalendarScope}
	calendarListScopes     = []string{calendar.CalendarReadonlyScope, calendar.CalendarScope}
	calendarWriteScopes    = []string{calendar.CalendarEventsScope, calendar.CalendarScope}
	calendarFreebusyScopes = []string{calendar.CalendarFreebusyScope, calendar.CalendarReadonlyScope, calendar.CalendarScope}
)

// calendarIDPattern is "primary" or a calendar's address (user, group or
// resource calendars: c_…@group.calendar.google.com, en.usa#holiday@…).
const calendarIDPattern = `^(?:primary|[A-Za-z0-9.!#$%&'*+=?^_{|}~-]{1,200}@[A-Za-z0-9.-]{1,253})$`

var calendarIDRe = regexp.MustCompile(calendarIDPattern)

func calendarTools(s *calendar.Service, now func() time.Time) []apitool.Tool {
	return []apitool.Tool{
		calendarListCalendars(s), calendarListEvents(s, now), calendarGetEvent(s), calendarFreebusy(s),
		calendarCreateEvent(s), calendarUpdateEvent(s), calendarDeleteEvent(s),
	}
}

func calendarID() mcp.ToolOption {
	return mcp.WithString("calendarId", mcp.Pattern(calendarIDPattern),
		mcp.Description("Calendar id: \"primary\" (default) or an id from calendar_list_calendars"))
}

func eventID() mcp.ToolOption {
	return mcp.WithString("eventId", mcp.Required(), mcp.Pattern(idPattern), mcp.Description("Event id (from calendar_list_events)"))
}

func calID(a apitool.Args) string {
	if id := a.String("calendarId"); id != "" {
		return id
	}
	return "primary"
}

// calendarResource is the calendar a call names.
func calendarResource(a apitool.Args) []policy.Resource {
	return []policy.Resource{{Kind: policy.Calendar, Value: calID(a)}}
}

// calendarAndAttendees is the calendar and every attendee invited.
func calendarAndAttendees(a apitool.Args) []policy.Resource {
	return append(calendarResource(a), addressResources(policy.Recipient, "attendees")(a)...)
}

// changedEventRecipients is what an update touches: the calendar, the
// attendees it names and, when it sends updates, the attendees the event
// already has, whom the call does not name (an unbounded recipient: only an
// allowlist with "*" lets it through).
func changedEventRecipients(a apitool.Args) []policy.Resource {
	out := calendarAndAttendees(a)
	if su := a.String("sendUpdates"); su == "all" || su == "externalOnly" {
		out = append(out, policy.Resource{Kind: policy.Recipient})
	}
	return out
}

// rfc3339 checks a time argument.
func rfc3339(a apitool.Args, name string) (string, error) {
	v := a.String(name)
	if v == "" {
		return "", nil
	}
	if _, err := time.Parse(time.RFC3339, v); err != nil {
		return "", invalid("%s %q is not an RFC 3339 time such as 2026-11-02T09:00:00+01:00", name, v)
	}
	return v, nil
}

// timeRange reads the timeMin and timeMax arguments, each "" when not given.
func timeRange(a apitool.Args) (tmin, tmax string, err error) {
	if tmin, err = rfc3339(a, "timeMin"); err != nil {
		return "", "", err
	}
	if tmax, err = rfc3339(a, "timeMax"); err != nil {
		return "", "", err
	}
	return tmin, tmax, nil
}

// when reads a start or end: a date (all-day) or an RFC 3339 time.
func when(a apitool.Args, name string) (*calendar.EventDateTime, error) {
	v := a.String(name)
	if _, err := time.Parse(time.DateOnly, v); err == nil {
		return &calendar.EventDateTime{Date: v, TimeZone: a.String("timeZone")}, nil
	}
	if _, err := time.Parse(time.RFC3339, v); err == nil {
		return &calendar.EventDateTime{DateTime: v, TimeZone: a.String("timeZone")}, nil
	}
	return nil, invalid("%s %q is neither a date (2026-11-02, all day) nor an RFC 3339 time (2026-11-02T09:00:00+01:00)", name, v)
}

func timeText(t *calendar.EventDateTime) string {
	if t == nil {
		return ""
	}
	if t.DateTime != "" {
		return t.DateTime
	}
	return t.Date
}

type attendee struct {
	Email    string `json:"email"`
	Response string `json:"responseStatus,omitempty"`
	Optional bool   `json:"optional,omitempty"`
}

type eventSummary struct {
	ID        string     `json:"id"`
	Summary   string     `json:"summary,omitempty"`
	Start     string     `json:"start"`
	End       string     `json:"end"`
	Location  string     `json:"location,omitempty"`
	Status    string     `json:"status,omitempty"`
	Organizer string     `json:"organizer,omitempty"`
	Attendees []attendee `json:"attendees,omitempty"`
	// MoreAttendees counts those a list leaves out (calendar_get_event shows all).
	MoreAttendees int    `json:"moreAttendees,omitempty"`
	Link          string `json:"htmlLink,omitempty"`
	Meet          string `json:"hangoutLink,omitempty"`
	Description   string `json:"description,omitempty"`
}

// listAttendees is how many attendees an event in a list shows.
const listAttendees = 10

// summarizeEvent describes an event; the description and every attendee
// only when full.
func summarizeEvent(e *calendar.Event, full bool) eventSummary {
	s := eventSummary{ID: e.Id, Summary: e.Summary, Start: timeText(e.Start), End: timeText(e.End), Location: e.Location,
		Status: e.Status, Link: e.HtmlLink, Meet: e.HangoutLink}
	if e.Organizer != nil {
		s.Organizer = e.Organizer.Email
	}
	shown := e.Attendees
	if !full && len(shown) > listAttendees {
		shown, s.MoreAttendees = shown[:listAttendees], len(shown)-listAttendees
	}
	for _, at := range shown {
		s.Attendees = append(s.Attendees, attendee{at.Email, at.ResponseStatus, at.Optional})
	}
	if full {
		s.Description = apitool.Truncate(e.Description, 16<<10)
	}
	return s
}

func calendarListCalendars(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_list_calendars", "List calendars",
			"List the calendars in the user's calendar list, with their ids, names and the user's access role.", apitool.ReadOnly),
		Scopes: calendarListScopes,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			list, err := s.CalendarList.List().MaxResults(250).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, calendarListScopes)
			}
			type cal struct {
				ID         string `json:"id"`
				Summary    string `json:"summary"`
				Primary    bool   `json:"primary,omitempty"`
				AccessRole string `json:"accessRole"`
				TimeZone   string `json:"timeZone,omitempty"`
			}
			out := []cal{}
			for _, c := range list.Items {
				name := c.Summary
				if c.SummaryOverride != "" {
					name = c.SummaryOverride
				}
				out = append(out, cal{c.Id, name, c.Primary, c.AccessRole, c.TimeZone})
			}
			return apitool.JSON(out)
		},
	}
}

func calendarListEvents(s *calendar.Service, now func() time.Time) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_list_events", "List calendar events",
			"List events of a calendar in start order, recurring events expanded into single occurrences.", apitool.ReadOnly,
			calendarID(),
			mcp.WithString("timeMin", mcp.Description("Only events ending after this RFC 3339 time (default: now)")),
			mcp.WithString("timeMax", mcp.Description("Only events starting before this RFC 3339 time")),
			mcp.WithString("q", mcp.Description("Free-text search in summary, description, location, attendees")),
			mcp.WithInteger("maxResults", mcp.Min(1), mcp.Max(100), mcp.Description("Events to return (default 25, at most 100)")),
			mcp.WithString("pageToken", mcp.Description("nextPageToken of a previous call, for the next page")),
		),
		Scopes:    calendarReadScopes,
		Resources: calendarResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			tmin, tmax, err := timeRange(a)
			if err != nil {
				return nil, err
			}
			if tmin == "" {
				tmin = now().UTC().Format(time.RFC3339)
			}
			call := s.Events.List(calID(a)).TimeMin(tmin).SingleEvents(true).OrderBy("startTime").
				MaxResults(int64(a.Int("maxResults", 25, 100))).Context(ctx)
			if tmax != "" {
				call.TimeMax(tmax)
			}
			list, err := withSearch(call, a).Do()
			if err != nil {
				return nil, classify(err, calendarReadScopes)
			}
			out := struct {
				TimeZone      string         `json:"timeZone,omitempty"`
				Events        []eventSummary `json:"events"`
				NextPageToken string         `json:"nextPageToken,omitempty"`
			}{TimeZone: list.TimeZone, Events: []eventSummary{}, NextPageToken: list.NextPageToken}
			for _, e := range list.Items {
				out.Events = append(out.Events, summarizeEvent(e, false))
			}
			return apitool.JSON(out)
		},
	}
}

func calendarGetEvent(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_get_event", "Get a calendar event",
			"Read one event with its description, attendees and their responses.", apitool.ReadOnly,
			calendarID(), eventID()),
		Scopes:    calendarReadScopes,
		Resources: calendarResource,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			e, err := s.Events.Get(calID(a), a.String("eventId")).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, calendarReadScopes)
			}
			return apitool.JSON(summarizeEvent(e, true))
		},
	}
}

func calendarFreebusy(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_freebusy", "Find busy times",
			"List the busy intervals of one or more calendars between two times, to find a free slot.", apitool.ReadOnly,
			mcp.WithString("timeMin", mcp.Required(), mcp.Description("Start, RFC 3339")),
			mcp.WithString("timeMax", mcp.Required(), mcp.Description("End, RFC 3339")),
			mcp.WithArray("calendarIds", mcp.WithStringItems(), mcp.Description("Calendar ids or people's addresses (default: [\"primary\"])")),
			mcp.WithString("timeZone", mcp.Description("Time zone of the answer, e.g. Europe/Paris (default UTC)")),
		),
		Scopes: calendarFreebusyScopes,
		Resources: func(a apitool.Args) []policy.Resource {
			var out []policy.Resource
			for _, id := range freebusyIDs(a) {
				out = append(out, policy.Resource{Kind: policy.Calendar, Value: id})
			}
			return out
		},
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			tmin, tmax, err := timeRange(a)
			if err != nil {
				return nil, err
			}
			req := &calendar.FreeBusyRequest{TimeMin: tmin, TimeMax: tmax, TimeZone: a.String("timeZone")}
			for _, id := range freebusyIDs(a) {
				if !calendarIDRe.MatchString(id) {
					return nil, invalid("calendar id %q is not \"primary\" or a calendar address", id)
				}
				req.Items = append(req.Items, &calendar.FreeBusyRequestItem{Id: id})
			}
			res, err := s.Freebusy.Query(req).Context(ctx).Do()
			if err != nil {
				return nil, classify(err, calendarFreebusyScopes)
			}
			type period struct {
				Start string `json:"start"`
				End   string `json:"end"`
			}
			type cal struct {
				ID     string   `json:"id"`
				Busy   []period `json:"busy"`
				Errors []string `json:"errors,omitempty"`
			}
			out := struct {
				TimeMin   string `json:"timeMin"`
				TimeMax   string `json:"timeMax"`
				Calendars []cal  `json:"calendars"`
			}{TimeMin: res.TimeMin, TimeMax: res.TimeMax, Calendars: []cal{}}
			for _, id := range freebusyIDs(a) { // in the order asked
				c := cal{ID: id, Busy: []period{}}
				if fb, ok := res.Calendars[id]; ok {
					for _, p := range fb.Busy {
						c.Busy = append(c.Busy, period{p.Start, p.End})
					}
					for _, e := range fb.Errors {
						c.Errors = append(c.Errors, e.Reason)
					}
				}
				out.Calendars = append(out.Calendars, c)
			}
			return apitool.JSON(out)
		},
	}
}

func freebusyIDs(a apitool.Args) []string {
	if ids := a.Strings("calendarIds"); len(ids) > 0 {
		return ids
	}
	return []string{"primary"}
}

// withUpdates passes the sendUpdates argument, when given, on to call: an
// event insert, patch or delete.
func withUpdates[C interface{ SendUpdates(sendUpdates string) C }](call C, a apitool.Args) C {
	if su := a.String("sendUpdates"); su != "" {
		call.SendUpdates(su)
	}
	return call
}

// saveEvent sends call, an event insert or patch, with the sendUpdates
// argument, and answers the event as saved.
func saveEvent[C interface {
	SendUpdates(sendUpdates string) C
	Do(opts ...googleapi.CallOption) (*calendar.Event, error)
}](call C, a apitool.Args) (*mcp.CallToolResult, error) {
	saved, err := withUpdates(call, a).Do()
	if err != nil {
		return nil, classify(err, calendarWriteScopes)
	}
	return apitool.JSON(summarizeEvent(saved, false))
}

func sendUpdates() mcp.ToolOption {
	return mcp.WithString("sendUpdates", mcp.Enum("all", "externalOnly", "none"),
		mcp.Description("Who gets an email about the change: all attendees, only those outside the organization, or none (Google's default)"))
}

func eventFields(required bool) []mcp.ToolOption {
	req := func(opts ...mcp.PropertyOption) []mcp.PropertyOption {
		if required {
			opts = append(opts, mcp.Required())
		}
		return opts
	}
	attendees := "Attendees' plain email addresses"
	if !required {
		attendees += "; replaces the whole list"
	}
	return []mcp.ToolOption{
		mcp.WithString("summary", req(mcp.Description("Title"))...),
		mcp.WithString("start", req(mcp.Description("Start: RFC 3339 time (2026-11-02T09:00:00+01:00) or a date for an all-day event (2026-11-02)"))...),
		mcp.WithString("end", req(mcp.Description("End: RFC 3339 time, or for an all-day event the day after the last day (exclusive)"))...),
		mcp.WithString("timeZone", mcp.Description("IANA time zone of start and end, e.g. Europe/Paris (needed for recurring events)")),
		mcp.WithArray("attendees", mcp.WithStringItems(), mcp.Description(attendees)),
		mcp.WithString("description", mcp.Description("Description")),
		mcp.WithString("location", mcp.Description("Location")),
		sendUpdates(),
	}
}

// eventFromArgs builds the event fields the call gives, each forced into
// the request so an empty value clears it on update.
func eventFromArgs(a apitool.Args) (*calendar.Event, error) {
	e := &calendar.Event{}
	for _, f := range []struct {
		name, field string
		dst         *string
	}{{"summary", "Summary", &e.Summary}, {"description", "Description", &e.Description}, {"location", "Location", &e.Location}} {
		if a.Has(f.name) {
			*f.dst = a.String(f.name)
			e.ForceSendFields = append(e.ForceSendFields, f.field)
		}
	}
	var err error
	if a.Has("start") {
		if e.Start, err = when(a, "start"); err != nil {
			return nil, err
		}
	}
	if a.Has("end") {
		if e.End, err = when(a, "end"); err != nil {
			return nil, err
		}
	}
	if a.Has("attendees") {
		e.Attendees = []*calendar.EventAttendee{}
		for _, addr := range a.Strings("attendees") {
			if err := plainAddress(addr); err != nil {
				return nil, err
			}
			e.Attendees = append(e.Attendees, &calendar.EventAttendee{Email: addr})
		}
		e.ForceSendFields = append(e.ForceSendFields, "Attendees")
	}
	return e, nil
}

func calendarCreateEvent(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_create_event", "Create a calendar event",
			"Create an event; with attendees and sendUpdates it also emails them an invitation.", apitool.Writes,
			append([]mcp.ToolOption{calendarID()}, eventFields(true)...)...),
		Scopes:    calendarWriteScopes,
		Resources: calendarAndAttendees,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			e, err := eventFromArgs(a)
			if err != nil {
				return nil, err
			}
			return saveEvent(s.Events.Insert(calID(a), e).Context(ctx), a)
		},
	}
}

func calendarUpdateEvent(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_update_event", "Update a calendar event",
			"Change an event's fields; omitted fields stay as they are, attendees replaces the whole list.", apitool.Writes,
			append([]mcp.ToolOption{calendarID(), eventID()}, eventFields(false)...)...),
		Scopes:    calendarWriteScopes,
		Resources: changedEventRecipients,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			e, err := eventFromArgs(a)
			if err != nil {
				return nil, err
			}
			if len(e.ForceSendFields) == 0 && e.Start == nil && e.End == nil {
				return nil, invalid("give at least one field to change")
			}
			return saveEvent(s.Events.Patch(calID(a), a.String("eventId"), e).Context(ctx), a)
		},
	}
}

func calendarDeleteEvent(s *calendar.Service) apitool.Tool {
	return apitool.Tool{
		Def: apitool.Def("calendar_delete_event", "Delete a calendar event",
			"Delete an event (for attendees: cancel it). With sendUpdates, attendees are told it is cancelled.", apitool.Destroys,
			calendarID(), eventID(), sendUpdates()),
		Scopes:    calendarWriteScopes,
		Resources: changedEventRecipients,
		Run: func(ctx context.Context, a apitool.Args) (*mcp.CallToolResult, error) {
			if err := withUpdates(s.Events.Delete(calID(a), a.String("eventId")).Context(ctx), a).Do(); err != nil {
				return nil, classify(err, calendarWriteScopes)
			}
			return apitool.JSON(map[string]any{"deleted": a.String("eventId"), "calendarId": calID(a)})
		},
	}
}
