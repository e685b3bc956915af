package cli

import (
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/bridge"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets"
)

func clientCommands() []Command {
	ids := strings.Join(clientsetup.IDs(), ", ")
	return []Command{
		{Name: "client setup", NArgs: 2, Args: "CLIENT VAULT [--print | --write | --undo [--last]] [--workspace] [--config FILE] [--token-file FILE]", Run: clientSetup,
			Summary: "set up an MCP client for a vault (" + ids + ")"},
		{Name: "clients scan", JSON: true, Run: clientsScan, Summary: "the MCP clients' config files on this computer, and which servers skip AgentVault"},
		{Name: "clients import", NArgs: 1, JSON: true, Args: "CLIENT [--vault NAME] [--servers a,b] [--workspace] [--token-file FILE]", Run: clientsImport,
			Summary: "move a client's MCP servers behind a vault: each becomes a service, the client reaches them through the vault"},
		{Name: "clients undo", NArgs: 1, JSON: true, Args: "CLIENT [--last] [--workspace] [--config FILE]", Run: clientsUndo,
			Summary: "reverse AgentVault's edits of a client's config, keeping everything changed since"},
		{Name: "bridge", Optional: 1, Args: "[VAULT] [--token-file FILE]", Run: bridgeRun,
			Summary: "serve a vault on stdin/stdout, for clients that only start commands (token from the keychain or $AGENTVAULT_TOKEN; inside agentvault run, the vault it gives)"},
	}
}

// UserPlaces are where this user's files are, as the clients find them.
func UserPlaces() (api.Places, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return api.Places{}, err
	}
	dir, _ := os.Getwd()
	return api.Places{Home: home, Dir: dir, OS: runtime.GOOS, AppData: os.Getenv("APPDATA"),
		ConfigHome: os.Getenv("XDG_CONFIG_HOME"), CodexHome: os.Getenv("CODEX_HOME")}, nil
}

// clientAndPlaces is the client a command names and where this user's
// files are.
func clientAndPlaces(c *Call) (clientsetup.Client, api.Places, error) {
	client, err := clientsetup.Find(c.Args[0])
	if err != nil {
		return client, api.Places{}, c.Usage("%v", err)
	}
	p, err := UserPlaces()
	return client, p, err
}

// program is this agentvault program, for clients that start the bridge.
func program() string {
	self, err := os.Executable()
	if err != nil {
		return "agentvault"
	}
	return self
}

func clientSetup(fs *flag.FlagSet) func(c *Call) error {
	write := fs.Bool("write", false, "add the vault to the client's config file (undo with --undo)")
	undo := fs.Bool("undo", false, "reverse AgentVault's edits of the client's config file, keeping everything changed since")
	last := fs.Bool("last", false, "with --undo: only the latest edit")
	workspace := fs.Bool("workspace", false, "the file your team shares (.mcp.json, .vscode/mcp.json…) instead of your own")
	fs.Bool("print", true, "print the snippet (the default)")
	config := fs.String("config", "", "the client's config file (default: its usual place)")
	tokenFile := fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN, then the keychain)")
	return func(c *Call) error {
		client, p, err := clientAndPlaces(c)
		if err != nil {
			return err
		}
		if *undo {
			return withAPI(c, func(av api.API) error {
				res, err := av.UndoClient(c.Ctx, api.ClientUndo{Client: client.ID, Places: p, Workspace: *workspace, Config: *config, Last: *last})
				if err != nil {
					return err
				}
				return printEdit(c, res, "Reverted AgentVault's changes to")
			})
		}
		info, token, err := vaultAccess(c, withAPI, c.Args[1], *tokenFile)
		if err != nil {
			return err
		}
		if !*write {
			dir, _ := c.Dir()
			v := api.SetupVault{Vault: info.Name, URL: info.URL, Token: token, Program: program(), Data: dir}
			if v.Token == "" {
				v.Token = "<TOKEN>"
			}
			s := api.SnippetFor(client.ID, v)
			fmt.Fprintf(c.Out(), "%s:\n\n%s\n", s.Where, s.Text)
			if s.Run != "" {
				fmt.Fprintf(c.Out(), "\nOr start %s contained, with the vault its only way to tools (no setup needed):\n\n%s\n", client.Name, s.Run)
			}
			if token == "" && strings.Contains(s.Text, "<TOKEN>") {
				fmt.Fprintln(c.Out(), "\nThe vault's token is not kept on this machine: put it in place of <TOKEN> (or give it in $AGENTVAULT_TOKEN or --token-file).")
			}
			return nil
		}
		return withAPI(c, func(av api.API) error {
			res, err := av.WriteClient(c.Ctx, api.ClientSetup{Client: client.ID, Vault: info.ID, Places: p, Workspace: *workspace,
				Config: *config, Program: program(), Token: token})
			if err != nil {
				return err
			}
			if err := printEdit(c, res, "Added vault "+info.Name+" to"); err != nil || c.JSON {
				return err
			}
			fmt.Fprintf(c.Out(), "Undo with: agentvault client setup %s %s --undo\n", client.ID, clientsetup.ShellWord(info.Name))
			return nil
		})
	}
}

