package policy

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"
)

// Kind names what an argument refers to, for argument guards. Providers say
// which arguments of a call carry which kind; guards allow values per kind.
type Kind string

// The kinds AgentVault guards.
const (
	// Repo is a GitHub repository "owner/name", or "owner/*" for a call
	// that reaches every repository of an owner (an org: search qualifier).
	Repo Kind = "repo"
	// Recipient is an email address a message or an invitation goes to
	// (Gmail, Calendar attendees).
	Recipient Kind = "recipient"
	// Share is an email address a Drive file is shared with.
	Share Kind = "share"
	// Calendar is a Google Calendar id ("primary" or an address).
	Calendar Kind = "calendar"
	// Channel is a Slack channel id or name.
	Channel Kind = "channel"
	// Project is a Jira project key.
	Project Kind = "project"
	// Path is an absolute file path given to an upstream MCP server.
	Path Kind = "path"
	// Branch is which branch a GitHub call writes to: "default", the
	// repository's default branch, or "other".
	Branch Kind = "branch"
)

// KindInfo is a guardable kind with what its allowlist entries look like.
type KindInfo struct {
	Kind    Kind
	Title   string
	Example string
}

// Kinds lists every guardable kind.
var Kinds = []KindInfo{
	{Repo, "GitHub repositories", "acme/*, acme/widgets"},
	{Recipient, "Mail and invitation recipients", "acme.com, *.acme.com, bob@example.org"},
	{Share, "Drive sharing", "acme.com, bob@example.org"},
	{Calendar, "Calendars", "primary, team@acme.com"},
	{Channel, "Slack channels", "eng-bots, C0123ABCD"},
	{Project, "Jira projects", "OPS, ENG"},
	{Path, "File paths", "/home/me/project"},
	{Branch, "GitHub branch writes (other: never the default branch)", "other"},
}

// Resource is one thing a call touches: the value of one argument, as the
// provider that runs the call reads it. An empty Value means the call is not
// limited to any value of its kind (a search without a repo: qualifier), so
// only an allowlist containing "*" lets it through.
type Resource struct {
	Kind  Kind   `json:"kind"`
	Value string `json:"value"`
}

// Guard limits the values of one kind that a vault's calls may touch. It
// covers the tools matching Tools ("" or "*": all of them) whose calls carry
// a Resource of that kind.
type Guard struct {
	Kind  Kind     `json:"kind"`
	Tools string   `json:"tools,omitempty"`
	Allow []string `json:"allow"`
	// Resolved is, for a path guard, where each Allow entry led on this
	// machine (symbolic links followed) when the guard was saved, in the
	// same order: what a server on this machine is checked against. Empty:
	// the entries as written.
	Resolved []string `json:"resolved,omitempty"`
}

// ErrInvalidGuard reports a guard that cannot be applied.
var ErrInvalidGuard = errors.New("invalid guard")

// Validate checks the guard's kind, tool pattern and every allowlist entry.
func (g Guard) Validate() error {
	if _, ok := canonicalizers[g.Kind]; !ok {
		return fmt.Errorf("%w: unknown kind %q", ErrInvalidGuard, g.Kind)
	}
	if g.Tools != "" {
		if err := ValidatePattern(g.Tools); err != nil {
			return fmt.Errorf("%w: %v", ErrInvalidGuard, err)
		}
	}
	if len(g.Allow) == 0 {
		return fmt.Errorf("%w: %s: allow at least one value (\"*\" allows all)", ErrInvalidGuard, g.Kind)
	}
	for _, a := range g.Allow {
		if a == "*" {
			continue
		}
		if _, err := canonicalEntry(g.Kind, a); err != nil {
			return fmt.Errorf("%w: %s entry %q: %v", ErrInvalidGuard, g.Kind, a, err)
		}
	}
	if len(g.Resolved) > 0 {
		if g.Kind != Path || len(g.Resolved) != len(g.Allow) {
			return fmt.Errorf("%w: resolved entries are for path guards, one for each allowed path", ErrInvalidGuard)
		}
		for i, r := range g.Resolved {
			if _, err := canonicalPath(r); err != nil && !(r == "*" && g.Allow[i] == "*") {
				return fmt.Errorf("%w: resolved path %q: %v", ErrInvalidGuard, r, err)
			}
		}
	}
	return nil
}

