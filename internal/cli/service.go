package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os/exec"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/services"
)

func serviceCommands() []Command {
	return []Command{
		{Name: "service connect", NArgs: 1, JSON: true, Summary: "connect GitHub, Google, Slack or Jira (a pasted token, your own OAuth app, or Auth0 Token Vault)",
			Args: "github|google|slack|jira [--token-stdin | --client-id ID [--client-secret-stdin] | --auth0] [--name NAME] [--scope S]… [--site URL --email E] [--api-url URL]",
			Run:  serviceConnect},
		{Name: "service add-mcp", NArgs: 1, JSON: true, Summary: "add an MCP server started as a command or reached by URL; its secrets go to the keychain",
			Args: `NAME --command "CMD ARGS…" [--env K=V]… [--secret-env K=V]… [--pass-env NAME]… [--env-stdin] | --url URL [--header "K: V"]… [--header-stdin]`,
			Run:  serviceAdd},
		{Name: "service list", JSON: true, Summary: "the configured services and how they are", Run: serviceList},
		{Name: "service review", NArgs: 1, JSON: true, Args: "NAME [--accept]", Summary: "how a server's tools differ from the ones you accepted (hidden until accepted)", Run: serviceReview},
		{Name: "service disconnect", NArgs: 1, Args: "NAME", Summary: "forget a service and its credentials (as remove)", Run: serviceRemove},
		{Name: "service remove", NArgs: 1, Args: "NAME", Summary: "forget a service and its credentials; no vault offers its tools any more", Run: serviceRemove},
	}
}

func serviceConnect(fs *flag.FlagSet) func(c *Call) error {
	var opts api.SignIn
	var tokenStdin, secretStdin bool
	var scopes stringList
	fs.StringVar(&opts.Name, "name", "", "service name (default: the kind); it prefixes the tools")
	fs.BoolVar(&tokenStdin, "token-stdin", false, "read a token (GitHub or Slack token, Jira API token) from standard input instead of signing in")
	fs.StringVar(&opts.ClientID, "client-id", "", "OAuth client ID of your own app (GitHub App / OAuth App, Google desktop client, Slack app, Atlassian 3LO app)")
	fs.BoolVar(&secretStdin, "client-secret-stdin", false, "read the OAuth client secret from standard input (Atlassian; Google desktop clients)")
	fs.StringVar(&opts.APIURL, "api-url", "", "API root (GitHub Enterprise; default: the public service)")
	fs.StringVar(&opts.Site, "site", "", "Jira site, e.g. https://acme.atlassian.net")
	fs.StringVar(&opts.Email, "email", "", "Jira account email (with --token-stdin: an Atlassian API token)")
	fs.BoolVar(&opts.Auth0, "auth0", false, "use Auth0 Token Vault (after `agentvault auth0 login`) instead of a local sign-in; links the account to Auth0 in the browser if needed")
	fs.StringVar(&opts.Connection, "connection", "", "Auth0 connection name (with --auth0; default: github, google-oauth2, sign-in-with-slack)")
	fs.Var(&scopes, "scope", "scope to ask for (repeatable; default: enough for every tool)")
	return func(c *Call) error {
		kind := c.Args[0]
		title, ok := kindTitle(kind)
		if !ok {
			return c.Usage("unknown service %q (want github, google, slack or jira)", kind)
		}
		if !tokenStdin && !opts.Auth0 && opts.ClientID == "" {
			return c.Usage("give --client-id of your own OAuth app, --token-stdin, or --auth0 (see README: Connecting services)")
		}
		lines := bufio.NewReader(c.In())
		var err error
		if secretStdin {
			if opts.ClientSecret, err = readSecretLine(lines, "client secret"); err != nil {
				return err
			}
		}
		if tokenStdin {
			if opts.Token, err = readSecretLine(lines, "token"); err != nil {
				return err
			}
		}
		if len(scopes) > 0 {
			opts.Scopes = scopes
		}
		out := c.Out()
		opts.Open = func(url string) error {
			what := "Sign in to %s in your browser:\n\n  %s\n\n"
			if opts.Auth0 {
				what = "Link your %s account to Auth0 in your browser:\n\n  %s\n\n"
			}
			fmt.Fprintf(out, what, title, url)
			openBrowser(url)
			return nil
		}
		opts.ShowCode = func(code, uri string) {
			fmt.Fprintf(out, "Open %s and enter the code:\n\n  %s\n\nWaiting for GitHub…\n", uri, code)
			openBrowser(uri)
		}
		av, done, err := c.API()
		if err != nil {
			return err
		}
		defer done()
		ctx, cancel := context.WithTimeout(c.Ctx, 10*time.Minute)
		defer cancel()
		info, err := av.SignIn(ctx, kind, opts)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(out, info)
		}
		fmt.Fprintf(out, "Connected %s as service %s. Its tools appear as %s_<tool>; add it to a vault with `agentvault vault create NAME --service %s`.\n",
			title, info.Name, info.Name, info.Name)
		for _, line := range info.Grants {
			fmt.Fprintln(out, "  "+line)
		}
		return nil
	}
}

