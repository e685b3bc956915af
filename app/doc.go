// Package app is AgentVault's desktop interface: the tray and the window.
package app
