package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/atomicfile"
	"github.com/agentvault/agentvault/internal/audit"
	"github.com/agentvault/agentvault/internal/control"
	"github.com/agentvault/agentvault/internal/core"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/store"
	"github.com/agentvault/agentvault/policy"
)

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// command holds the flags every subcommand shares.
type command struct {
	fs   *flag.FlagSet
	data *string
	json *bool
}

func newCommand(name string, withJSON bool) *command {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := &command{fs: fs, data: fs.String("data", "", "data directory")}
	if withJSON {
		c.json = fs.Bool("json", false, "print JSON")
	}
	return c
}

// parse accepts flags before, between and after positional arguments, and
// checks the number of positional arguments.
// A negative wantArgs means at least -wantArgs.
func (c *command) parse(args []string, wantArgs int, names string) ([]string, error) {
	var pos []string
	for {
		if err := c.fs.Parse(args); err != nil {
			return nil, usageError{fmt.Sprintf("%s: %v", c.fs.Name(), err)}
		}
		args = c.fs.Args()
		if len(args) == 0 {
			break
		}
		pos, args = append(pos, args[0]), args[1:]
	}
	if len(pos) != wantArgs && (wantArgs >= 0 || len(pos) < -wantArgs) {
		return nil, usageError{fmt.Sprintf("usage: agentvault %s %s", c.fs.Name(), names)}
	}
	return pos, nil
}

// dir is the data directory the command works on.
func (c *command) dir() (string, error) { return dataDir(*c.data) }

func (c *command) jsonOut() bool { return c.json != nil && *c.json }

// dataDir resolves --data, then $AGENTVAULT_DATA, then the user config folder.
func dataDir(flagValue string) (string, error) {
	if flagValue != "" {
		return filepath.Abs(flagValue)
	}
	if env := os.Getenv("AGENTVAULT_DATA"); env != "" {
		return filepath.Abs(env)
	}
	cfg, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no data directory: %w (use --data DIR)", err)
	}
	return filepath.Join(cfg, "agentvault"), nil
}

// open parses args (wantArgs positional arguments) and reaches the core:
// the running server, or the data directory itself. done releases it.
func (c *command) open(args []string, wantArgs int, names string) (pos []string, av api.API, done func(), err error) {
	if pos, err = c.parse(args, wantArgs, names); err != nil {
		return nil, nil, nil, err
	}
	av, done, err = c.openAPI()
	return pos, av, done, err
}

