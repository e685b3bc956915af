package cli

import (
	"bufio"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/policy"
)

// initCommand walks a first run in the terminal: a service, a vault with a
// preset, and a client set up — every step says what it does, every answer
// has a default (press Enter).
func initCommand(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			in, out := c.In(), c.Out()
			r := bufio.NewReader(in)
			ask := func(question, def string) string {
				fmt.Fprintf(out, "%s [%s]: ", question, def)
				line, _ := r.ReadString('\n')
				if line = strings.TrimSpace(line); line != "" {
					return line
				}
				return def
			}
			choose := func(question string, options []string, def int) int {
				for i, o := range options {
					fmt.Fprintf(out, "  %d. %s\n", i+1, o)
				}
				for {
					n, err := strconv.Atoi(ask(question, strconv.Itoa(def+1)))
					if err == nil && n >= 1 && n <= len(options) {
						return n - 1
					}
					fmt.Fprintf(out, "Answer with a number from 1 to %d.\n", len(options))
				}
			}

			fmt.Fprintln(out, "AgentVault setup: one MCP server, one vault for one agent. Press Enter to take the default.")
			services, err := av.Services(c.Ctx)
			if err != nil {
				return err
			}
			var service string
			if len(services) > 0 {
				service = services[0].Name
				fmt.Fprintf(out, "\nUsing your service %s (%d configured; add more with agentvault service add-mcp).\n", service, len(services))
			} else {
				cwd, _ := os.Getwd()
				fmt.Fprintln(out, "\n1. An MCP server whose tools your agent will use (a command AgentVault starts when needed).")
				command := ask("Command", "npx -y @modelcontextprotocol/server-filesystem "+cwd)
				service = ask("Name for it (tools appear as NAME_tool)", "fs")
				for attempt := 1; ; attempt++ {
					info, err := addMCP(c, av, api.ServiceSpec{Name: service, Command: command, Check: true})
					if err == nil {
						fmt.Fprintf(out, "Added service %s: %s.\n", service, info.Status)
						break
					}
					if attempt == 3 {
						return err
					}
					fmt.Fprintf(out, "That did not work: %v\nCorrect the command, or press Enter to try it again.\n", err)
					command = ask("Command", command)
				}
			}

			fmt.Fprintln(out, "\n2. Which agent is this vault for?")
			var names []string
			for _, cl := range clientsetup.Clients {
				names = append(names, cl.Name)
			}
			client := clientsetup.Clients[choose("Agent", names, 0)]
			vault := ask("Vault name", client.ID)

			fmt.Fprintln(out, "\n3. What may it do? (You can change each tool later: agentvault vault show / the window.)")
			var presets []string
			def := 0
			for i, p := range policy.Presets {
				presets = append(presets, p.Name+": "+p.Description)
				if p.Name == "ask-for-writes" {
					def = i
				}
			}
			preset := policy.Presets[choose("Permissions", presets, def)].Name

			nv, err := av.CreateVault(c.Ctx, api.VaultSpec{Name: vault, Services: []string{service}, Preset: preset})
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\nCreated vault %s with the %s permissions.\n  URL:   %s\n  Token: %s   (shown only now)\n", nv.Name, preset, nv.URL, nv.Token)

			fmt.Fprintf(out, "\n4. Connect %s.\n", client.Name)
			written := false
			if p, err := UserPlaces(); err == nil {
				if place, ok := client.VaultPlace(p, false); ok &&
					strings.HasPrefix(strings.ToLower(ask("Add the vault to "+place.Path+" now? (undo: agentvault client setup "+client.ID+" "+clientsetup.ShellWord(nv.Name)+" --undo) y/n", "n")), "y") {
					res, err := av.WriteClient(c.Ctx, api.ClientSetup{Client: client.ID, Vault: nv.ID, Places: p, Program: program(), Token: nv.Token})
					if err != nil {
						return err
					}
					written = true
					printEdit(c, res, "Added the vault to")
				}
			}
			if !written {
				dir, _ := c.Dir()
				s := api.SnippetFor(client.ID, api.SetupVault{Vault: nv.Name, URL: nv.URL, Token: nv.Token, Program: program(), Data: dir})
				fmt.Fprintf(out, "%s:\n\n%s\n", s.Where, s.Text)
				if s.Run != "" {
					fmt.Fprintf(out, "\nOr start %s contained, with the vault its only way to tools:\n\n%s\n", client.Name, s.Run)
				}
			}
			fmt.Fprintln(out, "\nDone. Start AgentVault with `agentvault` (it serves the vault's URL and asks you about every call that needs approval).")
			return nil
		})
	}
}
