package approval

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Request describes one call waiting for a person: what every channel
// shows. It carries the call's complete arguments, so that an approval
// approves exactly what the approver could see.
type Request struct {
	VaultID string `json:"vault_id"`
	Vault   string `json:"vault"`
	Client  string `json:"client"`
	// Session is the MCP session id; empty under the stateless protocol.
	Session    string `json:"session,omitempty"`
	Tool       string `json:"tool"`
	ArgsDigest string `json:"args_digest"`
	// Summary is a redacted, one-line rendering of the arguments.
	Summary string `json:"summary"`
	// Arguments are the call's complete arguments as JSON (null: none).
	Arguments json.RawMessage `json:"arguments,omitempty"`
	// Timeout is how long to wait for an answer; 0: the broker's default.
	Timeout time.Duration `json:"-"`
	// GrantLimit bounds an "approve for this session" answer; 0: the
	// broker's default (8 hours).
	GrantLimit time.Duration `json:"-"`
	// Flow, when set, says why data-flow protection asks: the session read
	// private data and this tool can send it out. Such a call can be
	// approved once or for the session, never always, and only a session
	// grant made after FlowSince (the source call) covers it.
	Flow      string    `json:"flow,omitempty"`
	FlowSince time.Time `json:"flow_since,omitzero"`
	// Hints are what the tool says of itself, for the prompt.
	Hints Hints `json:"hints,omitzero"`
}

// Hints are a tool's description line and behaviour hints as a prompt
// shows them; a nil hint was not declared.
type Hints struct {
	Description string `json:"description,omitempty"`
	ReadOnly    *bool  `json:"read_only,omitempty"`
	Destructive *bool  `json:"destructive,omitempty"`
	OpenWorld   *bool  `json:"open_world,omitempty"`
	Idempotent  *bool  `json:"idempotent,omitempty"`
	// Declared says a third party's server declares them (an upstream
	// service), not AgentVault.
	Declared bool `json:"declared,omitempty"`
	// Reviewed is when the user last accepted a change of the tool's
	// definition; zero: never changed since it was first pinned.
	Reviewed time.Time `json:"reviewed,omitzero"`
}

// Line is the hints on one line for a prompt, e.g. "changes data · not
// destructive · reaches outside · as the service declares".
func (h Hints) Line() string {
	word := func(v *bool, yes, no, unknown string) string {
		switch {
		case v == nil:
			return unknown
		case *v:
			return yes
		}
		return no
	}
	parts := []string{
		word(h.ReadOnly, "read-only", "changes data", "may change data (undeclared)"),
		word(h.Destructive, "destructive", "not destructive", "may destroy (undeclared)"),
		word(h.OpenWorld, "reaches outside", "stays inside its service", "may reach outside (undeclared)"),
	}
	if h.Idempotent != nil && *h.Idempotent {
		parts = append(parts, "idempotent")
	}
	if h.Declared {
		parts = append(parts, "as the service declares")
	}
	if !h.Reviewed.IsZero() {
		parts = append(parts, "changed upstream, reviewed by you "+h.Reviewed.Local().Format("2006-01-02 15:04"))
	}
	return strings.Join(parts, " · ")
}

// Short is the hints in a few characters, for a phone: read, write or
// destroys, then open when the tool reaches outside ("" when unknown).
func (h Hints) Short() string {
	if h == (Hints{}) {
		return ""
	}
	s := "write"
	switch {
	case h.Destructive != nil && *h.Destructive:
		s = "destroys"
	case h.ReadOnly != nil && *h.ReadOnly:
		s = "read"
	}
	if h.OpenWorld == nil || *h.OpenWorld {
		s += ",open"
	}
	return s
}

// DescriptionLine is the first line of a tool's description, cleaned as
// Label cleans agent text (a service wrote it), at most 120 characters.
func DescriptionLine(description string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(description), "\n")
	return clip(visible(strings.TrimSpace(line)), 120)
}

// Holder names the session a request comes from: the MCP session, or for
// a stateless client the client's name and version within the vault.
// Session grants and data-flow protection are bound to it.
func (r Request) Holder() string {
	if r.Session == "" {
		return "client:" + r.Client
	}
	return "session:" + r.Session
}

// IdleEnded reports whether holder's session has ended at now for want of
// use since lastUsed: a stateless client's ends SessionIdle after its last
// use; an MCP session ends when it is closed, not here.
func IdleEnded(holder string, lastUsed, now time.Time) bool {
	return strings.HasPrefix(holder, "client:") && now.Sub(lastUsed) >= SessionIdle
}