// openAPI reaches the running server through its control socket, or opens
// the data directory itself when no server runs.
func (c *command) openAPI() (api.API, func(), error) {
	dir, err := c.dir()
	if err != nil {
		return nil, nil, err
	}
	cl, err := control.Dial(control.SocketPath(dir), secretStore(dir))
	if err == nil {
		return cl, func() {}, nil
	}
	if !errors.Is(err, control.ErrNotRunning) {
		return nil, nil, err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	co, err := core.Open(core.Config{DataDir: dir, LockTimeout: 2 * time.Second, Logger: logger, Secrets: secretStore(dir)})
	if errors.Is(err, store.ErrLocked) {
		return nil, nil, alreadyRunning(dir)
	}
	if err != nil {
		return nil, nil, err
	}
	return co, func() { co.Close() }, nil
}

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdService(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault service connect|add-mcp|list|review|disconnect|remove …"}
	}
	switch args[0] {
	case "connect":
		return cmdServiceConnect(args[1:], stdin, out)
	case "add-mcp":
		c := newCommand("service add-mcp", true)
		var spec api.ServiceSpec
		var headers, env, secretEnv, passEnv stringList
		c.fs.StringVar(&spec.Command, "command", "", "command line of a stdio MCP server")
		c.fs.StringVar(&spec.URL, "url", "", "URL of a streamable HTTP MCP server")
		c.fs.Var(&headers, "header", `HTTP header "Name: value" (repeatable; kept in the keychain)`)
		c.fs.Var(&env, "env", `environment variable NAME=value for the command (repeatable; kept in the keychain)`)
		c.fs.Var(&secretEnv, "secret-env", `like --env, and its value is redacted wherever it would leave AgentVault (--env-stdin keeps it out of argv)`)
		c.fs.Var(&passEnv, "pass-env", `give the command this variable of AgentVault's environment (repeatable)`)
		headerStdin := c.fs.Bool("header-stdin", false, `read headers from standard input, one "Name: value" a line`)
		envStdin := c.fs.Bool("env-stdin", false, `read secret environment variables from standard input, one NAME=value a line (as --secret-env)`)
		pos, err := c.parse(args[1:], 1, `NAME --command "CMD ARGS…" [--env NAME=VALUE]… [--secret-env NAME=VALUE]… [--pass-env NAME]… [--env-stdin]
                 | --url URL [--header "K: V"]… [--header-stdin]`)
		if err != nil {
			return err
		}
		if *headerStdin && *envStdin {
			return usageError{"give --header-stdin or --env-stdin, not both"}
		}
		if *headerStdin || *envStdin {
			lines, err := readLines(stdin)
			if err != nil {
				return err
			}
			if *headerStdin {
				headers = append(headers, lines...)
			} else {
				secretEnv = append(secretEnv, lines...) // given on stdin: secrets, whatever their names
			}
		}
		spec.Name, spec.Headers, spec.Env, spec.SecretEnv, spec.PassEnv = pos[0], headers, env, secretEnv, passEnv
		av, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		info, err := av.AddService(context.Background(), spec)
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, info)
		}
		fmt.Fprintf(out, "Added service %s (%s). Its tools appear as %s_<tool>.\n", info.Name, describeService(info), info.Name)
		return nil
	case "remove", "disconnect":
		c := newCommand("service "+args[0], false)
		pos, av, done, err := c.open(args[1:], 1, "NAME")
		if err != nil {
			return err
		}
		defer done()
		if err := av.RemoveService(context.Background(), pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "Removed service %s and its credentials; no vault offers its tools any more.\n", pos[0])
		return nil
	case "review":
		c := newCommand("service review", true)
		accept := c.fs.Bool("accept", false, "accept the tools as the server offers them now")
		pos, av, done, err := c.open(args[1:], 1, "NAME [--accept] [--json]")
		if err != nil {
			return err
		}
		defer done()
		ctx := context.Background()
		changes, err := av.ReviewService(ctx, pos[0])
		if err != nil {
			return err
		}
		if *accept {
			if err := av.AcceptService(ctx, pos[0]); err != nil {
				return err
			}
		}
		if c.jsonOut() {
			return printJSON(out, changes)
		}
		if len(changes) == 0 {
			fmt.Fprintf(out, "The tools of %s are as you accepted them.\n", pos[0])
			return nil
		}
		for _, ch := range changes {
			fmt.Fprintf(out, "%s tool %s_%s\n", ch.Kind, pos[0], ch.Tool)
			if len(ch.Accepted) > 0 {
				fmt.Fprintf(out, "  accepted: %s\n", ch.Accepted)
			}
			if len(ch.Offered) > 0 {
				fmt.Fprintf(out, "  offered:  %s\n", ch.Offered)
			}
		}
		if *accept {
			fmt.Fprintf(out, "Accepted: the tools of %s are offered to vaults as they are now.\n", pos[0])
		} else {
			fmt.Fprintf(out, "These tools are hidden from every vault. Accept them with: agentvault service review %s --accept\n", pos[0])
		}
		return nil
	case "list":
		c := newCommand("service list", true)
		_, av, done, err := c.open(args[1:], 0, "[--json]")
		if err != nil {
			return err
		}
		defer done()
		list, err := av.Services(context.Background())
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, list)
		}
		if len(list) == 0 {
			fmt.Fprintln(out, "No services. Add one with `agentvault service add-mcp NAME --command \"…\"`.")
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tTARGET\tSTATUS")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Kind, describeService(s), s.Status)
		}
		return tw.Flush()
	}
	return usageError{fmt.Sprintf("unknown service command %q", args[0])}
}

