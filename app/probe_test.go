package app

import (
	"testing"

	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"
)

func TestProbe(t *testing.T) {
	a := test.NewTempApp(t)
	w := a.NewWindow("x")
	w.SetContent(widget.NewLabel("hello"))
	test.AssertRendersToMarkup(t, "probe.xml", w.Canvas())
}
