// Package app is AgentVault's desktop interface: the tray menu and the
// window (vaults, the new-vault wizard, services, approvals, audit log,
// settings). It is a thin client of the core: every view renders a snapshot
// read through api.API and every button sends one command back; views are
// rebuilt when the core announces a change. It never starts the Fyne app
// itself (the composition root does), so it runs under Fyne's headless test
// driver.
package app
