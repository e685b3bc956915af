package app

import (
	"context"
	"fmt"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
)

func (u *UI) servicesView() fyne.CanvasObject {
	services, err := u.snap.services, u.snap.servicesErr
	if err != nil {
		return errorView(err)
	}
	list := container.NewVBox()
	if len(services) == 0 {
		list.Add(widget.NewLabel("No services yet. Connect GitHub, Google, Slack or Jira, or add an MCP server below; their tools become available to your vaults."))
	}
	for _, s := range services {
		body := container.NewVBox(widget.NewLabel(u.serviceTarget(s)))
		if changes := u.snap.changes[s.Name]; len(changes) > 0 {
			body.Add(u.reviewBox(s.Name, changes))
		}
		if s.Status != "" {
			status := widget.NewLabel("Status: " + s.Status)
			status.Wrapping = fyne.TextWrapWord
			body.Add(status)
		}
		if _, firstParty := u.kindTitle(s.Kind); firstParty {
			for _, line := range s.Grants {
				l := widget.NewLabel(line)
				l.Wrapping = fyne.TextWrapWord
				body.Add(l)
			}
		}
		name := s.Name
		remove := widget.NewButtonWithIcon("Remove", theme.DeleteIcon(), func() {
			dialog.ShowConfirm("Remove service", fmt.Sprintf("Remove %s? No vault will offer its tools any more.", name), func(ok bool) {
				if ok {
					u.do(func() error { return u.cfg.API.RemoveService(context.Background(), name) })
				}
			}, u.win)
		})
		body.Add(container.NewHBox(remove))
		list.Add(widget.NewCard(s.Name, u.serviceKind(s), body))
	}
	return container.NewVScroll(container.NewVBox(list, u.foundCard(), widget.NewSeparator(), u.connectForm(), u.addServiceForm()))
}

// foundCard lists the MCP servers the user's clients start on this
// computer, warns of those that skip AgentVault, and moves them behind a
// vault with one button per client.
func (u *UI) foundCard() fyne.CanvasObject {
	if u.cfg.Places.Home == "" {
		return container.NewVBox()
	}
	if u.snap.foundErr != nil {
		return errorView(u.snap.foundErr)
	}
	body := container.NewVBox()
	for _, f := range u.snap.found {
		if len(f.Servers) == 0 && f.Error == "" {
			continue
		}
		body.Add(bold(f.Name + " — " + f.Config))
		if f.Error != "" {
			body.Add(widget.NewLabel("Cannot read it: " + f.Error))
		}
		var direct []string
		for _, s := range f.Servers {
			how := s.Command + s.URL
			line := fmt.Sprintf("%s  ·  %s  ·  %s", s.Name, s.Scope, how)
			if s.ThroughAgentVault {
				line += "  ·  through AgentVault"
			} else if !s.Shared {
				direct = append(direct, s.Name)
			}
			l := widget.NewLabel(line)
			l.Truncation = fyne.TextTruncateEllipsis
			body.Add(l)
		}
		if len(direct) == 0 {
			continue
		}
		warn := widget.NewLabel(fmt.Sprintf("%s starts %s directly: those calls skip AgentVault.", f.Name, strings.Join(direct, ", ")))
		warn.Importance = widget.WarningImportance
		warn.Wrapping = fyne.TextWrapWord
		client, name := f.Client, f.Name
		body.Add(container.NewBorder(nil, nil, nil, widget.NewButton("Import into a vault", func() { u.importClient(client, name) }), warn))
	}
	if len(body.Objects) == 0 {
		body.Add(widget.NewLabel("No MCP client config found (Claude Code, Claude Desktop, Cursor, VS Code, Windsurf, Gemini CLI, Codex)."))
	}
	return widget.NewCard("Found on this computer", "MCP servers your clients start themselves", body)
}

// importClient moves a client's servers behind its vault and says what
// changed, with the new vault's token once.
func (u *UI) importClient(client, name string) {
	var res api.ImportResult
	var err error
	u.cfg.Run(func() {
		res, err = u.cfg.API.ImportClient(context.Background(), api.ImportSpec{Client: client, Places: u.cfg.Places, Program: u.cfg.Program})
	}, func() {
		u.refreshLater()
		if err != nil {
			u.showError(err)
			return
		}
		lines := []string{fmt.Sprintf("%s now reaches %s through vault %s. Restart %s to use it.", name, strings.Join(res.Moved, ", "), res.Vault, name)}
		if len(res.Moved) == 0 {
			lines = []string{"Nothing was moved."}
		}
		for _, s := range res.Skipped {
			lines = append(lines, "Left as it is: "+s)
		}
		lines = append(lines, "Undo with: agentvault clients undo "+client)
		text := widget.NewLabel(strings.Join(lines, "\n"))
		text.Wrapping = fyne.TextWrapWord
		content := container.NewVBox(text)
		if res.Created != nil {
			content.Add(widget.NewLabel("The new vault's token, shown only now:"))
			content.Add(readOnlyEntry(res.Created.Token))
		}
		dialog.ShowCustom("Moved behind a vault", "Close", content, u.win)
	})
}

