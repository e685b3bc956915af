package app

import (
	"context"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"github.com/agentvault/agentvault/internal/api"
	"github.com/agentvault/agentvault/policy"
)

// guardsView sets a vault's argument guards, one allowlist per kind.
func (u *UI) guardsView(d api.VaultDetail) fyne.CanvasObject {
	intro := widget.NewLabel("Guards narrow what allowed and approved calls may touch. A call naming anything " +
		"outside a list is refused with the reason, and the refusal is audited. Leave a list empty for no limit; " +
		"separate entries with commas; * allows everything.")
	intro.Wrapping = fyne.TextWrapWord
	form := widget.NewForm()
	for _, k := range policy.Kinds {
		entry := widget.NewEntry()
		entry.SetPlaceHolder(k.Example)
		entry.SetText(strings.Join(guardAllow(d.Guards, k.Kind), ", "))
		kind := k.Kind
		save := widget.NewButton("Save", func() {
			u.do(func() error {
				return u.cfg.API.SetGuard(context.Background(), d.ID, policy.Guard{Kind: kind, Allow: splitList(entry.Text)})
			})
		})
		form.Append(k.Title, container.NewBorder(nil, nil, nil, save, entry))
	}
	return container.NewVScroll(container.NewVBox(intro, form))
}

// guardAllow is the allowlist of the vault-wide guard of kind k.
func guardAllow(guards []policy.Guard, k policy.Kind) []string {
	for _, g := range guards {
		if g.Kind == k && g.Tools == "" {
			return g.Allow
		}
	}
	return nil
}

// splitList reads a comma-separated list, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if p := strings.TrimSpace(part); p != "" {
			out = append(out, p)
		}
	}
	return out
}
