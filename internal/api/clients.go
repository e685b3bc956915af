package api

import "github.com/agentvault/agentvault/internal/clientsetup"

// Places is where the user of a front end keeps their files: the home
// folder and the folder they work in (project files), as clientsetup
// defines them.
type Places = clientsetup.Places

// ClientConfig is one config file of an MCP client, with its servers.
type ClientConfig struct {
	Client  string        `json:"client"`
	Name    string        `json:"name"` // the client, for people
	Config  string        `json:"config"`
	Servers []FoundServer `json:"servers"`
	// Error says why the file could not be read.
	Error string `json:"error,omitempty"`
}

// FoundServer is an MCP server entry of a client's config file.
type FoundServer struct {
	Name string `json:"name"`
	// Scope is the client's word for where the entry is (user, local,
	// project, workspace); Project the project folder of a local one.
	Scope   string  `json:"scope"`
	Project *string `json:"project"`
	Command string  `json:"command,omitempty"`
	URL     string  `json:"url,omitempty"`
	// ThroughAgentVault says the entry reaches a vault, not the server.
	ThroughAgentVault bool `json:"through_agentvault"`
	// Shared marks a file a team shares: imported only when asked.
	Shared bool `json:"shared,omitempty"`
}

// ImportSpec moves a client's servers behind a vault.
type ImportSpec struct {
	Client string `json:"client"`
	// Vault is the vault to create or add to; "": the client's id.
	Vault string `json:"vault,omitempty"`
	// Servers are the entries to move; none: every one that does not go
	// through AgentVault yet.
	Servers []string `json:"servers,omitempty"`
	// Workspace also edits the files a team shares.
	Workspace bool   `json:"workspace,omitempty"`
	Places    Places `json:"places"`
	// Program is the agentvault program, for clients that start the
	// bridge; Token the vault's, when it exists and its token is not kept.
	Program string `json:"program"`
	Token   string `json:"token,omitempty"`
}

// ImportResult says what an import did.
type ImportResult struct {
	Vault string `json:"vault"`
	// Created is the new vault with its token (shown once), when the
	// import made one.
	Created *NewVault `json:"created,omitempty"`
	// Moved are the entries the client now reaches through the vault, and
	// Services the services they became.
	Moved    []string `json:"moved"`
	Services []string `json:"services"`
	// Skipped are the entries left as they were, each with the reason.
	Skipped []string `json:"skipped,omitempty"`
	// Configs are the files edited.
	Configs []string `json:"configs"`
}

// ClientSetup adds a vault to a client's config file.
type ClientSetup struct {
	Client string `json:"client"`
	Vault  string `json:"vault"`
	Places Places `json:"places"`
	// Workspace writes to the file a team shares; Config to this file
	// instead of the client's usual one.
	Workspace bool   `json:"workspace,omitempty"`
	Config    string `json:"config,omitempty"`
	Program   string `json:"program"`
	Token     string `json:"token,omitempty"`
}

// ClientUndo reverses AgentVault's edits of a client's config files.
type ClientUndo struct {
	Client    string `json:"client"`
	Places    Places `json:"places"`
	Workspace bool   `json:"workspace,omitempty"`
	// Config is the one file to undo; "": every file of the client.
	Config string `json:"config,omitempty"`
	// Last undoes only the latest edit of each file.
	Last bool `json:"last,omitempty"`
}

// EditResult says which client config files an edit or an undo touched.
type EditResult struct {
	Configs []string `json:"configs"`
	// Kept are entries an undo left as they are because they were changed
	// since AgentVault wrote them ("FILE: ENTRY").
	Kept []string `json:"kept,omitempty"`
	// Removed are files an undo removed: AgentVault had created them and
	// they held nothing else.
	Removed []string `json:"removed,omitempty"`
}

// SnippetFor is what a user pastes into client (by name) to add v, and
// where; for an agent with a shell, also how to start it contained.
func SnippetFor(client string, v SetupVault) Snippet {
	where, text := clientsetup.Setup(client, clientsetup.Vault{Name: clientsetup.EntryName(v.Vault), URL: v.URL, Token: v.Token,
		Bridge: clientsetup.Bridge{Program: v.Program, Vault: v.Vault, Data: v.Data}})
	s := Snippet{Where: where, Text: text}
	if c, err := clientsetup.Find(client); err == nil && c.Program != "" {
		s.Run = "agentvault run " + clientsetup.ShellWord(v.Vault) + " -- " + c.Program
	}
	return s
}
