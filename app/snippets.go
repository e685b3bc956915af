package app

import (
	"strings"

	"github.com/agentvault/agentvault/internal/clientsetup"
)

// Clients are the agents AgentVault has setup instructions for, in the order
// the GUI offers them.
var Clients = func() []string {
	var names []string
	for _, c := range clientsetup.Clients {
		names = append(names, c.Name)
	}
	return names
}()

// Snippet is what a user pastes into a client to add a vault, and where.
type Snippet struct {
	Where string
	Text  string
}

// SetupSnippet returns the setup for one client (by name); name is the
// server name the client will show.
func SetupSnippet(client, name, url, token string) Snippet {
	c, err := clientsetup.Find(client)
	v := clientsetup.Vault{Name: name, URL: url, Token: token}
	if err != nil {
		return Snippet{"Any MCP client (streamable HTTP)", "URL: " + url + "\nHeader: Authorization: Bearer " + token}
	}
	return Snippet{c.Where, c.Snippet(v)}
}

// serverName turns a vault name into a name clients accept.
func serverName(vault string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			return r
		}
		return '-'
	}, vault)
}