// kindTitle is how a first-party service kind is shown, and whether it is
// one.
func kindTitle(kind string) (string, bool) {
	for _, k := range services.Kinds() {
		if k.Kind == kind {
			return k.Title, true
		}
	}
	return "", false
}

// readSecretLine reads one line holding a secret from standard input.
func readSecretLine(lines *bufio.Reader, what string) (string, error) {
	s, err := lines.ReadString('\n')
	if s = strings.TrimSpace(s); s != "" {
		return s, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = fmt.Errorf("no %s on standard input", what)
	}
	return "", err
}

func serviceAdd(fs *flag.FlagSet) func(c *Call) error {
	var spec api.ServiceSpec
	var headers, env, secretEnv, passEnv stringList
	fs.StringVar(&spec.Command, "command", "", "command line of a stdio MCP server")
	fs.StringVar(&spec.URL, "url", "", "URL of a streamable HTTP MCP server")
	fs.Var(&headers, "header", `HTTP header "Name: value" (repeatable; kept in the keychain)`)
	fs.Var(&env, "env", `environment variable NAME=value for the command (repeatable; kept in the keychain)`)
	fs.Var(&secretEnv, "secret-env", `like --env, and its value is redacted wherever it would leave AgentVault (--env-stdin keeps it out of argv)`)
	fs.Var(&passEnv, "pass-env", `give the command this variable of AgentVault's environment (repeatable)`)
	headerStdin := fs.Bool("header-stdin", false, `read headers from standard input, one "Name: value" a line`)
	envStdin := fs.Bool("env-stdin", false, `read secret environment variables from standard input, one NAME=value a line (as --secret-env)`)
	noCheck := fs.Bool("no-check", false, "save without starting the server to list its tools (for a server that is not up yet)")
	contain := fs.Bool("contain", false, "start the command in a sandbox that hides the session bus, AgentVault's data and your credential files (the default where bubblewrap is installed)")
	noContain := fs.Bool("no-contain", false, "start the command uncontained")
	return func(c *Call) error {
		if *headerStdin && *envStdin {
			return c.Usage("give --header-stdin or --env-stdin, not both")
		}
		switch {
		case *contain && *noContain:
			return c.Usage("give --contain or --no-contain, not both")
		case *contain || *noContain:
			spec.Contain = contain
		}
		if *headerStdin || *envStdin {
			lines, err := readLines(c.In())
			if err != nil {
				return err
			}
			if *headerStdin {
				headers = append(headers, lines...)
			} else {
				secretEnv = append(secretEnv, lines...) // given on stdin: secrets, whatever their names
			}
		}
		spec.Name, spec.Headers, spec.Env, spec.SecretEnv, spec.PassEnv = c.Args[0], headers, env, secretEnv, passEnv
		spec.Check = !*noCheck
		return withAPI(c, func(av api.API) error {
			info, err := addMCP(c, av, spec)
			if err != nil {
				if spec.Check {
					err = fmt.Errorf("%w\n(--no-check adds it without starting it)", err)
				}
				return err
			}
			if c.JSON {
				return printJSON(c.Out(), info)
			}
			fmt.Fprintf(c.Out(), "Added service %s (%s). Its tools appear as %s_<tool>", info.Name, describeService(info), info.Name)
			if spec.Check {
				fmt.Fprintf(c.Out(), "; %s", info.Status)
			}
			fmt.Fprintln(c.Out(), ".")
			return nil
		})
	}
}

