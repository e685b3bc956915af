package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strings"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/secrets"
	"github.com/agentvault/agentvault/internal/services"
)

func cmdAuth0(args []string, stdin io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return usageError{"usage: agentvault auth0 setup|login|status|accounts|unlink|logout"}
	}
	switch args[0] {
	case "setup":
		c := newCommand("auth0 setup", false)
		domain := c.fs.String("domain", "", "your tenant, e.g. acme.eu.auth0.com")
		clientID := c.fs.String("client-id", "", "the Regular Web Application's client ID")
		if _, err := c.parse(args[1:], 0, "--domain DOMAIN --client-id ID   (the client secret is read from standard input)"); err != nil {
			return err
		}
		fmt.Fprint(out, "Client secret (input is read from standard input): ")
		secret, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && secret == "" {
			return fmt.Errorf("reading the client secret: %w", err)
		}
		fmt.Fprintln(out)
		av, done, err := c.openAPI()
		if err != nil {
			return err
		}
		defer done()
		if err := av.Auth0Setup(context.Background(), *domain, *clientID, strings.TrimSpace(secret)); err != nil {
			return err
		}
		fmt.Fprintf(out, "Auth0 tenant %s set up; the client secret is in the keychain.\nNext: agentvault auth0 login\n", *domain)
		return nil
	case "login":
		c := newCommand("auth0 login", false)
		_, av, done, err := c.open(args[1:], 0, "")
		if err != nil {
			return err
		}
		defer done()
		st, sec, err := auth0Tenant(c, av)
		if err != nil {
			return err
		}
		client, err := services.Auth0Client(st, sec)
		if err != nil {
			return err
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
		defer cancel()
		sess, err := client.Login(ctx, auth0.CallbackPorts, func(url string) error {
			fmt.Fprintf(out, "Sign in to Auth0 in your browser:\n\n  %s\n\n", url)
			openBrowser(url)
			return nil
		})
		if err != nil {
			return err
		}
		if err := av.Auth0SaveSession(context.Background(), sess.Subject, sess.RefreshToken); err != nil {
			return err
		}
		fmt.Fprintf(out, "Signed in as %s.\n", sess.Subject)
		return nil
	case "status":
		c := newCommand("auth0 status", true)
		_, av, done, err := c.open(args[1:], 0, "[--json]")
		if err != nil {
			return err
		}
		defer done()
		st, err := av.Auth0Status(context.Background())
		if err != nil {
			return err
		}
		if c.jsonOut() {
			return printJSON(out, st)
		}
		switch {
		case !st.Configured:
			fmt.Fprintln(out, "Auth0 is not set up (agentvault auth0 setup --domain … --client-id …).")
		case !st.LoggedIn:
			fmt.Fprintf(out, "Auth0 tenant %s (client %s); not signed in (agentvault auth0 login).\n", st.Domain, st.ClientID)
		default:
			phone := "off (the tenant offers no CIBA, or the server is not running)"
			if st.PhoneApprovals {
				phone = "on"
			}
			fmt.Fprintf(out, "Auth0 tenant %s (client %s); signed in as %s; phone approvals %s.\n", st.Domain, st.ClientID, st.Subject, phone)
		}
		return nil
	case "accounts":
		c := newCommand("auth0 accounts", true)
		return withMyAccount(c, args[1:], 0, "[--json]", func(ctx context.Context, client *auth0.Client, refreshToken string, _ []string) error {
			accts, err := client.ConnectedAccounts(ctx, refreshToken)
			if err != nil {
				return err
			}
			if c.jsonOut() {
				if accts == nil {
					accts = []auth0.ConnectedAccount{}
				}
				return printJSON(out, accts)
			}
			if len(accts) == 0 {
				fmt.Fprintln(out, "No provider account is linked to Auth0 yet (agentvault service connect KIND --auth0 links one).")
				return nil
			}
			for _, a := range accts {
				fmt.Fprintf(out, "%s  %s", a.ID, a.Connection)
				if len(a.Scopes) > 0 {
					fmt.Fprintf(out, "  scopes: %s", strings.Join(a.Scopes, " "))
				}
				fmt.Fprintln(out)
			}
			return nil
		})
	case "unlink":
		c := newCommand("auth0 unlink", false)
		return withMyAccount(c, args[1:], 1, "ACCOUNT-ID   (from `agentvault auth0 accounts`)", func(ctx context.Context, client *auth0.Client, refreshToken string, pos []string) error {
			if err := client.Disconnect(ctx, refreshToken, pos[0]); err != nil {
				return err
			}
			fmt.Fprintf(out, "Unlinked %s: Token Vault no longer hands out its tokens.\n", pos[0])
			return nil
		})
	case "logout":
		c := newCommand("auth0 logout", false)
		_, av, done, err := c.open(args[1:], 0, "")
		if err != nil {
			return err
		}
		defer done()
		if err := av.Auth0Logout(context.Background()); err != nil {
			return err
		}
		fmt.Fprintln(out, "Signed out of Auth0; phone approvals are off.")
		return nil
	}
	return usageError{fmt.Sprintf("unknown auth0 command %q", args[0])}
}

// auth0Tenant is the Auth0 setup and the keychain this process shares with
// the core: what the commands that talk to Auth0 from here (login, linking
// accounts) need.
func auth0Tenant(c *command, av api.API) (api.Auth0Status, secrets.Store, error) {
	st, err := av.Auth0Status(context.Background())
	if err != nil {
		return st, nil, err
	}
	dir, err := c.dir()
	if err != nil {
		return st, nil, err
	}
	return st, secretStore(dir), nil
}

// withMyAccount runs f with the signed-in user's Auth0 client, built in this
// process, and the refresh token from the keychain it shares with the core:
// what managing linked accounts needs.
func withMyAccount(c *command, args []string, wantArgs int, usage string,
	f func(ctx context.Context, client *auth0.Client, refreshToken string, pos []string) error) error {
	pos, av, done, err := c.open(args, wantArgs, usage)
	if err != nil {
		return err
	}
	defer done()
	st, sec, err := auth0Tenant(c, av)
	if err != nil {
		return err
	}
	client, refreshToken, err := services.Auth0User(st, sec)
	if err != nil {
		return err
	}
	rt, err := refreshToken()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return f(ctx, client, rt, pos)
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
