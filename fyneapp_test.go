package main

import (
	"image/png"
	"os"
	"regexp"
	"testing"

	"github.com/BurntSushi/toml"
)

// TestFyneAppMetadata checks what `fyne package` reads from FyneApp.toml.
func TestFyneAppMetadata(t *testing.T) {
	var meta struct {
		Details struct {
			Icon, Name, ID, Version string
			Build                   int
		}
	}
	md, err := toml.DecodeFile("FyneApp.toml", &meta)
	if err != nil {
		t.Fatal(err)
	}
	if len(md.Undecoded()) > 0 {
		t.Logf("other keys: %v", md.Undecoded())
	}
	d := meta.Details
	if d.Name != "AgentVault" || d.ID != "dev.agentvault.app" || d.Build < 1 {
		t.Fatalf("details %+v", d)
	}
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(d.Version) {
		t.Fatalf("version %q is not x.y.z", d.Version)
	}
	f, err := os.Open(d.Icon)
	if err != nil {
		t.Fatalf("icon: %v", err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil || img.Bounds().Dx() < 256 || img.Bounds().Dx() != img.Bounds().Dy() {
		t.Fatalf("icon %s: %v (want a square PNG of at least 256 px)", d.Icon, err)
	}
	entry, err := os.ReadFile("assets/agentvault.desktop")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[Desktop Entry]", "Type=Application", "Exec=agentvault", "Icon=agentvault", "Name=AgentVault"} {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(want) + `$`).Match(entry) {
			t.Errorf("desktop entry lacks %q", want)
		}
	}
}
