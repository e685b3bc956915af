package cli

import (
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/clientsetup"
	"github.com/agentvault/agentvault/policy"
)

func vaultCommands() []Command {
	return []Command{
		{Name: "vault create", NArgs: 1, JSON: true, Run: vaultCreate,
			Args:    "NAME --service NAME… [--preset NAME] [--approval-timeout 2m] [--expires 2h | --until TIME]",
			Summary: "make a vault for one agent: its URL and token (shown once)"},
		{Name: "vault list", JSON: true, Run: vaultList, Summary: "the vaults"},
		{Name: "vault show", NArgs: 1, JSON: true, Args: "VAULT", Run: vaultShow, Summary: "a vault's tools with their decisions, rules, guards and limits"},
		{Name: "vault services", NArgs: -3, Args: "VAULT add|remove SERVICE…", Run: vaultServices, Summary: "change which services' tools a vault offers"},
		{Name: "vault policy", NArgs: 3, Args: "VAULT TOOL-OR-PATTERN allow|approve|block|off", Run: vaultPolicy, Summary: "decide a tool (or tools matching a pattern with *); off removes the rule"},
		{Name: "vault flow", NArgs: -2, Args: "VAULT on|off | VAULT source|sink PATTERN [no|off]", Run: vaultFlow,
			Summary: "data-flow protection: after a session reads private data (a source), tools that can send it out (sinks) ask"},
		{Name: "vault explain", NArgs: 2, JSON: true, Args: "VAULT TOOL [--args JSON] [--session ID] [--lookup]", Run: vaultExplain,
			Summary: "how a call of TOOL would be decided now, and every reason"},
		{Name: "vault guard", NArgs: -3, Args: "VAULT KIND VALUE…|off [--tools PATTERN]", Run: vaultGuard,
			Summary: "limit what a vault's calls may touch: " + guardKinds()},
		{Name: "vault preset", NArgs: 2, Args: "VAULT " + strings.ReplaceAll(presetNames(), ", ", "|"), Run: vaultPreset, Summary: "replace a vault's rules with a built-in preset"},
		{Name: "vault limit", NArgs: 3, Args: "VAULT TOOL-OR-PATTERN|'*' 60/min|500/day|off", Run: vaultLimit, Summary: "cap a vault's calls ('*': all of them together)"},
		{Name: "vault timeout", NArgs: 2, Args: "VAULT DURATION", Run: vaultTimeout, Summary: "how long a vault's calls wait for approval (1s-1h)"},
		{Name: "vault grant-limit", NArgs: 2, Args: "VAULT DURATION", Run: vaultGrantLimit, Summary: `how long "approve for this session" lasts at most (1m-8h)`},
		{Name: "vault rotate", NArgs: 1, JSON: true, Args: "VAULT", Run: vaultRotate, Summary: "give a vault a new token; the old one and its sessions end now"},
		{Name: "vault renew", NArgs: 1, Args: "VAULT --expires 2h | --until TIME | --never", Run: vaultRenew, Summary: "let an expiring vault's agent in for longer"},
		{Name: "vault delete", NArgs: 1, Args: "VAULT [--force]", Run: vaultDelete, Summary: "remove a vault; its audit records stay"},
		{Name: "vault export", NArgs: 1, Args: "VAULT > template.json", Run: vaultExport, Summary: "a vault's shareable template (no token, no id)"},
		{Name: "vault import", NArgs: 1, JSON: true, Args: "FILE|- [--name NAME]", Run: vaultImport, Summary: "make a vault from a template"},
	}
}

// withAPI runs f with AgentVault reached, and releases it after.
func withAPI(c *Call, f func(av api.API) error) error {
	av, done, err := c.API()
	if err != nil {
		return err
	}
	defer done()
	return f(av)
}

func vaultCreate(fs *flag.FlagSet) func(c *Call) error {
	var services stringList
	fs.Var(&services, "service", "a service the vault offers (repeatable)")
	timeout := fs.Duration("approval-timeout", 0, "how long calls wait for approval (default 2m)")
	preset := fs.String("preset", "", "start from a built-in preset: "+presetNames())
	exp := expiryFlags(fs)
	return func(c *Call) error {
		expires, err := exp.until(time.Now())
		if err != nil {
			return err
		}
		return withAPI(c, func(av api.API) error {
			nv, err := av.CreateVault(c.Ctx, api.VaultSpec{Name: c.Args[0], Services: services, Preset: *preset,
				ApprovalTimeout: *timeout, Expires: expires})
			if err != nil {
				return err
			}
			return printNewVault(c, nv)
		})
	}
}

