package app

import (
	"context"
	"fmt"
	"slices"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// wizard walks through creating a vault: identity, services, permissions,
// and the result with its setup.
type wizard struct {
	u        *UI
	step     int
	name     string
	client   string
	services []string
	preset   string
	created  *api.NewVault
	err      string
}

func (u *UI) startWizard() {
	client := "Other"
	if len(u.snap.clients) > 0 {
		client = u.snap.clients[0]
	}
	u.wizard = &wizard{u: u, client: client, preset: "ask-for-writes"}
	u.redraw()
}

func (w *wizard) view() fyne.CanvasObject {
	title := bold(fmt.Sprintf("New vault — step %d of 4", w.step+1))
	var body fyne.CanvasObject
	var next func() bool
	switch w.step {
	case 0:
		name := widget.NewEntry()
		name.SetPlaceHolder("e.g. claude-work")
		name.SetText(w.name)
		name.OnChanged = func(s string) { w.name = s }
		client := widget.NewSelect(append(slices.Clone(w.u.snap.clients), "Other"), func(s string) { w.client = s })
		client.SetSelected(w.client)
		body = widget.NewForm(widget.NewFormItem("Vault name", name), widget.NewFormItem("For which agent", client))
		next = func() bool { return w.name != "" }
	case 1:
		services, err := w.u.snap.services, w.u.snap.servicesErr
		if err != nil {
			body = errorView(err)
			break
		}
		var names []string
		for _, s := range services {
			names = append(names, s.Name)
		}
		if len(names) == 0 {
			body = widget.NewLabel("No services yet: add one in the Services tab first.")
			break
		}
		checks := widget.NewCheckGroup(names, func(sel []string) { w.services = sel })
		checks.SetSelected(w.services)
		body = container.NewVBox(widget.NewLabel("Which services may this agent use?"), checks)
		next = func() bool { return len(w.services) > 0 }
	case 2:
		var labels []string
		byLabel := map[string]string{}
		selected := ""
		for _, p := range policy.Presets {
			l := presetLabel(p.Name) + " — " + p.Description
			labels = append(labels, l)
			byLabel[l] = p.Name
			if p.Name == w.preset {
				selected = l
			}
		}
		choice := widget.NewRadioGroup(labels, func(s string) { w.preset = byLabel[s] })
		choice.SetSelected(selected)
		choice.Required = true
		body = container.NewVBox(widget.NewLabel("Start from which permissions? You can change each tool afterwards."), choice)
	default:
		v := w.created
		ready := container.NewVBox(
			widget.NewLabel(fmt.Sprintf("Vault %q is ready. Its token is shown only now:", v.Name)),
			readOnlyEntry(v.Token),
			widget.NewLabel("MCP URL"),
			readOnlyEntry(v.URL),
		)
		for _, warning := range v.Warnings {
			note := widget.NewLabel("Note: " + warning + ".")
			note.Wrapping = fyne.TextWrapWord
			note.Importance = widget.WarningImportance
			ready.Add(note)
		}
		ready.Add(w.u.setupView(v.Name, v.URL, v.Token))
		body = ready
	}
	errLabel := widget.NewLabel(w.err)
	errLabel.Importance = widget.DangerImportance
	buttons := container.NewHBox()
	if w.step < 3 {
		buttons.Add(widget.NewButton("Cancel", w.close))
		if w.step > 0 {
			buttons.Add(widget.NewButton("Back", func() { w.step--; w.err = ""; w.u.redraw() }))
		}
		label := "Next"
		if w.step == 2 {
			label = "Create vault"
		}
		nb := widget.NewButton(label, func() {
			w.err = ""
			switch {
			case w.step == 2:
				w.create() // moves on once the vault exists
			case next != nil && next():
				w.step++
			default:
				w.err = "Fill in this step first."
			}
			w.u.redraw()
		})
		nb.Importance = widget.HighImportance
		buttons.Add(nb)
	} else {
		done := widget.NewButton("Done", w.close)
		done.Importance = widget.HighImportance
		buttons.Add(done)
	}
	return container.NewBorder(title, container.NewVBox(errLabel, buttons), nil, nil, container.NewVScroll(body))
}

// create makes the vault with the chosen preset, in one call, off the UI
// thread; the wizard moves on once it exists.
func (w *wizard) create() {
	spec := api.VaultSpec{Name: w.name, Services: w.services, Preset: w.preset}
	var nv api.NewVault
	var err error
	w.u.cfg.Run(func() { nv, err = w.u.cfg.API.CreateVault(context.Background(), spec) }, func() {
		if err != nil {
			w.err = userMessage(err)
		} else {
			w.created, w.step = &nv, 3
			w.u.selected = nv.ID
			w.u.revealed[nv.ID] = nv.Token
		}
		w.u.refreshLater()
	})
}

func (w *wizard) close() {
	w.u.wizard = nil
	w.u.redraw()
}

func readOnlyEntry(s string) *widget.Entry {
	e := widget.NewEntry()
	e.SetText(s)
	e.Disable()
	return e
}