func (g Guard) covers(tool string) bool {
	return g.Tools == "" || Matches(g.Tools, tool)
}

// Guarding reports whether a guard of kind k covers tool, so that a
// provider reads resources of that kind only when they will be checked.
func (p Policy) Guarding(k Kind, tool string) bool {
	return slices.ContainsFunc(p.Guards, func(g Guard) bool { return g.Kind == k && g.covers(tool) })
}

// checkGuards returns "" when every resource is allowed by every guard
// covering tool, and otherwise the kind and the reason the first one is not.
func checkGuards(guards []Guard, tool string, resources []Resource) (Kind, string) {
	for _, r := range resources {
		for _, g := range guards {
			if g.Kind != r.Kind || !g.covers(tool) {
				continue
			}
			if reason := g.check(r.Value); reason != "" {
				return r.Kind, reason
			}
		}
	}
	return "", ""
}

// check returns why value is outside the guard, or "".
func (g Guard) check(value string) string {
	if slices.Contains(g.Allow, "*") {
		return ""
	}
	what := kindNoun[g.Kind]
	if value == "" {
		return fmt.Sprintf("this call is not limited to one %s, and this vault only allows %s", what, strings.Join(g.Allow, ", "))
	}
	v, err := canonicalizers[g.Kind](value)
	if err != nil {
		return fmt.Sprintf("%s %q is refused: %v", what, clip(value), err)
	}
	for _, a := range g.Allow {
		entry, err := canonicalEntry(g.Kind, a)
		if err == nil && allows(g.Kind, entry, v) {
			return ""
		}
	}
	return fmt.Sprintf("%s %s is outside this vault's allowlist (%s)", what, v, strings.Join(g.Allow, ", "))
}

var kindNoun = map[Kind]string{
	Repo: "repository", Recipient: "recipient", Share: "sharing with", Calendar: "calendar",
	Channel: "channel", Project: "project", Path: "path", Branch: "write to the branch",
}

// canonicalizers turn a value into the one spelling guards compare, or
// refuse it. They accept only the plain ASCII forms the services use, so that
// look-alike characters, stray slashes or dots and path tricks cannot name
// an allowed value while reaching another.
var canonicalizers = map[Kind]func(string) (string, error){
	Repo:      canonicalRepo,
	Recipient: canonicalAddress,
	Share:     canonicalAddress,
	Calendar:  canonicalCalendar,
	Channel:   canonicalChannel,
	Project:   canonicalProject,
	Path:      canonicalPath,
	Branch:    canonicalBranch,
}

// The spellings guards accept. Lengths are checked apart from the patterns:
// a counted repetition like {0,61} compiles into that many copies.
var (
	ownerPattern   = shape(`^[A-Za-z0-9][A-Za-z0-9-]*$`, 39)
	repoPattern    = shape(`^[A-Za-z0-9._-]+$`, 100)
	labelPattern   = shape(`^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$`, 63)
	tldPattern     = shape(`^[A-Za-z][A-Za-z]+$`, 63)
	localPattern   = shape(`^[A-Za-z0-9.!#$%&'*+/=?^_{|}~-]+$`, 64)
	channelPattern = shape(`^[A-Za-z0-9_-]+$`, 80)
	projectPattern = shape(`^[A-Za-z][A-Za-z0-9_]*$`, 10)
	channelID      = shape(`^[CGD][A-Z0-9]{8,}$`, 24)
)

// pattern is a regular expression with a maximum length.
type pattern struct {
	re  *regexp.Regexp
	max int
}

func shape(expr string, max int) pattern { return pattern{regexp.MustCompile(expr), max} }

// MatchString reports whether s has the shape and is not too long.
func (p pattern) MatchString(s string) bool { return len(s) <= p.max && p.re.MatchString(s) }

// validDomain accepts ASCII host names of two or more labels.
func validDomain(d string) bool {
	labels := strings.Split(d, ".")
	if len(d) > 253 || len(labels) < 2 || !tldPattern.MatchString(labels[len(labels)-1]) {
		return false
	}
	for _, l := range labels {
		if !labelPattern.MatchString(l) {
			return false
		}
	}
	return true
}

