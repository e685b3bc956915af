package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/services"
)

func cmdServiceConnect(args []string, stdin io.Reader, out io.Writer) error {
	c := newCommand("service connect", true)
	var opts api.SignIn
	var name string
	var tokenStdin, secretStdin bool
	var scopes stringList
	c.fs.StringVar(&name, "name", "", "service name (default: the kind); it prefixes the tools")
	c.fs.BoolVar(&tokenStdin, "token-stdin", false, "read a token (GitHub or Slack token, Jira API token) from standard input instead of signing in")
	c.fs.StringVar(&opts.ClientID, "client-id", "", "OAuth client ID of your own app (GitHub App / OAuth App, Google desktop client, Slack app, Atlassian 3LO app)")
	c.fs.BoolVar(&secretStdin, "client-secret-stdin", false, "read the OAuth client secret from standard input (Atlassian; Google desktop clients)")
	c.fs.StringVar(&opts.APIURL, "api-url", "", "API root (GitHub Enterprise; default: the public service)")
	c.fs.StringVar(&opts.Site, "site", "", "Jira site, e.g. https://acme.atlassian.net")
	c.fs.StringVar(&opts.Email, "email", "", "Jira account email (with --token-stdin: an Atlassian API token)")
	c.fs.BoolVar(&opts.Auth0, "auth0", false, "use Auth0 Token Vault (after `agentvault auth0 login`) instead of a local sign-in; links the account to Auth0 in the browser if needed")
	c.fs.StringVar(&opts.Connection, "connection", "", "Auth0 connection name (with --auth0; default: github, google-oauth2, sign-in-with-slack)")
	c.fs.Var(&scopes, "scope", "scope to ask for (repeatable; default: enough for every tool)")
	pos, err := c.parse(args, 1, "github|google|slack|jira [--token-stdin | --client-id ID | --auth0] [--name NAME] [--scope S]… [--site URL --email E] [--api-url URL] [--json]")
	if err != nil {
		return err
	}
	kind := pos[0]
	title, ok := kindTitle(kind)
	if !ok {
		return usageError{fmt.Sprintf("unknown service %q (want github, google, slack or jira)", kind)}
	}
	if !tokenStdin && !opts.Auth0 && opts.ClientID == "" {
		return usageError{"give --client-id of your own OAuth app, --token-stdin, or --auth0 (see README: Connecting services)"}
	}
	lines := bufio.NewReader(stdin)
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
	opts.Open = func(url string) error {
		if opts.Auth0 {
			fmt.Fprintf(out, "Link your %s account to Auth0 in your browser:\n\n  %s\n\n", title, url)
		} else {
			fmt.Fprintf(out, "Sign in to %s in your browser:\n\n  %s\n\n", title, url)
		}
		openBrowser(url)
		return nil
	}
	opts.ShowCode = func(code, uri string) {
		fmt.Fprintf(out, "Open %s and enter the code:\n\n  %s\n\nWaiting for GitHub…\n", uri, code)
		openBrowser(uri)
	}
	av, done, err := c.openAPI()
	if err != nil {
		return err
	}
	defer done()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	opts.Name = name
	info, err := av.SignIn(ctx, kind, opts)
	if err != nil {
		return err
	}
	if c.jsonOut() {
		return printJSON(out, info)
	}
	fmt.Fprintf(out, "Connected %s as service %s. Its tools appear as %s_<tool>; add it to a vault with `agentvault vault create NAME --service %s`.\n",
		title, info.Name, info.Name, info.Name)
	for _, line := range info.Grants {
		fmt.Fprintln(out, "  "+line)
	}
	return nil
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
