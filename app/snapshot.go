package app

import (
	"context"
	"time"

	"github.com/agentvault/agentvault/internal/api"
)

// snapshot is everything the window and the tray show, read from the API
// in one go off the UI thread: the views render it and never wait on the
// core (which may wait on a service) themselves.
type snapshot struct {
	status    api.Status
	statusErr error

	vaults    []api.VaultInfo
	vaultsErr error
	// detail is the vault the window shows, detailFor its id.
	detail    api.VaultDetail
	detailErr error
	detailFor string

	approvals    api.Approvals
	approvalsErr error

	services    []api.ServiceInfo
	servicesErr error
	changes     map[string][]api.ToolChange // by service

	records    []api.AuditRecord
	recordsErr error

	limits    api.Limits
	limitsErr error

	clients []string
	kinds   []api.Kind

	// found are the MCP clients' configs on this computer.
	found    []api.ClientConfig
	foundErr error
}

// loadTimeout bounds one snapshot: a service that does not answer leaves
// its part out, with the reason.
const loadTimeout = 30 * time.Second

// load reads a snapshot, with selected the vault to describe ("" or one
// that is gone: the first).
func (u *UI) load(selected string) snapshot {
	ctx, cancel := context.WithTimeout(context.Background(), loadTimeout)
	defer cancel()
	a := u.cfg.API
	var s snapshot
	s.status, s.statusErr = a.Status(ctx)
	s.vaults, s.vaultsErr = a.Vaults(ctx)
	if len(s.vaults) > 0 {
		s.detailFor = s.vaults[0].ID
		for _, v := range s.vaults {
			if v.ID == selected {
				s.detailFor = selected
			}
		}
		s.detail, s.detailErr = a.Vault(ctx, s.detailFor)
	}
	s.approvals, s.approvalsErr = a.Approvals(ctx)
	s.services, s.servicesErr = a.Services(ctx)
	s.changes = map[string][]api.ToolChange{}
	for _, svc := range s.services {
		if ch, err := a.ReviewService(ctx, svc.Name); err == nil && len(ch) > 0 {
			s.changes[svc.Name] = ch
		}
	}
	s.records, s.recordsErr = a.AuditList(ctx, api.AuditQuery{Limit: auditLimit})
	s.limits, s.limitsErr = a.Limits(ctx)
	s.clients = a.Clients(ctx)
	if u.cfg.Places.Home != "" {
		s.found, s.foundErr = a.ScanClients(ctx, u.cfg.Places)
	}
	s.kinds = a.ServiceKinds(ctx)
	return s
}

// Refresh re-reads the core and redraws the window and the tray, at once,
// on the calling (UI) thread.
func (u *UI) Refresh() { u.render(u.load(u.selected)) }

// refreshLater re-reads the core off the UI thread and redraws after;
// requests that come while one runs are folded into one more. UI thread
// only.
func (u *UI) refreshLater() {
	if u.refreshing {
		u.again = true
		return
	}
	u.refreshing = true
	selected := u.selected
	var s snapshot
	u.cfg.Run(func() { s = u.load(selected) }, func() {
		u.render(s)
		u.refreshing = false
		if u.again {
			u.again = false
			u.refreshLater()
		}
	})
}

// redraw redraws from the snapshot the window has: after a change of what
// it shows (a tab of the wizard), not of the core.
func (u *UI) redraw() { u.render(u.snap) }

// render redraws everything from s; UI thread only.
func (u *UI) render(s snapshot) {
	u.snap = s
	u.refreshTray()
	if u.win == nil {
		return
	}
	set(u.vaultsTab, u.vaultsView())
	set(u.approvalsTab, u.approvalsView())
	set(u.servicesTab, u.servicesView())
	set(u.auditTab, u.auditView())
	set(u.settingsTab, u.settingsView())
}