// GitHub owner and repository names are ASCII and case-insensitive.
func canonicalRepo(v string) (string, error) {
	owner, name, ok := strings.Cut(v, "/")
	if !ok || !ownerPattern.MatchString(owner) || (name != "*" && (!repoPattern.MatchString(name) || name == "." || name == "..")) {
		return "", errors.New("not a repository in the form owner/name")
	}
	return strings.ToLower(owner + "/" + name), nil
}

// An address is one plain ASCII addr-spec, local@domain: no display name,
// no list, no quoting, no comments. Its domain is compared in lower case.
func canonicalAddress(v string) (string, error) {
	local, domain, ok := strings.Cut(v, "@")
	if !ok || !localPattern.MatchString(local) || !validDomain(domain) {
		return "", errors.New("not a single plain ASCII email address")
	}
	return local + "@" + strings.ToLower(domain), nil
}

func canonicalCalendar(v string) (string, error) {
	if v == "primary" {
		return v, nil
	}
	a, err := canonicalAddress(v)
	if err != nil {
		return "", errors.New(`not "primary" or a calendar address`)
	}
	return strings.ToLower(a), nil
}

// Channels are named with or without '#', or by id. Names are lower case in
// Slack and compared so; ids (C…, G…, D… in capitals) are compared as they
// are, so an allowed id never admits a channel named like it.
func canonicalChannel(v string) (string, error) {
	v = strings.TrimPrefix(v, "#")
	if !channelPattern.MatchString(v) {
		return "", errors.New("not a channel name or id")
	}
	if channelID.MatchString(v) {
		return v, nil
	}
	return strings.ToLower(v), nil
}

func canonicalProject(v string) (string, error) {
	if !projectPattern.MatchString(v) {
		return "", errors.New("not a project key")
	}
	return strings.ToUpper(v), nil
}

// A path must be absolute and already clean: no "..", no "//", no trailing
// slash, no NUL and valid UTF-8. Paths are compared byte for byte.
func canonicalPath(v string) (string, error) {
	if !utf8.ValidString(v) || strings.ContainsRune(v, 0) || !path.IsAbs(v) || path.Clean(v) != v {
		return "", errors.New("not a clean absolute path")
	}
	return v, nil
}

// A branch is named by what it is to its repository: the default branch
// or another one.
func canonicalBranch(v string) (string, error) {
	if v = strings.ToLower(v); v != "default" && v != "other" {
		return "", errors.New(`not "default" or "other"`)
	}
	return v, nil
}

// canonicalEntry canonicalizes an allowlist entry: a value, or a pattern in
// the kind's own form ("acme/*", "*.acme.com", "acme.com").
func canonicalEntry(k Kind, entry string) (string, error) {
	switch k {
	case Repo:
		return canonicalRepo(entry)
	case Recipient, Share:
		if strings.Contains(entry, "@") {
			return canonicalAddress(entry)
		}
		d := strings.TrimPrefix(entry, "*.")
		if !validDomain(d) {
			return "", errors.New("not a domain, *.domain or address")
		}
		return strings.ToLower(entry), nil
	}
	return canonicalizers[k](entry)
}

// allows reports whether a canonical entry admits a canonical value.
func allows(k Kind, entry, v string) bool {
	switch k {
	case Repo:
		owner, name, _ := strings.Cut(entry, "/")
		return entry == v || (name == "*" && strings.HasPrefix(v, owner+"/"))
	case Recipient, Share:
		if strings.Contains(entry, "@") {
			return strings.EqualFold(entry, v)
		}
		_, domain, _ := strings.Cut(v, "@")
		if sub, ok := strings.CutPrefix(entry, "*."); ok {
			return strings.HasSuffix(domain, "."+sub)
		}
		return domain == entry
	case Path:
		return v == entry || entry == "/" || strings.HasPrefix(v, entry+"/")
	}
	return entry == v
}

// clip shortens a refused value for a message: it may be anything an agent
// sent.
func clip(s string) string {
	const max = 100
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// OnThisMachine returns p as a server on this machine is checked: each path
// guard allows where its entries led when it was saved (Resolved), so that a
// path that resolves there is compared with an entry that resolved too.
func (p Policy) OnThisMachine() Policy {
	guards := slices.Clone(p.Guards)
	for i, g := range guards {
		if g.Kind == Path && len(g.Resolved) == len(g.Allow) {
			guards[i].Allow = g.Resolved
		}
	}
	p.Guards = guards
	return p
}