// addMCP adds an MCP server, its command's program found in the user's
// PATH here, saying what the check does while it runs.
func addMCP(c *Call, av api.API, spec api.ServiceSpec) (api.ServiceInfo, error) {
	if spec.Command != "" {
		command, err := services.AbsoluteCommand(spec.Command)
		if err != nil {
			return api.ServiceInfo{}, err
		}
		spec.Command = command
	}
	if spec.Check {
		fmt.Fprintf(c.Err(), "Starting %s to list its tools…\n", spec.Name)
	}
	return av.AddService(c.Ctx, spec)
}

func serviceList(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		av, done, err := c.API()
		if err != nil {
			return err
		}
		defer done()
		list, err := av.Services(c.Ctx)
		if err != nil {
			return err
		}
		if c.JSON {
			return printJSON(c.Out(), list)
		}
		if len(list) == 0 {
			fmt.Fprintln(c.Out(), "No services. Add one with `agentvault service add-mcp NAME --command \"…\"`.")
			return nil
		}
		tw := tabwriter.NewWriter(c.Out(), 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKIND\tTARGET\tSTATUS")
		for _, s := range list {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Kind, describeService(s), s.Status)
		}
		return tw.Flush()
	}
}

func serviceReview(fs *flag.FlagSet) func(c *Call) error {
	accept := fs.Bool("accept", false, "accept the tools as the server offers them now")
	return func(c *Call) error {
		name := c.Args[0]
		av, done, err := c.API()
		if err != nil {
			return err
		}
		defer done()
		changes, err := av.ReviewService(c.Ctx, name)
		if err != nil {
			return err
		}
		if *accept {
			if err := av.AcceptService(c.Ctx, name); err != nil {
				return err
			}
		}
		out := c.Out()
		if c.JSON {
			return printJSON(out, changes)
		}
		if len(changes) == 0 {
			fmt.Fprintf(out, "The tools of %s are as you accepted them.\n", name)
			return nil
		}
		for _, ch := range changes {
			fmt.Fprintf(out, "%s tool %s_%s\n", ch.Kind, name, ch.Tool)
			if len(ch.Accepted) > 0 {
				fmt.Fprintf(out, "  accepted: %s\n", ch.Accepted)
			}
			if len(ch.Offered) > 0 {
				fmt.Fprintf(out, "  offered:  %s\n", ch.Offered)
			}
		}
		if *accept {
			fmt.Fprintf(out, "Accepted: the tools of %s are offered to vaults as they are now.\n", name)
		} else {
			fmt.Fprintf(out, "These tools are hidden from every vault. Accept them with: agentvault service review %s --accept\n", name)
		}
		return nil
	}
}

func serviceRemove(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		av, done, err := c.API()
		if err != nil {
			return err
		}
		defer done()
		if err := av.RemoveService(c.Ctx, c.Args[0]); err != nil {
			return err
		}
		fmt.Fprintf(c.Out(), "Removed service %s and its credentials; no vault offers its tools any more.\n", c.Args[0])
		return nil
	}
}

func describeService(s api.ServiceInfo) string {
	if s.Command != "" {
		var notes []string
		if len(s.PassEnv) > 0 {
			notes = append(notes, "passes "+strings.Join(s.PassEnv, ", "))
		}
		if !s.Contained {
			notes = append(notes, "uncontained")
		}
		if len(notes) == 0 {
			return s.Command
		}
		return s.Command + " (" + strings.Join(notes, "; ") + ")"
	}
	if len(s.Headers) > 0 {
		return s.URL + " (headers: " + strings.Join(s.Headers, ", ") + ")"
	}
	return s.URL
}

// openBrowser tries to show url in the user's browser; the URL is printed
// as well, so failing here is fine.
func openBrowser(url string) {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", url)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", url)
	default:
		cmd = exec.Command("xdg-open", url)
	}
	if cmd.Start() == nil {
		go cmd.Wait()
	}
}
