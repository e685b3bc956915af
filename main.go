// Command agentvault is the AgentVault desktop app, its headless server and
// its command line. This file is the composition root: flags and wiring only.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if err := harden(); err != nil {
		fmt.Fprintln(os.Stderr, "agentvault: cannot protect this process's memory:", err)
		os.Exit(1)
	}
	passphrase() // out of the environment before any program is started
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		var u usageError
		if errors.As(err, &u) {
			fmt.Fprintln(os.Stderr, "agentvault:", err)
			fmt.Fprintln(os.Stderr, "run `agentvault help` for usage")
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "agentvault:", err)
		os.Exit(1)
	}
}

// run dispatches a command line. With no command it starts the desktop app
// where there is a display and a GUI build, and the headless server otherwise.
func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") && !slices.Contains([]string{"-h", "--help", "--version"}, args[0]) {
		return runDefault(args, stdout, stderr)
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(rest, stdout, stderr)
	case "service":
		return cmdService(rest, os.Stdin, stdout)
	case "vault":
		return cmdVault(rest, stdout)
	case "audit":
		return cmdAudit(rest, stdout)
	case "approvals":
		return cmdApprovals(rest, os.Stdin, stdout)
	case "bench":
		return cmdBench(rest, stdout)
	case "auth0":
		return cmdAuth0(rest, os.Stdin, stdout)
	case "bridge":
		return cmdBridge(rest, os.Stdin, stdout, stderr)
	case "client":
		return cmdClient(rest, stdout)
	case "init":
		return cmdInit(rest, os.Stdin, stdout)
	case "settings":
		return cmdSettings(rest, stdout)
	case "status":
		return cmdStatus(rest, stdout)
	case "version", "--version":
		fmt.Fprintln(stdout, "agentvault", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// runDefault starts the desktop app where it can, and the headless server
// otherwise, saying why.
func runDefault(args []string, stdout, stderr io.Writer) error {
	dir, listen, ctx, stop, err := serverFlags("agentvault", args)
	if err != nil {
		return err
	}
	defer stop()
	switch {
	case !guiBuilt:
		fmt.Fprintln(stdout, "This build has no desktop app (built with CGO_ENABLED=0): running the headless server.")
	case os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "":
		fmt.Fprintln(stdout, "No display found: running the headless server.")
	default:
		return runGUI(ctx, dir, listen, stdout, stderr)
	}
	return serve(ctx, dir, listen, stdout, stderr)
}

type usageError struct{ msg string }

func (u usageError) Error() string { return u.msg }

const usage = `AgentVault gives every AI agent its own vault: a local MCP URL and token with
exactly the tools you allow.

Usage:
  agentvault [--listen ADDR]      start the desktop app (or the server, without a display)
  agentvault init                 a guided first run in the terminal
  agentvault status [--json]      running or not, where, vaults, agents, approvals, services
  agentvault serve [--listen 127.0.0.1:7878]
  agentvault service add-mcp NAME --command "CMD ARGS…" [--env K=V]… [--secret-env K=V]… [--pass-env NAME]… [--env-stdin]
                                 | --url URL [--header "K: V"]… [--header-stdin]
  agentvault service list [--json]
  agentvault service review NAME [--accept] [--json]
  agentvault service remove NAME
  agentvault vault create NAME --service NAME… [--json]
  agentvault vault list [--json]
  agentvault vault show VAULT [--json]
  agentvault vault policy VAULT TOOL-OR-PATTERN allow|approve|block
  agentvault vault rotate VAULT [--json]
  agentvault vault preset VAULT read-only|ask-for-writes|developer|public-bot|full-access
  agentvault vault timeout VAULT DURATION   (how long calls wait for approval)
  agentvault vault grant-limit VAULT DURATION   (how long "approve for this session" lasts, at most 8h)
  agentvault vault limit VAULT TOOL-OR-PATTERN|'*' 60/min|500/day|off
  agentvault vault renew VAULT --expires 2h | --until TIME | --never
  agentvault vault delete VAULT
  agentvault vault export VAULT > template.json
  agentvault vault import FILE|- [--name NAME] [--json]
  agentvault approvals list [--json]
  agentvault approvals show ID|CODE [--json]      (the complete call)
  agentvault approvals approve ID|CODE [--session | --always] [--yes]
        (--session: this tool, any arguments, for this agent's session)
  agentvault approvals deny ID|CODE [--reason TEXT]
  agentvault settings [--max-pending N] [--max-sessions N] [--body-timeout D] [--json]
        (per vault: calls waiting for approval, open sessions, time to send a request)
  agentvault audit list [--vault VAULT] [--limit N] [--json]
  agentvault audit export --format jsonl|csv [--out FILE] [--vault VAULT]
  agentvault auth0 setup --domain DOMAIN --client-id ID   (client secret on standard input)
  agentvault auth0 login | status [--json] | logout
  agentvault auth0 accounts [--json] | unlink ACCOUNT-ID   (provider accounts linked for Token Vault)
  agentvault client setup CLIENT VAULT [--print | --write | --undo] [--config FILE]
        (CLIENT: claude-code, cursor, vscode, windsurf, claude-desktop, gemini, codex)
  agentvault bridge VAULT [--token-file FILE]   (stdio for clients without HTTP; token from the keychain or $AGENTVAULT_TOKEN)
  agentvault bench [--rounds N] [--calls N] [--duration D]
  agentvault version

Every command takes --data DIR (default $AGENTVAULT_DATA, else the user config
folder's agentvault/). VAULT is a vault id or name. While the server runs, the
CLI talks to it over DATA/agentvault.sock and changes reach agents at once.
`