// readLines reads the non-empty lines of r (secrets given on standard
// input rather than in argv, where other processes can see them).
func readLines(r io.Reader) ([]string, error) {
	raw, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, l := range strings.Split(string(raw), "\n") {
		if l = strings.TrimRight(l, "\r"); strings.TrimSpace(l) != "" {
			out = append(out, l)
		}
	}
	return out, nil
}

func describeService(s api.ServiceInfo) string {
	if s.Command != "" {
		if len(s.PassEnv) > 0 {
			return s.Command + " (passes " + strings.Join(s.PassEnv, ", ") + ")"
		}
		return s.Command
	}
	if len(s.Headers) > 0 {
		return s.URL + " (headers: " + strings.Join(s.Headers, ", ") + ")"
	}
	return s.URL
}

func cmdVault(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault vault create|list|show|policy|guard|preset|limit|timeout|grant-limit|rotate|renew|delete|export|import …"}
	}
	sub, rest := args[0], args[1:]
	var c *command
	var services stringList
	var approvalTimeout time.Duration
	var importName, preset, guardTools string
	var exp *expiry
	var pos []string
	var err error
	switch sub {
	case "create":
		c = newCommand("vault create", true)
		c.fs.Var(&services, "service", "service the vault offers (repeatable)")
		c.fs.DurationVar(&approvalTimeout, "approval-timeout", 0, "how long calls wait for approval (default 2m)")
		exp = expiryFlags(c)
		c.fs.StringVar(&preset, "preset", "", "start from a built-in preset: "+presetNames())
		pos, err = c.parse(rest, 1, "NAME --service NAME… [--preset NAME] [--approval-timeout 2m] [--expires 2h | --until TIME] [--json]")
	case "list":
		c = newCommand("vault list", true)
		pos, err = c.parse(rest, 0, "[--json]")
	case "show":
		c = newCommand("vault show", true)
		pos, err = c.parse(rest, 1, "VAULT [--json]")
	case "policy":
		c = newCommand("vault policy", false)
		pos, err = c.parse(rest, 3, "VAULT TOOL-OR-PATTERN allow|approve|block")
	case "guard":
		c = newCommand("vault guard", false)
		c.fs.StringVar(&guardTools, "tools", "", "only for tools matching this pattern (default: every tool naming that kind)")
		pos, err = c.parse(rest, -3, "VAULT KIND ALLOWED… | VAULT KIND off   [--tools PATTERN]\n  kinds: "+guardKinds())
	case "rotate":
		c = newCommand("vault rotate", true)
		pos, err = c.parse(rest, 1, "VAULT [--json]")
	case "delete":
		c = newCommand("vault delete", false)
		pos, err = c.parse(rest, 1, "VAULT")
	case "timeout":
		c = newCommand("vault timeout", false)
		pos, err = c.parse(rest, 2, "VAULT DURATION   (how long calls wait for approval, 1s-1h, e.g. 5m)")
	case "grant-limit":
		c = newCommand("vault grant-limit", false)
		pos, err = c.parse(rest, 2, "VAULT DURATION   (how long \"approve for this session\" lasts at most, 1m-8h, e.g. 2h)")
	case "preset":
		c = newCommand("vault preset", false)
		pos, err = c.parse(rest, 2, "VAULT PRESET   ("+presetNames()+")")
	case "limit":
		c = newCommand("vault limit", false)
		pos, err = c.parse(rest, 3, "VAULT TOOL-OR-PATTERN|'*' COUNT/UNIT|off   (e.g. 60/min, 500/day)")
	case "renew":
		c = newCommand("vault renew", false)
		exp = expiryFlags(c)
		pos, err = c.parse(rest, 1, "VAULT --expires 2h | --until TIME | --never")
	case "export":
		c = newCommand("vault export", false)
		pos, err = c.parse(rest, 1, "VAULT")
	case "import":
		c = newCommand("vault import", true)
		c.fs.StringVar(&importName, "name", "", "name of the new vault (default: the template's)")
		pos, err = c.parse(rest, 1, "FILE [--name NAME] [--json]")
	default:
		return usageError{fmt.Sprintf("unknown vault command %q", sub)}
	}
	if err != nil {
		return err
	}
	var expires time.Time
	if exp != nil {
		if expires, err = exp.until(time.Now()); err != nil {
			return err
		}
		if sub == "renew" && expires.IsZero() && !*exp.never {
			return usageError{"vault renew needs --expires, --until or --never"}
		}
	}
	var decision policy.Decision
	if sub == "policy" {
		if decision, err = policy.ParseDecision(pos[2]); err != nil {
			return usageError{err.Error()}
		}
	}
	av, done, err := c.openAPI()
	if err != nil {
		return err
	}
	defer done()

	switch sub {
	case "create", "import":
		var nv api.NewVault
		if sub == "create" {
			nv, err = av.CreateVault(context.Background(), api.VaultSpec{Name: pos[0], Services: services, ApprovalTimeout: approvalTimeout, Expires: expires})
		} else {
			nv, err = importVault(av, pos[0], importName)
		}
		if err != nil {
			return err
		}
		if preset != "" {
			if err := av.ApplyPreset(context.Background(), nv.ID, preset); err != nil {
				av.DeleteVault(context.Background(), nv.ID)
				return err
			}
		}
		if c.jsonOut() {
			return printJSON(out, nv)
		}
		fmt.Fprintf(out, "Created vault %q (id %s).\n\n  URL:   %s\n  Token: %s\n\n", nv.Name, nv.ID, nv.URL, nv.Token)
		fmt.Fprintln(out, "The token is shown only now. To add this vault to Claude Code:")
		fmt.Fprintf(out, "\n  claude mcp add --transport http %s %s --header \"Authorization: Bearer %s\"\n", clientName(nv.Name), nv.URL, nv.Token)
		return nil
	case "timeout":
		d, err := time.ParseDuration(pos[1])
		if err != nil {
			return usageError{fmt.Sprintf("duration %q: want e.g. 90s or 5m", pos[1])}
		}
		if err := av.SetApprovalTimeout(context.Background(), pos[0], d); err != nil {
			return err
		}
		fmt.Fprintf(out, "Vault %s: calls wait %s for approval.\n", pos[0], d)
		return nil
	case "grant-limit":
		d, err := time.ParseDuration(pos[1])
		if err != nil {
			return usageError{fmt.Sprintf("duration %q: want e.g. 30m or 2h", pos[1])}
		}
		if err := av.SetGrantLimit(context.Background(), pos[0], d); err != nil {
			return err
		}
		fmt.Fprintf(out, "Vault %s: \"approve for this session\" lasts at most %s, and ends with the session.\n", pos[0], d)
		return nil
	case "preset":
		if err := av.ApplyPreset(context.Background(), pos[0], pos[1]); err != nil {
			return err
		}
		fmt.Fprintf(out, "Vault %s now follows the %s preset (see agentvault vault show %s).\n", pos[0], pos[1], pos[0])
		return nil
	case "limit":
		if err := av.SetRateLimit(context.Background(), pos[0], pos[1], pos[2]); err != nil {
			return err
		}
		fmt.Fprintf(out, "Vault %s: %s limited to %s\n", pos[0], pos[1], pos[2])
		return nil
	case "renew":
		if err := av.SetExpiry(context.Background(), pos[0], expires); err != nil {
			return err
		}
		if expires.IsZero() {
			fmt.Fprintf(out, "Vault %s no longer expires.\n", pos[0])
		} else {
			fmt.Fprintf(out, "Vault %s works until %s.\n", pos[0], expires.Local().Format(time.RFC1123))
		}
		return nil
	case "export":
		t, err := av.ExportVault(context.Background(), pos[0])
		if err != nil {
			return err
		}
		return printJSON(out, t)
	case "list":
		list, err := av.Vaults(context.Background())
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, list)
		}
		if len(list) == 0 {
			fmt.Fprintln(out, "No vaults. Create one with `agentvault vault create NAME --service SERVICE`.")
			return nil
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tNAME\tSERVICES\tURL")
		for _, v := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", v.ID, v.Name, strings.Join(v.Services, ","), v.URL)
		}
		return tw.Flush()
	case "show":
		d, err := av.Vault(context.Background(), pos[0])
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, d)
		}
		fmt.Fprintf(out, "Vault %q (id %s)\nURL: %s\nServices: %s\n%s\n", d.Name, d.ID, d.URL, strings.Join(d.Services, ", "), d.ExpiryText(time.Now()))
		for _, l := range d.RateLimits {
			fmt.Fprintf(out, "Rate limit: %s on %s\n", l, l.Pattern)
		}
		for _, g := range d.Guards {
			fmt.Fprintf(out, "Guard: %s only %s%s\n", g.Kind, strings.Join(g.Allow, ", "), map[bool]string{true: " (tools " + g.Tools + ")"}[g.Tools != ""])
		}
		if d.Warning != "" {
			fmt.Fprintf(out, "Warning: %s\n", d.Warning)
		}
		fmt.Fprintln(out)
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "TOOL\tSERVICE\tDECISION\tRULE")
		for _, t := range d.Tools {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", t.Name, t.Service, t.Decision, t.Rule)
		}
		return tw.Flush()
	case "guard":
		g := policy.Guard{Kind: policy.Kind(pos[1]), Tools: guardTools, Allow: pos[2:]}
		if len(g.Allow) == 1 && g.Allow[0] == "off" {
			g.Allow = nil
		}
		if err := av.SetGuard(context.Background(), pos[0], g); err != nil {
			return err
		}
		if g.Allow == nil {
			fmt.Fprintf(out, "Vault %s: %s guard removed.\n", pos[0], g.Kind)
		} else {
			fmt.Fprintf(out, "Vault %s: calls may only touch %s %s.\n", pos[0], g.Kind, strings.Join(g.Allow, ", "))
		}
		return nil
	case "policy":
		if err := av.SetPolicy(context.Background(), pos[0], pos[1], decision); err != nil {
			return err
		}
		fmt.Fprintf(out, "Vault %s: %s → %s\n", pos[0], pos[1], decision)
		return nil
	case "rotate":
		tok, err := av.RotateToken(context.Background(), pos[0])
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, map[string]string{"token": tok})
		}
		fmt.Fprintf(out, "New token (shown only now; the old one no longer works):\n\n  %s\n", tok)
		return nil
	default: // delete
		if err := av.DeleteVault(context.Background(), pos[0]); err != nil {
			return err
		}
		fmt.Fprintf(out, "Deleted vault %s. Its audit records remain.\n", pos[0])
		return nil
	}
}