// printNewVault shows a vault just made, with its token, once.
func printNewVault(c *Call, nv api.NewVault) error {
	out := c.Out()
	if c.JSON {
		return printJSON(out, nv)
	}
	fmt.Fprintf(out, "Created vault %q (id %s).\n\n  URL:   %s\n  Token: %s\n\n", nv.Name, nv.ID, nv.URL, nv.Token)
	for _, w := range nv.Warnings {
		if w == api.NoToolsYet {
			w += fmt.Sprintf(" (agentvault vault services %q add SERVICE)", nv.Name)
		}
		fmt.Fprintf(out, "Note: %s.\n\n", w)
	}
	fmt.Fprintln(out, "The token is shown only now. To add this vault to Claude Code:")
	fmt.Fprintf(out, "\n  claude mcp add --transport http %s %s --header \"Authorization: Bearer %s\"\n", clientsetup.EntryName(nv.Name), nv.URL, nv.Token)
	return nil
}

func vaultList(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			list, err := av.Vaults(c.Ctx)
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), list)
			}
			if len(list) == 0 {
				fmt.Fprintln(c.Out(), "No vaults. Create one with `agentvault vault create NAME --service SERVICE`.")
				return nil
			}
			tw := tabwriter.NewWriter(c.Out(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSERVICES\tAGENTS\tURL")
			for _, v := range list {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\n", v.ID, v.Name, strings.Join(v.Services, ","), v.Sessions, v.URL)
			}
			return tw.Flush()
		})
	}
}

func vaultShow(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			d, err := av.Vault(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			out := c.Out()
			if c.JSON {
				return printJSON(out, d)
			}
			fmt.Fprintf(out, "Vault %q (id %s)\nURL: %s\nServices: %s\n%s\n", d.Name, d.ID, d.URL, strings.Join(d.Services, ", "), d.ExpiryText(time.Now()))
			for _, l := range d.RateLimits {
				fmt.Fprintf(out, "Rate limit: %s on %s\n", l, l.Pattern)
			}
			for _, g := range d.Guards {
				tools := ""
				if g.Tools != "" {
					tools = " (tools " + g.Tools + ")"
				}
				fmt.Fprintf(out, "Guard: %s only %s%s\n", g.Kind, strings.Join(g.Allow, ", "), tools)
			}
			printFlow(out, d)
			if d.Warning != "" {
				fmt.Fprintf(out, "Warning: %s\n", d.Warning)
			}
			for _, p := range d.Unmatched {
				fmt.Fprintf(out, "Rule for %s matches no tool (remove: agentvault vault policy %q '%s' off)\n", p, d.Name, p)
			}
			fmt.Fprintln(out)
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "TOOL\tSERVICE\tDECISION\tRULE")
			for _, t := range d.Tools {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Service, t.Decision, t.Rule)
			}
			return tw.Flush()
		})
	}
}

func vaultServices(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		op, names := c.Args[1], c.Args[2:]
		if op != "add" && op != "remove" {
			return c.Usage("%q: want add or remove", op)
		}
		return withAPI(c, func(av api.API) error {
			d, err := av.Vault(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			services := slices.Clone(d.Services)
			for _, name := range names {
				has := slices.Contains(services, name)
				switch {
				case op == "add" && has:
					return fmt.Errorf("vault %s already offers %s", d.Name, name)
				case op == "remove" && !has:
					return fmt.Errorf("vault %s does not offer %s (it offers: %s)", d.Name, name, orNone(d.Services))
				case op == "add":
					services = append(services, name)
				default:
					services = slices.DeleteFunc(services, func(s string) bool { return s == name })
				}
			}
			if err := av.SetVaultServices(c.Ctx, d.ID, services); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Vault %s offers the tools of: %s\n", d.Name, orNone(services))
			return nil
		})
	}
}