// Verdict is the answer to a Request.
type Verdict struct {
	Approved bool
	// Channel says who answered: "notification", "queue", "cli", "ciba",
	// "session" (a session grant), "timeout", …
	Channel string
	// Outcome is the audit outcome of a refusal: denied, timeout or cancelled.
	Outcome string
	// Reason is told to the agent when the call is refused.
	Reason string
	// Approver identifies who answered, where the channel knows (CIBA: the
	// Auth0 user id; the socket: the peer's uid, pid and program).
	Approver string
	// WholeCall says whether the channel that answered showed the complete
	// call before the answer; nil when no person answered.
	WholeCall *bool
}

// Title names the call for a prompt: the tool first, so that nothing the
// agent chose can push it out of view, then who asks (cleaned with Label).
func (r Request) Title() string {
	who := "an agent"
	if r.Client != "" {
		who = Label(r.Client)
	}
	return fmt.Sprintf("%s — asked by %s (vault %s)", r.Tool, who, r.Vault)
}

// About is what every prompt shows above the arguments: why data-flow
// protection asks, if it does, the tool's description line and its hints.
func (r Request) About() []string {
	var lines []string
	if r.Flow != "" {
		lines = append(lines, "Data flow: "+r.Flow+".")
	}
	if r.Hints.Description != "" {
		lines = append(lines, r.Hints.Description)
	}
	if r.Hints != (Hints{}) {
		lines = append(lines, "Tool: "+r.Hints.Line())
	}
	return lines
}

// Fields are the arguments, one top-level field a line as "name: value",
// the value as compact JSON (a string in quotes, escapes shown), names in
// order. Arguments that are not an object are one line.
func (r Request) Fields() []string {
	if len(r.Arguments) == 0 || string(r.Arguments) == "null" {
		return nil
	}
	var fields map[string]json.RawMessage
	if json.Unmarshal(r.Arguments, &fields) != nil {
		return []string{"arguments: " + compact(r.Arguments)}
	}
	names := slices.Sorted(maps.Keys(fields))
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fieldName(n) + ": " + compact(fields[n])
	}
	return out
}

// plainName is a field name shown as it is; any other is shown quoted, as
// JSON writes it, so that no name can break a line or pose as a value.
var plainName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func fieldName(n string) string {
	if plainName.MatchString(n) {
		return n
	}
	raw, _ := json.Marshal(n)
	return visible(string(raw))
}

// Label is text an agent chose (its name and version) as a prompt may show
// it: on one line, every hidden character written as an escape, at most 64
// characters.
func Label(s string) string {
	return clip(strings.ReplaceAll(visible(s), "\n", `\n`), 64)
}

// clip cuts s to n characters, marking the cut with "…".
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) > n {
		return string([]rune(s)[:n]) + "…"
	}
	return s
}

// Budget renders the arguments for a channel that shows at most maxLines
// lines and maxChars characters: whole fields, in order, as many as fit.
// missing counts the fields left out; 0 means the channel shows the whole
// call.
func (r Request) Budget(maxLines, maxChars int) (shown []string, missing int) {
	fields := r.Fields()
	chars := 0
	for i, f := range fields {
		n := utf8.RuneCountInString(f)
		if i >= maxLines || chars+n > maxChars {
			return shown, len(fields) - i
		}
		chars += n + 1
		shown = append(shown, f)
	}
	return shown, 0
}

// PrettyArguments is the complete arguments as indented JSON, for people.
func (r Request) PrettyArguments() string {
	if len(r.Arguments) == 0 || string(r.Arguments) == "null" {
		return "(no arguments)"
	}
	var b bytes.Buffer
	if json.Indent(&b, r.Arguments, "", "  ") != nil {
		return visible(string(r.Arguments))
	}
	return visible(b.String())
}

func compact(raw json.RawMessage) string {
	var b bytes.Buffer
	if json.Compact(&b, raw) != nil {
		return visible(string(raw))
	}
	return visible(b.String())
}

// visible writes the characters that would not show, or would change how
// the text around them shows (zero-width characters, direction overrides),
// as JSON escapes: what the approver reads is what the call holds. They can
// only occur inside JSON strings, where the escape means the same.
func visible(s string) string {
	hidden := func(r rune) bool {
		return r != ' ' && r != '\n' && (!unicode.IsGraphic(r) || unicode.Is(unicode.Cf, r))
	}
	if !strings.ContainsFunc(s, hidden) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case !hidden(r):
			b.WriteRune(r)
		case r > 0xFFFF:
			r1, r2 := utf16.EncodeRune(r)
			fmt.Fprintf(&b, "\\u%04x\\u%04x", r1, r2)
		default:
			fmt.Fprintf(&b, "\\u%04x", r)
		}
	}
	return b.String()
}