// guardKinds lists the guardable kinds with examples, for usage lines.
func guardKinds() string {
	var parts []string
	for _, k := range policy.Kinds {
		parts = append(parts, fmt.Sprintf("%s (%s)", k.Kind, k.Example))
	}
	return strings.Join(parts, "; ")
}

// clientName turns a vault name into a name MCP clients accept.
func clientName(name string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '.' {
			return '-'
		}
		return r
	}, name)
}

func cmdAudit(args []string, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault audit list|export …"}
	}
	switch args[0] {
	case "list":
		c := newCommand("audit list", true)
		vault := c.fs.String("vault", "", "only this vault")
		limit := c.fs.Int("limit", 50, "newest N records (0: all)")
		if _, err := c.parse(args[1:], 0, "[--vault VAULT] [--limit N] [--json]"); err != nil {
			return err
		}
		if *limit < 0 {
			return usageError{"--limit must be 0 or more"}
		}
		av, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		recs, err := av.AuditList(context.Background(), *vault, *limit)
		if err != nil {
			return err
		}
		if c.jsonOut() {
			if recs == nil {
				recs = []audit.Record{}
			}
			return printJSON(out, recs)
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SEQ\tTIME\tVAULT\tTOOL\tDECISION\tPHASE\tOUTCOME\tCHANNEL\tMS\tERROR")
		for _, r := range recs {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\n", r.Seq, r.Time.Local().Format("2006-01-02 15:04:05"),
				r.Vault, r.Tool, r.Decision, r.Phase, r.Outcome, r.Channel, r.DurationMS, r.Error)
		}
		return tw.Flush()
	case "export":
		c := newCommand("audit export", false)
		format := c.fs.String("format", "", "jsonl or csv")
		outFile := c.fs.String("out", "", "file to write (default: standard output)")
		vault := c.fs.String("vault", "", "only this vault")
		if _, err := c.parse(args[1:], 0, "--format jsonl|csv [--out FILE] [--vault VAULT]"); err != nil {
			return err
		}
		if *format != audit.JSONL && *format != audit.CSV {
			return usageError{"--format must be jsonl or csv"}
		}
		av, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		if *outFile == "" {
			return av.AuditExport(context.Background(), out, *format, *vault)
		}
		return atomicfile.Write(*outFile, 0o600, func(w io.Writer) error { return av.AuditExport(context.Background(), w, *format, *vault) })
	}
	return usageError{fmt.Sprintf("unknown audit command %q", args[0])}
}