func (u *UI) serviceKind(s api.ServiceInfo) string {
	switch s.Kind {
	case "mcp-stdio":
		return "MCP server started as a local command"
	case "mcp-http":
		return "MCP server over HTTP"
	}
	if title, ok := u.kindTitle(s.Kind); ok {
		return title + map[string]string{"auth0": " through Auth0 Token Vault", "basic": " with an API token"}[s.Auth]
	}
	return s.Kind
}

func (u *UI) serviceTarget(s api.ServiceInfo) string {
	if _, ok := u.kindTitle(s.Kind); ok {
		return "Account: " + s.Account
	}
	if s.Command != "" {
		return s.Command
	}
	if len(s.Headers) > 0 {
		return s.URL + "   (sends headers: " + strings.Join(s.Headers, ", ") + ")"
	}
	return s.URL
}

func (u *UI) addServiceForm() fyne.CanvasObject {
	name := widget.NewEntry()
	name.SetPlaceHolder("fs")
	target := widget.NewEntry()
	target.SetPlaceHolder("npx -y @modelcontextprotocol/server-filesystem ~/projects")
	headers := widget.NewMultiLineEntry()
	headers.SetPlaceHolder("Authorization: Bearer …   (one per line, URL servers only)")
	kind := widget.NewRadioGroup([]string{"Command", "URL"}, func(k string) {
		if k == "URL" {
			target.SetPlaceHolder("https://example.com/mcp")
		} else {
			target.SetPlaceHolder("npx -y @modelcontextprotocol/server-filesystem ~/projects")
		}
	})
	kind.Horizontal = true
	kind.Required = true
	kind.SetSelected("Command")
	form := widget.NewForm(
		widget.NewFormItem("Name", name),
		widget.NewFormItem("Kind", kind),
		widget.NewFormItem("Command or URL", target),
		widget.NewFormItem("Headers", headers),
	)
	form.SubmitText = "Add MCP server"
	checking := widget.NewLabel("")
	checking.Hide()
	form.OnSubmit = func() {
		spec := api.ServiceSpec{Name: strings.TrimSpace(name.Text)}
		if kind.Selected == "URL" {
			spec.URL = strings.TrimSpace(target.Text)
			for _, h := range strings.Split(headers.Text, "\n") {
				if h = strings.TrimSpace(h); h != "" {
					spec.Headers = append(spec.Headers, h)
				}
			}
		} else {
			spec.Command = target.Text
		}
		spec.Check = true
		form.Disable()
		checking.SetText("Starting " + spec.Name + " to list its tools…")
		checking.Show()
		var added api.ServiceInfo
		var err error
		u.cfg.Run(func() { added, err = u.cfg.API.AddService(context.Background(), spec) }, func() {
			form.Enable()
			if err != nil {
				checking.Hide()
				u.showError(err)
				return
			}
			checking.SetText("Added " + added.Name + ": " + added.Status + ".")
			name.SetText("")
			target.SetText("")
			headers.SetText("")
			u.refreshLater()
		})
	}
	return widget.NewCard("Add an MCP server", "AgentVault starts it (or reaches it) and lists its tools before adding it. Header values go to the OS keychain; agents never see them.",
		container.NewVBox(form, checking))
}

// reviewBox shows tools that changed upstream (hidden from every vault)
// and lets the user accept them.
func (u *UI) reviewBox(service string, changes []api.ToolChange) fyne.CanvasObject {
	box := container.NewVBox(widget.NewLabel(fmt.Sprintf("⚠ %d tools changed on the server and are hidden from every vault until you accept them:", len(changes))))
	for _, ch := range changes {
		l := widget.NewLabel(fmt.Sprintf("%s %s_%s: now %s", ch.Kind, service, ch.Tool, ch.Offered))
		l.Wrapping = fyne.TextWrapBreak
		box.Add(l)
	}
	accept := widget.NewButton("Accept the tools as they are now", func() {
		u.do(func() error { return u.cfg.API.AcceptService(context.Background(), service) })
	})
	accept.Importance = widget.WarningImportance
	box.Add(accept)
	return box
}

// kindTitle is how a first-party service kind is shown, and whether kind is
// one.
func (u *UI) kindTitle(kind string) (string, bool) {
	for _, k := range u.kinds() {
		if k.Kind == kind {
			return k.Title, true
		}
	}
	return "", false
}

// kinds are the first-party services.
func (u *UI) kinds() []api.Kind { return u.snap.kinds }