// printEdit says which files an edit or undo touched.
func printEdit(c *Call, res api.EditResult, what string) error {
	if c.JSON {
		return printJSON(c.Out(), res)
	}
	for _, f := range res.Configs {
		fmt.Fprintf(c.Out(), "%s %s.\n", what, f)
	}
	for _, k := range res.Kept {
		fmt.Fprintf(c.Out(), "Left as it is, changed since AgentVault wrote it: %s\n", k)
	}
	for _, f := range res.Removed {
		fmt.Fprintf(c.Out(), "Removed %s: AgentVault had created it, and it held nothing else.\n", f)
	}
	return nil
}

func clientsScan(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		p, err := UserPlaces()
		if err != nil {
			return err
		}
		return withAPI(c, func(av api.API) error {
			found, err := av.ScanClients(c.Ctx, p)
			if err != nil {
				return err
			}
			if c.JSON {
				if found == nil {
					found = []api.ClientConfig{}
				}
				return printJSON(c.Out(), found)
			}
			if len(found) == 0 {
				fmt.Fprintln(c.Out(), "No MCP client config found for this user ("+strings.Join(clientsetup.Names(), ", ")+").")
				return nil
			}
			out := c.Out()
			for _, f := range found {
				fmt.Fprintf(out, "%s — %s\n", f.Name, f.Config)
				if f.Error != "" {
					fmt.Fprintf(out, "  cannot read it: %s\n", f.Error)
				}
				tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
				for _, s := range f.Servers {
					how, through := s.Command, "skips AgentVault"
					if s.URL != "" {
						how = s.URL
					}
					if s.ThroughAgentVault {
						through = "through AgentVault"
					}
					scope := s.Scope
					if s.Project != nil {
						scope += " (" + *s.Project + ")"
					}
					fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", s.Name, scope, through, cell(how))
				}
				tw.Flush()
			}
			if bypass := bypassing(found); len(bypass) > 0 {
				fmt.Fprintf(out, "\n%s\n", strings.Join(bypass, "\n"))
			}
			return nil
		})
	}
}

// bypassing says, per client, which servers it starts directly, skipping
// every vault.
func bypassing(found []api.ClientConfig) []string {
	var lines []string
	for _, f := range found {
		var names []string
		for _, s := range f.Servers {
			if !s.ThroughAgentVault {
				names = append(names, s.Name)
			}
		}
		if len(names) > 0 {
			lines = append(lines, fmt.Sprintf("%s reaches %s directly: those calls skip AgentVault. Move them behind a vault with: agentvault clients import %s",
				f.Name, strings.Join(names, ", "), f.Client))
		}
	}
	return slices.Compact(lines)
}

func clientsImport(fs *flag.FlagSet) func(c *Call) error {
	vault := fs.String("vault", "", "the vault to create or add to (default: the client's name)")
	servers := fs.String("servers", "", "only these servers, by name, comma-separated (default: every one that skips AgentVault)")
	workspace := fs.Bool("workspace", false, "also the files your team shares (.mcp.json, .vscode/mcp.json…)")
	tokenFile := fs.String("token-file", "", "file holding the vault's token, for an existing vault whose token is not kept")
	return func(c *Call) error {
		client, p, err := clientAndPlaces(c)
		if err != nil {
			return err
		}
		spec := api.ImportSpec{Client: client.ID, Vault: *vault, Workspace: *workspace, Places: p, Program: program()}
		if *servers != "" {
			spec.Servers = strings.Split(*servers, ",")
		}
		if spec.Token, err = givenToken(*tokenFile); err != nil {
			return err
		}
		return withAPI(c, func(av api.API) error {
			fmt.Fprintf(c.Err(), "Starting %s's servers to list their tools…\n", client.Name)
			res, err := av.ImportClient(c.Ctx, spec)
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), res)
			}
			out := c.Out()
			for _, s := range res.Skipped {
				fmt.Fprintf(out, "Left as it is: %s\n", s)
			}
			if len(res.Moved) == 0 {
				fmt.Fprintln(out, "Nothing moved.")
				return nil
			}
			fmt.Fprintf(out, "Moved %s behind vault %s (services %s).\n", strings.Join(res.Moved, ", "), res.Vault, strings.Join(res.Services, ", "))
			if res.Created != nil {
				fmt.Fprintf(out, "Created vault %s; its token (shown only now): %s\n", res.Created.Name, res.Created.Token)
			}
			for _, f := range res.Configs {
				fmt.Fprintf(out, "Edited %s: %s now reaches them through the vault.\n", f, client.Name)
			}
			fmt.Fprintf(out, "Restart %s to use it. Undo with: agentvault clients undo %s\n", client.Name, client.ID)
			return nil
		})
	}
}