// orNone lists names, or says there are none.
func orNone(names []string) string {
	if len(names) == 0 {
		return "no service"
	}
	return strings.Join(names, ", ")
}

func vaultPolicy(fs *flag.FlagSet) func(c *Call) error {
	anyway := fs.Bool("anyway", false, "keep a pattern that matches none of the vault's tools yet")
	return func(c *Call) error {
		r := api.RuleSpec{Pattern: c.Args[1], Anyway: *anyway}
		if c.Args[2] != "off" {
			d, err := policy.ParseDecision(c.Args[2])
			if err != nil {
				return c.Usage("%v (or off)", err)
			}
			r.Decision = d
		}
		return withAPI(c, func(av api.API) error {
			warning, err := av.SetRule(c.Ctx, c.Args[0], r)
			if err != nil {
				return err
			}
			if warning != "" {
				fmt.Fprintf(c.Err(), "Warning: %s\n", warning)
			}
			if r.Decision == "" {
				fmt.Fprintf(c.Out(), "Vault %s: rule for %s removed.\n", c.Args[0], r.Pattern)
			} else {
				fmt.Fprintf(c.Out(), "Vault %s: %s → %s\n", c.Args[0], r.Pattern, r.Decision)
			}
			return nil
		})
	}
}

func vaultGuard(fs *flag.FlagSet) func(c *Call) error {
	tools := fs.String("tools", "", "only for tools matching this pattern (default: every tool naming that kind)")
	return func(c *Call) error {
		g := policy.Guard{Kind: policy.Kind(c.Args[1]), Tools: *tools, Allow: c.Args[2:]}
		if len(g.Allow) == 1 && g.Allow[0] == "off" {
			g.Allow = nil
		}
		return withAPI(c, func(av api.API) error {
			if err := av.SetGuard(c.Ctx, c.Args[0], g); err != nil {
				return err
			}
			if g.Allow == nil {
				fmt.Fprintf(c.Out(), "Vault %s: %s guard removed.\n", c.Args[0], g.Kind)
			} else {
				fmt.Fprintf(c.Out(), "Vault %s: calls may only touch %s %s.\n", c.Args[0], g.Kind, strings.Join(g.Allow, ", "))
			}
			return nil
		})
	}
}

func vaultPreset(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			if err := av.ApplyPreset(c.Ctx, c.Args[0], c.Args[1]); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Vault %s now follows the %s preset (see agentvault vault show %s).\n", c.Args[0], c.Args[1], c.Args[0])
			return nil
		})
	}
}

func vaultLimit(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			if err := av.SetRateLimit(c.Ctx, c.Args[0], c.Args[1], c.Args[2]); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Vault %s: %s limited to %s\n", c.Args[0], c.Args[1], c.Args[2])
			return nil
		})
	}
}

func vaultTimeout(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		d, err := time.ParseDuration(c.Args[1])
		if err != nil {
			return c.Usage("duration %q: want e.g. 90s or 5m", c.Args[1])
		}
		return withAPI(c, func(av api.API) error {
			if err := av.SetApprovalTimeout(c.Ctx, c.Args[0], d); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Vault %s: calls wait %s for approval.\n", c.Args[0], d)
			return nil
		})
	}
}

func vaultGrantLimit(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		d, err := time.ParseDuration(c.Args[1])
		if err != nil {
			return c.Usage("duration %q: want e.g. 30m or 2h", c.Args[1])
		}
		return withAPI(c, func(av api.API) error {
			if err := av.SetGrantLimit(c.Ctx, c.Args[0], d); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Vault %s: \"approve for this session\" lasts at most %s, and ends with the session.\n", c.Args[0], d)
			return nil
		})
	}
}

func vaultRotate(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			tok, err := av.RotateToken(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), map[string]string{"token": tok})
			}
			fmt.Fprintf(c.Out(), "New token (shown only now; the old one no longer works):\n\n  %s\n", tok)
			return nil
		})
	}
}

