package api

import (
	"time"

	"github.com/agentvault/agentvault/policy"
)

// VaultSpec describes a vault to create.
type VaultSpec struct {
	Name     string   `json:"name"`
	Services []string `json:"services"`
	// Preset, when set, is applied as the vault is created: the vault is
	// made with it or not at all.
	Preset string `json:"preset,omitempty"`
	// ApprovalTimeout is how long calls wait for approval; 0: 120 s.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// Expires is when the vault stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
}

// NewVault is a created vault with its token, shown once.
type NewVault struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	URL   string `json:"url"`
	Token string `json:"token"`
	// Warnings say, for people, what the new vault lacks: tools, or a token
	// kept in the keychain.
	Warnings []string `json:"warnings,omitempty"`
}

// NoToolsYet is the warning of a vault created without services.
const NoToolsYet = "this vault offers no tools yet: add a service to it"

// VaultInfo summarises a vault.
type VaultInfo struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	URL      string    `json:"url"`
	Services []string  `json:"services"`
	Created  time.Time `json:"created"`
	// Expires is when the vault stops working; zero: never.
	Expires time.Time `json:"expires,omitzero"`
	// ApprovalTimeout is how long calls wait for approval; 0: 2 minutes.
	ApprovalTimeout time.Duration `json:"approval_timeout,omitempty"`
	// GrantLimit is how long "approve for this session" lasts at most; 0:
	// 8 hours.
	GrantLimit time.Duration `json:"grant_limit,omitempty"`
	// Sessions counts the agents connected now (clients of the stateless
	// protocol revision keep no session, so are not counted).
	Sessions int `json:"sessions"`
}

// VaultDetail is a vault with its rules and every tool it could offer.
type VaultDetail struct {
	VaultInfo
	Rules      []policy.Rule         `json:"rules"`
	Guards     []policy.Guard        `json:"guards,omitempty"`
	RateLimits []policy.RateLimit    `json:"rate_limits,omitempty"`
	Tools      []policy.ToolDecision `json:"tools"`
	Flow       policy.Flow           `json:"flow"`
	// Unmatched are the rules' patterns that match none of the tools.
	Unmatched []string `json:"unmatched,omitempty"`
	// Warning says why the tool list may be incomplete.
	Warning string `json:"warning,omitempty"`
}

// ExpiryText says whether and when the vault expires, for people.
func (v VaultInfo) ExpiryText(now time.Time) string {
	switch {
	case v.Expires.IsZero():
		return "Expires: never"
	case !now.Before(v.Expires):
		return "Expired: " + v.Expires.Local().Format(time.RFC1123) + " (renew it to let its agent in again)"
	}
	return "Expires: " + v.Expires.Local().Format(time.RFC1123)
}

// Expired reports whether the vault has expired at now.
func (v VaultInfo) Expired(now time.Time) bool { return !v.Expires.IsZero() && !now.Before(v.Expires) }