func clientsUndo(fs *flag.FlagSet) func(c *Call) error {
	last := fs.Bool("last", false, "only the latest edit of each file")
	workspace := fs.Bool("workspace", false, "also the files your team shares")
	config := fs.String("config", "", "only this file")
	return func(c *Call) error {
		client, p, err := clientAndPlaces(c)
		if err != nil {
			return err
		}
		return withAPI(c, func(av api.API) error {
			res, err := av.UndoClient(c.Ctx, api.ClientUndo{Client: client.ID, Places: p, Workspace: *workspace, Config: *config, Last: *last})
			if err != nil {
				return err
			}
			if err := printEdit(c, res, "Reverted AgentVault's changes to"); err != nil || c.JSON {
				return err
			}
			fmt.Fprintln(c.Out(), "The services and the vault stay in AgentVault; remove them with agentvault service remove / vault delete.")
			return nil
		})
	}
}

// bridgeRun serves a vault over stdio for clients that cannot speak HTTP.
// Standard output carries the MCP protocol only; messages go to stderr.
func bridgeRun(fs *flag.FlagSet) func(c *Call) error {
	tokenFile := fs.String("token-file", "", "file holding the vault's token (default: $AGENTVAULT_TOKEN)")
	return func(c *Call) error {
		var url, token string
		var err error
		if len(c.Args) == 0 { // inside agentvault run: the vault it gives
			url = os.Getenv("AGENTVAULT_URL")
			if url == "" {
				return c.Usage("name the vault (outside agentvault run there is no $AGENTVAULT_URL)")
			}
			token, err = givenToken(*tokenFile)
		} else {
			var info api.VaultInfo
			info, token, err = vaultAccess(c, withServer, c.Args[0], *tokenFile) // the bridge talks to the server over HTTP
			url = info.URL
		}
		if err != nil {
			return err
		}
		if token == "" {
			return c.Usage("the vault's token is needed: none in the keychain, so give it in $AGENTVAULT_TOKEN or --token-file")
		}
		logger := slog.New(slog.NewTextHandler(c.env.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		return bridge.Run(c.Ctx, bridge.Config{URL: url, Token: token, Version: c.env.Version, Logger: logger}, c.In(), c.Out())
	}
}

// vaultAccess finds a vault by id or name, reaching AgentVault with reach,
// and its token (from tokenFile, $AGENTVAULT_TOKEN or the secret store; ""
// if none), releasing AgentVault before returning.
func vaultAccess(c *Call, reach func(*Call, func(api.API) error) error, ref, tokenFile string) (api.VaultInfo, string, error) {
	var info api.VaultInfo
	err := reach(c, func(av api.API) error {
		vaults, err := av.Vaults(c.Ctx)
		if err != nil {
			return err
		}
		for _, v := range vaults {
			if v.ID == ref || v.Name == ref {
				info = v
				return nil
			}
		}
		return fmt.Errorf("vault %q: %w", ref, api.ErrNotFound)
	})
	if err != nil {
		return info, "", err
	}
	dir, err := c.Dir()
	if err != nil {
		return info, "", err
	}
	token, err := vaultToken(dir, tokenFile, info.ID)
	return info, token, err
}

// givenToken is the vault token the user gave: in file, else in
// $AGENTVAULT_TOKEN; "" if neither.
func givenToken(file string) (string, error) {
	if file != "" {
		raw, err := os.ReadFile(file)
		return strings.TrimSpace(string(raw)), err
	}
	return os.Getenv("AGENTVAULT_TOKEN"), nil
}

// vaultToken reads a vault's token from file, else $AGENTVAULT_TOKEN, else
// the secret store (where AgentVault keeps new tokens when it can); "" if none.
func vaultToken(dir, file, vaultID string) (string, error) {
	if tok, err := givenToken(file); tok != "" || err != nil {
		return tok, err
	}
	keys, err := Secrets(dir)
	if err != nil {
		return "", err
	}
	tok, err := keys.Get(core.VaultTokenKey(vaultID))
	if errors.Is(err, secrets.ErrNotFound) || errors.Is(err, secrets.ErrUnavailable) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("reading the vault's token: %w", err)
	}
	return tok, nil
}