func vaultRenew(fs *flag.FlagSet) func(c *Call) error {
	exp := expiryFlags(fs)
	return func(c *Call) error {
		expires, err := exp.until(time.Now())
		if err != nil {
			return err
		}
		if expires.IsZero() && !*exp.never {
			return c.Usage("give --expires, --until or --never")
		}
		return withAPI(c, func(av api.API) error {
			if err := av.SetExpiry(c.Ctx, c.Args[0], expires); err != nil {
				return err
			}
			if expires.IsZero() {
				fmt.Fprintf(c.Out(), "Vault %s no longer expires.\n", c.Args[0])
			} else {
				fmt.Fprintf(c.Out(), "Vault %s works until %s.\n", c.Args[0], expires.Local().Format(time.RFC1123))
			}
			return nil
		})
	}
}

func vaultDelete(fs *flag.FlagSet) func(c *Call) error {
	force := fs.Bool("force", false, "delete even while agents are connected")
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			d, err := av.Vault(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			if n := d.Sessions; n > 0 && !*force {
				agents := api.Plural(n, "connected agent")
				if !c.Interactive() {
					return fmt.Errorf("vault %s has %s, which would lose their tools: give --force to delete it anyway", d.Name, agents)
				}
				if !c.Confirm(fmt.Sprintf("Vault %s has %s, which will lose their tools. Delete it?", d.Name, agents)) {
					fmt.Fprintln(c.Out(), "Not deleted.")
					return nil
				}
			}
			if err := av.DeleteVault(c.Ctx, d.ID); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Deleted vault %s. Its audit records remain.\n", c.Args[0])
			return nil
		})
	}
}

func vaultExport(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			t, err := av.ExportVault(c.Ctx, c.Args[0])
			if err != nil {
				return err
			}
			return printJSON(c.Out(), t)
		})
	}
}

func vaultImport(fs *flag.FlagSet) func(c *Call) error {
	name := fs.String("name", "", "name of the new vault (default: the template's)")
	return func(c *Call) error {
		r := c.In()
		if file := c.Args[0]; file != "-" {
			f, err := os.Open(file)
			if err != nil {
				return err
			}
			defer f.Close()
			r = f
		}
		raw, err := io.ReadAll(io.LimitReader(r, policy.MaxTemplate+1))
		if err != nil {
			return err
		}
		t, err := policy.DecodeTemplate(raw)
		if err != nil {
			return err
		}
		return withAPI(c, func(av api.API) error {
			nv, err := av.ImportVault(c.Ctx, t, *name)
			if err != nil {
				return err
			}
			return printNewVault(c, nv)
		})
	}
}

// expiry holds the flags that set when a vault stops working.
type expiry struct {
	after time.Duration
	at    *string
	never *bool
}

func expiryFlags(fs *flag.FlagSet) *expiry {
	e := &expiry{at: fs.String("until", "", "the vault stops working at this time (RFC 3339)")}
	fs.DurationVar(&e.after, "expires", 0, "the vault stops working after this long (e.g. 2h)")
	e.never = fs.Bool("never", false, "the vault never expires")
	return e
}

// until resolves the flags to a time; zero means never.
func (e *expiry) until(now time.Time) (time.Time, error) {
	set := 0
	for _, b := range []bool{e.after != 0, *e.at != "", *e.never} {
		if b {
			set++
		}
	}
	switch {
	case set > 1:
		return time.Time{}, usagef("give one of --expires, --until and --never")
	case e.after < 0:
		return time.Time{}, usagef("--expires must be positive")
	case e.after > 0:
		return now.Add(e.after), nil
	case *e.at != "":
		t, err := time.Parse(time.RFC3339, *e.at)
		if err != nil {
			return time.Time{}, usagef("--until %q: want a time like 2026-12-01T18:00:00Z", *e.at)
		}
		if !t.After(now) {
			return time.Time{}, usagef("--until is in the past")
		}
		return t, nil
	}
	return time.Time{}, nil
}

// presetNames lists the built-in presets for usage lines.
func presetNames() string {
	var names []string
	for _, p := range policy.Presets {
		names = append(names, p.Name)
	}
	return strings.Join(names, ", ")
}

// guardKinds lists the guardable kinds with examples, for usage lines.
func guardKinds() string {
	var parts []string
	for _, k := range policy.Kinds {
		parts = append(parts, fmt.Sprintf("%s (%s)", k.Kind, k.Example))
	}
	return strings.Join(parts, "; ")
}
