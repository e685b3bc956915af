package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// TemplateKind and TemplateVersion identify the vault template format:
//
//	{
//	  "kind": "agentvault-vault-template",
//	  "version": 1,
//	  "name": "reviewer",                     // suggested vault name
//	  "services": ["fs", "github"],          // services the vault offers
//	  "approval_timeout": "2m",              // optional
//	  "rules": [{"pattern": "fs_*", "decision": "block"}],
//	  "guards": [{"kind": "repo", "allow": ["acme/*"]}],  // optional
//	  "flow": {"on": true, "marks": [{"pattern": "fetch", "role": "sink", "is": true}]}  // optional, version 2
//	}
//
// A template holds no secrets and no ids: it can be shared. Version 1
// templates (without flow) are still read.
const (
	TemplateKind    = "agentvault-vault-template"
	TemplateVersion = 2
)

// Template is a vault's shareable configuration.
type Template struct {
	Kind            string      `json:"kind"`
	Version         int         `json:"version"`
	Name            string      `json:"name"`
	Services        []string    `json:"services"`
	ApprovalTimeout string      `json:"approval_timeout,omitempty"`
	Rules           []Rule      `json:"rules"`
	RateLimits      []RateLimit `json:"rate_limits,omitempty"`
	Guards          []Guard     `json:"guards,omitempty"`
	Flow            Flow        `json:"flow,omitzero"`
}

// MaxTemplate bounds a template file.
const MaxTemplate = 1 << 20

var serviceNamePattern = regexp.MustCompile(`^[a-zA-Z0-9-]{1,32}$`)

// DecodeTemplate reads a template strictly: unknown fields, trailing data,
// a wrong kind or version and invalid values are errors that name the field.
func DecodeTemplate(raw []byte) (Template, error) {
	if len(raw) > MaxTemplate {
		return Template{}, errors.New("template: larger than 1 MiB")
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	var t Template
	if err := dec.Decode(&t); err != nil {
		return Template{}, fmt.Errorf("template: %w", err)
	}
	if dec.More() {
		return Template{}, errors.New("template: unexpected data after the template")
	}
	return t, t.Validate()
}

// Validate checks every field.
func (t Template) Validate() error {
	switch {
	case t.Kind != TemplateKind:
		return fmt.Errorf("template: field kind: %q, want %q", t.Kind, TemplateKind)
	case t.Version < 1 || t.Version > TemplateVersion:
		return fmt.Errorf("template: field version: %d is not supported (want 1 to %d)", t.Version, TemplateVersion)
	case t.Version == 1 && !t.Flow.IsZero():
		return errors.New("template: field flow: needs version 2")
	case strings.TrimSpace(t.Name) == "" || len(t.Name) > 64:
		return errors.New("template: field name: 1-64 characters")
	case len(t.Services) == 0:
		return errors.New("template: field services: at least one service")
	}
	for i, s := range t.Services {
		if !serviceNamePattern.MatchString(s) {
			return fmt.Errorf("template: field services[%d]: %q is not a service name", i, s)
		}
	}
	if t.ApprovalTimeout != "" {
		d, err := time.ParseDuration(t.ApprovalTimeout)
		if err != nil || d < time.Second || d > time.Hour {
			return fmt.Errorf("template: field approval_timeout: %q, want a duration from 1s to 1h", t.ApprovalTimeout)
		}
	}
	for i, l := range t.RateLimits {
		if _, err := ParseRateLimit(l.Pattern, l.String()); err != nil {
			return fmt.Errorf("template: field rate_limits[%d]: %v", i, err)
		}
	}
	for i, r := range t.Rules {
		if err := ValidatePattern(r.Pattern); err != nil {
			return fmt.Errorf("template: field rules[%d].pattern: %w", i, err)
		}
		if _, err := ParseDecision(string(r.Decision)); err != nil {
			return fmt.Errorf("template: field rules[%d].decision: %w", i, err)
		}
	}
	for i, g := range t.Guards {
		if err := g.Validate(); err != nil {
			return fmt.Errorf("template: field guards[%d]: %w", i, err)
		}
	}
	for i, m := range t.Flow.Marks {
		if _, err := t.Flow.Marked(m.Role, m.Pattern, nil); err != nil {
			return fmt.Errorf("template: field flow.marks[%d]: %w", i, err)
		}
	}
	return nil
}

// Policy is the template's rules, guards and data-flow protection.
func (t Template) Policy() Policy { return Policy{Rules: t.Rules, Guards: t.Guards, Flow: t.Flow} }
