// Package configedit makes small, reversible edits to other programs'
// configuration files: JSON, also with comments and trailing commas as VS
// Code writes it, and TOML (Codex). An edit changes whole entries, each
// addressed by its path of keys, and is recorded as Changes: the exact text
// of the entry before and after. Reverting them later works on the file as
// it is then, so everything changed since is kept.
//
// It must never rewrite a byte of a file outside the entries it changes.
package configedit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"github.com/agentvault/agentvault/internal/atomicfile"
)

// Format is a configuration file's syntax.
type Format string

const (
	JSON Format = "json" // also with comments and trailing commas
	TOML Format = "toml"
)

// Change is one entry's text before and after an edit; "" is no entry.
// A change kept for a later undo may hold, instead of the text after, only
// its digest (Sealed): enough to tell whether the entry is still as written.
type Change struct {
	Path     []string `json:"path"`
	Before   string   `json:"before,omitempty"`
	After    string   `json:"after,omitempty"`
	AfterSum string   `json:"after_sum,omitempty"`
}

// Sealed is c with the text after it replaced by its digest.
func (c Change) Sealed() Change {
	if c.After != "" {
		c.AfterSum, c.After = digest(c.After), ""
	}
	return c
}

// removed reports whether the change took the entry out.
func (c Change) removed() bool { return c.After == "" && c.AfterSum == "" }

// digest identifies an entry's meaning, whatever its layout: the SHA-256 of
// its canonical JSON.
func digest(text string) string {
	v, err := decodeJSON(text)
	if err != nil {
		if v, err = decodeTOML(text); err != nil {
			v = text
		}
	}
	raw, _ := json.Marshal(v) // maps marshal with sorted keys
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:])
}

// Name is the change's entry, keys joined by dots, for people.
func (c Change) Name() string { return strings.Join(c.Path, ".") }

// Doc is a configuration file being edited.
type Doc struct {
	format  Format
	json    *jsonDoc
	toml    *tomlDoc
	created bool // the file did not exist
}

// Load reads the file at path; a missing file is an empty document that
// Save creates.
func Load(path string, format Format) (*Doc, error) {
	data, err := os.ReadFile(path)
	created := errors.Is(err, os.ErrNotExist)
	if err != nil && !created {
		return nil, err
	}
	d, err := Parse(data, format)
	if err != nil {
		return nil, fmt.Errorf("%s: %w; AgentVault leaves it as it is", path, err)
	}
	d.created = created
	return d, nil
}

// Parse reads a document from data.
func Parse(data []byte, format Format) (*Doc, error) {
	d := &Doc{format: format}
	var err error
	switch format {
	case JSON:
		d.json, err = parseJSON(data)
	case TOML:
		d.toml, err = parseTOML(data)
	default:
		err = fmt.Errorf("unknown format %q", format)
	}
	return d, err
}

// Created reports whether the file did not exist when it was loaded.
func (d *Doc) Created() bool { return d.created }

// Bytes is the document as it is now.
func (d *Doc) Bytes() []byte {
	if d.json != nil {
		return d.json.bytes()
	}
	return d.toml.bytes()
}

// Save writes the document to path atomically, keeping the file's mode
// (0600 for a new one).
func (d *Doc) Save(path string) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	return atomicfile.WriteBytes(path, mode, d.Bytes())
}

// Empty reports whether the document holds nothing but empty objects: what
// a file AgentVault created holds once its entries are gone again.
func (d *Doc) Empty() bool {
	if d.json != nil {
		return d.json.empty()
	}
	return len(bytes.TrimSpace(d.toml.text)) == 0
}

// Entry returns the exact text of the entry at path.
func (d *Doc) Entry(path []string) (string, bool) {
	if d.json != nil {
		return d.json.entry(path)
	}
	return d.toml.entry(path)
}

// Entries returns the members of the object at path, decoded, by name.
func (d *Doc) Entries(path []string) (map[string]json.RawMessage, error) {
	if d.json != nil {
		return d.json.entries(path)
	}
	return d.toml.entries(path)
}

// Format renders v as an entry's text for the place path in this document
// (indented as the file is, for JSON).
func (d *Doc) Format(path []string, v any) (string, error) {
	if d.json != nil {
		return d.json.format(path, v)
	}
	return formatTOML(path, v)
}

// Set puts text (an entry as Entry returns it) at path, replacing what is
// there or adding it (with the objects above it), and returns the change.
func (d *Doc) Set(path []string, text string) (Change, error) {
	before, _ := d.Entry(path)
	var err error
	if d.json != nil {
		err = d.json.set(path, text)
	} else {
		err = d.toml.set(path, text)
	}
	return Change{Path: path, Before: before, After: text}, err
}

// Remove takes the entry at path out and returns the change; removing what
// is not there changes nothing.
func (d *Doc) Remove(path []string) (Change, error) {
	before, ok := d.Entry(path)
	if !ok {
		return Change{Path: path}, nil
	}
	var err error
	if d.json != nil {
		err = d.json.remove(path)
	} else {
		err = d.toml.remove(path)
	}
	return Change{Path: path, Before: before}, err
}

// Revert undoes changes (oldest first, as they were made) on the document
// as it is now, newest first. An entry changed since AgentVault wrote it is
// left as it is, and named in the result.
func (d *Doc) Revert(changes []Change) (kept []string, err error) {
	for i := len(changes) - 1; i >= 0; i-- {
		c := changes[i]
		now, present := d.Entry(c.Path)
		switch {
		case c.removed() && !present: // removed, and still gone: back it comes
			if c.Before != "" {
				_, err = d.Set(c.Path, c.Before)
			}
		case c.removed() || !present: // added again since, or removed since
			if c.removed() && !d.Same(now, c.Before) {
				kept = append(kept, c.Name())
			}
		case !d.unchanged(now, c):
			kept = append(kept, c.Name())
		case c.Before == "":
			_, err = d.Remove(c.Path)
		default:
			_, err = d.Set(c.Path, c.Before)
		}
		if err != nil {
			return kept, fmt.Errorf("undoing the change of %s: %w", c.Name(), err)
		}
	}
	return kept, nil
}

// unchanged reports whether the entry's text now is what c wrote.
func (d *Doc) unchanged(now string, c Change) bool {
	if c.After == "" {
		return digest(now) == c.AfterSum
	}
	return d.Same(now, c.After)
}

// Same reports whether two entries' texts mean the same, whatever their
// layout and comments.
func (d *Doc) Same(a, b string) bool {
	va, erra := d.decode(a)
	vb, errb := d.decode(b)
	return erra == nil && errb == nil && reflect.DeepEqual(va, vb)
}

func (d *Doc) decode(text string) (any, error) {
	if d.json != nil {
		return decodeJSON(text)
	}
	return decodeTOML(text)
}