// importVault reads a template file ("-": standard input) and creates a vault.
func importVault(av api.API, file, name string) (api.NewVault, error) {
	var r io.Reader = os.Stdin
	if file != "-" {
		f, err := os.Open(file)
		if err != nil {
			return api.NewVault{}, err
		}
		defer f.Close()
		r = f
	}
	raw, err := io.ReadAll(io.LimitReader(r, policy.MaxTemplate+1))
	if err != nil {
		return api.NewVault{}, err
	}
	t, err := policy.DecodeTemplate(raw)
	if err != nil {
		return api.NewVault{}, err
	}
	return av.ImportVault(context.Background(), t, name)
}

// expiry holds the flags that set when a vault stops working.
type expiry struct {
	after time.Duration
	at    *string
	never *bool
}

func expiryFlags(c *command) *expiry {
	e := &expiry{at: c.fs.String("until", "", "the vault stops working at this time (RFC 3339)")}
	c.fs.DurationVar(&e.after, "expires", 0, "the vault stops working after this long (e.g. 2h)")
	e.never = c.fs.Bool("never", false, "the vault never expires")
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
		return time.Time{}, usageError{"give one of --expires, --until and --never"}
	case e.after < 0:
		return time.Time{}, usageError{"--expires must be positive"}
	case e.after > 0:
		return now.Add(e.after), nil
	case *e.at != "":
		t, err := time.Parse(time.RFC3339, *e.at)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("--until %q: want a time like 2026-12-01T18:00:00Z", *e.at)}
		}
		if !t.After(now) {
			return time.Time{}, usageError{"--until is in the past"}
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

// secretStore is where credentials live: the OS keychain, or, when
// $AGENTVAULT_PASSPHRASE is set (machines without a keychain service), a
// file in the data folder encrypted with that passphrase.
func secretStore(dir string) secrets.Store {
	if pass := passphrase(); pass != "" {
		return &secrets.File{Path: filepath.Join(dir, "secrets.enc"), Passphrase: pass}
	}
	return secrets.Keychain{Service: "agentvault"}
}

// passphrase reads $AGENTVAULT_PASSPHRASE once and takes it out of the
// environment, so that no program AgentVault starts (a browser, an
// upstream server) inherits it.
var passphrase = sync.OnceValue(func() string {
	pass := os.Getenv("AGENTVAULT_PASSPHRASE")
	os.Unsetenv("AGENTVAULT_PASSPHRASE")
	return pass
})
