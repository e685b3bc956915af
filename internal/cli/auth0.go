package cli

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/internal/auth0"
	"github.com/agentvault/agentvault/internal/services"
)

func auth0Commands() []Command {
	return []Command{
		{Name: "auth0 setup", Args: "--domain DOMAIN --client-id ID   (the client secret on standard input)", Run: auth0Setup,
			Summary: "record your Auth0 tenant for phone approvals and Token Vault"},
		{Name: "auth0 login", Run: auth0Login, Summary: "sign in to Auth0 in the browser (authorization code + PKCE, loopback redirect)"},
		{Name: "auth0 status", JSON: true, Run: auth0Status, Summary: "the Auth0 setup, sign-in and phone approvals"},
		{Name: "auth0 logout", Run: auth0Logout, Summary: "forget the Auth0 session; phone approvals stop"},
		{Name: "auth0 accounts", JSON: true, Run: auth0Accounts, Summary: "provider accounts linked to Auth0 for Token Vault"},
		{Name: "auth0 unlink", NArgs: 1, Args: "ACCOUNT-ID", Run: auth0Unlink, Summary: "unlink a provider account from Auth0"},
	}
}

func auth0Setup(fs *flag.FlagSet) func(c *Call) error {
	domain := fs.String("domain", "", "your tenant, e.g. acme.eu.auth0.com")
	clientID := fs.String("client-id", "", "the Regular Web Application's client ID")
	return func(c *Call) error {
		out := c.Out()
		fmt.Fprint(out, "Client secret (input is read from standard input): ")
		secret, err := bufio.NewReader(c.In()).ReadString('\n')
		if err != nil && secret == "" {
			return fmt.Errorf("reading the client secret: %w", err)
		}
		fmt.Fprintln(out)
		return withAPI(c, func(av api.API) error {
			if err := av.Auth0Setup(c.Ctx, *domain, *clientID, strings.TrimSpace(secret)); err != nil {
				return err
			}
			fmt.Fprintf(out, "Auth0 tenant %s set up; the client secret is in the keychain.\nNext: agentvault auth0 login\n", *domain)
			return nil
		})
	}
}

func auth0Login(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			st, err := av.Auth0Status(c.Ctx)
			if err != nil {
				return err
			}
			keys, err := c.Keys()
			if err != nil {
				return err
			}
			client, err := services.Auth0Client(st, keys)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(c.Ctx, 5*time.Minute)
			defer cancel()
			sess, err := client.Login(ctx, auth0.CallbackPorts, func(url string) error {
				fmt.Fprintf(c.Out(), "Sign in to Auth0 in your browser:\n\n  %s\n\n", url)
				openBrowser(url)
				return nil
			})
			if err != nil {
				return err
			}
			if err := av.Auth0SaveSession(c.Ctx, sess.Subject, sess.RefreshToken); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Signed in as %s.\n", sess.Subject)
			return nil
		})
	}
}

func auth0Status(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			st, err := av.Auth0Status(c.Ctx)
			if err != nil {
				return err
			}
			out := c.Out()
			if c.JSON {
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
		})
	}
}

func auth0Logout(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withAPI(c, func(av api.API) error {
			if err := av.Auth0Logout(c.Ctx); err != nil {
				return err
			}
			fmt.Fprintln(c.Out(), "Signed out of Auth0; phone approvals are off.")
			return nil
		})
	}
}

func auth0Accounts(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withMyAccount(c, func(ctx context.Context, client *auth0.Client, refreshToken string) error {
			accts, err := client.ConnectedAccounts(ctx, refreshToken)
			if err != nil {
				return err
			}
			out := c.Out()
			if c.JSON {
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
	}
}

func auth0Unlink(*flag.FlagSet) func(c *Call) error {
	return func(c *Call) error {
		return withMyAccount(c, func(ctx context.Context, client *auth0.Client, refreshToken string) error {
			if err := client.Disconnect(ctx, refreshToken, c.Args[0]); err != nil {
				return err
			}
			fmt.Fprintf(c.Out(), "Unlinked %s: Token Vault no longer hands out its tokens.\n", c.Args[0])
			return nil
		})
	}
}

// withMyAccount runs f with the signed-in user's Auth0 client, built in this
// process, and the refresh token from the keychain it shares with the core:
// what managing linked accounts needs.
func withMyAccount(c *Call, f func(ctx context.Context, client *auth0.Client, refreshToken string) error) error {
	return withAPI(c, func(av api.API) error {
		st, err := av.Auth0Status(c.Ctx)
		if err != nil {
			return err
		}
		keys, err := c.Keys()
		if err != nil {
			return err
		}
		client, refreshToken, err := services.Auth0User(st, keys)
		if err != nil {
			return err
		}
		rt, err := refreshToken()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(c.Ctx, time.Minute)
		defer cancel()
		return f(ctx, client, rt)
	})
}
