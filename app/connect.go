package app

import (
	"context"
	"net/url"
	"strings"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

// Sign-in methods offered in the connect form.
const (
	methodToken = "Paste a token"
	methodOAuth = "Sign in with my OAuth app"
	methodAuth0 = "Auth0 Token Vault"
)

// kindOf maps a title back to its kind.
func (u *UI) kindOf(title string) string {
	for _, k := range u.kinds() {
		if k.Title == title {
			return k.Kind
		}
	}
	return ""
}

// connectForm connects GitHub, Google, Slack or Jira. Browser and device
// sign-ins run in the background; the result is handed to the core.
func (u *UI) connectForm() fyne.CanvasObject {
	var titles []string
	for _, k := range u.kinds() {
		titles = append(titles, k.Title)
	}
	kind := widget.NewSelect(titles, nil)
	kind.SetSelected("GitHub")
	method := widget.NewRadioGroup([]string{methodToken, methodOAuth, methodAuth0}, nil)
	method.Required = true
	method.SetSelected(methodToken)
	token := widget.NewPasswordEntry()
	token.SetPlaceHolder("GitHub fine-grained token, Slack user token or Jira API token")
	clientID := widget.NewEntry()
	clientID.SetPlaceHolder("client ID of your GitHub App, Google desktop client, Slack app or Atlassian app")
	secret := widget.NewPasswordEntry()
	secret.SetPlaceHolder("client secret (Atlassian; Google desktop clients)")
	site := widget.NewEntry()
	site.SetPlaceHolder("Jira: https://acme.atlassian.net")
	email := widget.NewEntry()
	email.SetPlaceHolder("Jira: your account email (with an API token)")
	apiURL := widget.NewEntry()
	apiURL.SetPlaceHolder("optional: GitHub Enterprise API URL; Jira through Auth0: https://api.atlassian.com/ex/jira/CLOUD-ID")
	connection := widget.NewEntry()
	connection.SetPlaceHolder("Auth0 connection (default: github, google-oauth2, sign-in-with-slack; Jira: yours)")
	status := widget.NewLabel("")
	status.Wrapping = fyne.TextWrapWord

	form := widget.NewForm(
		widget.NewFormItem("Service", kind),
		widget.NewFormItem("Sign in", method),
		widget.NewFormItem("Token", token),
		widget.NewFormItem("Client ID", clientID),
		widget.NewFormItem("Client secret", secret),
		widget.NewFormItem("Site", site),
		widget.NewFormItem("Email", email),
		widget.NewFormItem("API URL", apiURL),
		widget.NewFormItem("Connection", connection),
	)
	form.SubmitText = "Connect"
	form.OnSubmit = func() {
		k := u.kindOf(kind.Selected)
		opts := api.SignIn{
			APIURL: strings.TrimSpace(apiURL.Text), Site: strings.TrimSpace(site.Text), Email: strings.TrimSpace(email.Text),
			Open: func(raw string) error {
				u2, err := url.Parse(raw)
				if err == nil {
					err = u.app.OpenURL(u2)
				}
				return err
			},
			ShowCode: func(code, uri string) {
				fyne.Do(func() { status.SetText("Open " + uri + " and enter the code " + code) })
				if u2, err := url.Parse(uri); err == nil {
					_ = u.app.OpenURL(u2)
				}
			},
		}
		switch method.Selected {
		case methodToken:
			opts.Token = strings.TrimSpace(token.Text)
		case methodOAuth:
			opts.ClientID, opts.ClientSecret = strings.TrimSpace(clientID.Text), strings.TrimSpace(secret.Text)
		default:
			opts.Auth0, opts.Connection = true, strings.TrimSpace(connection.Text)
		}
		status.SetText("Connecting " + kind.Selected + "…")
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
			defer cancel()
			info, err := u.cfg.API.SignIn(ctx, k, opts)
			fyne.Do(func() {
				if err != nil {
					status.SetText("")
					u.showError(err)
					return
				}
				token.SetText("")
				secret.SetText("")
				status.SetText("Connected " + info.Name + ".")
				u.refreshLater()
			})
		}()
	}
	return widget.NewCard("Connect a service", "Credentials go to the OS keychain (or stay in Auth0); agents never see them.",
		container.NewVBox(form, status))
}
