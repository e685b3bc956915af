package api

// Topic says what part of AgentVault a Change is about.
type Topic string

// The topics of changes.
const (
	// VaultChanged: a vault was created, changed or (Removed) deleted.
	VaultChanged Topic = "vault"
	// ServiceChanged: a service was added, connected, removed or reviewed,
	// or its tools changed upstream.
	ServiceChanged Topic = "service"
	// ApprovalsChanged: a call started waiting for approval, or was answered.
	ApprovalsChanged Topic = "approvals"
	// SettingsChanged: pause, limits or the Auth0 setup changed.
	SettingsChanged Topic = "settings"
)

// Change is one change to what AgentVault keeps: what windows redraw on.
type Change struct {
	Topic Topic `json:"topic"`
	// Vault is the id of the vault that changed; Removed says it was
	// deleted.
	Vault   string `json:"vault,omitempty"`
	Removed bool   `json:"removed,omitempty"`
	// Service is the name of the service that changed.
	Service string `json:"service,omitempty"`
}
