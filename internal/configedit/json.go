package configedit

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"

	"github.com/tailscale/hujson"
)

// jsonDoc is a JSON (or JSON with comments) document as parsed, every byte
// of layout and every comment kept.
type jsonDoc struct {
	root hujson.Value
	unit string // one level of indentation, as the file has it
}

func parseJSON(data []byte) (*jsonDoc, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		data = []byte("{}\n")
	}
	root, err := hujson.Parse(data)
	if err != nil {
		return nil, err
	}
	if _, ok := root.Value.(*hujson.Object); !ok {
		return nil, errors.New("it is not a JSON object")
	}
	return &jsonDoc{root: root, unit: indentUnit(data)}, nil
}

// indentUnit is the file's first indentation, or two spaces.
func indentUnit(data []byte) string {
	for _, line := range strings.Split(string(data), "\n") {
		if trimmed := strings.TrimLeft(line, " \t"); trimmed != line && trimmed != "" {
			return line[:len(line)-len(trimmed)]
		}
	}
	return "  "
}

func (j *jsonDoc) bytes() []byte { return j.root.Pack() }

// pointer is path as a JSON pointer (RFC 6901).
func pointer(path []string) string {
	var b strings.Builder
	for _, k := range path {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(k))
	}
	return b.String()
}

func (j *jsonDoc) find(path []string) *hujson.Value {
	if len(path) == 0 {
		return &j.root
	}
	return j.root.Find(pointer(path))
}

func (j *jsonDoc) entry(path []string) (string, bool) {
	v := j.find(path)
	if v == nil {
		return "", false
	}
	// Not through Clone, which drops the empty Extra that marks a
	// trailing comma.
	before, after := v.BeforeExtra, v.AfterExtra
	v.BeforeExtra, v.AfterExtra = nil, nil
	text := string(v.Pack())
	v.BeforeExtra, v.AfterExtra = before, after
	return text, true
}

func (j *jsonDoc) entries(path []string) (map[string]json.RawMessage, error) {
	v := j.find(path)
	if v == nil {
		return nil, nil
	}
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, errors.New(strings.Join(path, ".") + " is not an object")
	}
	out := make(map[string]json.RawMessage, len(obj.Members))
	for _, m := range obj.Members {
		val := m.Value.Clone()
		val.Standardize()
		out[m.Name.Value.(hujson.Literal).String()] = json.RawMessage(bytes.TrimSpace(val.Pack()))
	}
	return out, nil
}

// indent is the indentation of the members of the object at path.
func (j *jsonDoc) indent(path []string) string {
	if v := j.find(path); v == nil {
		// not there yet: one level in from its parent
	} else if obj, ok := v.Value.(*hujson.Object); ok && len(obj.Members) > 0 {
		if ws, ok := lastLine(obj.Members[0].Name.BeforeExtra); ok {
			return ws
		}
	}
	if len(path) == 0 {
		return j.unit
	}
	return j.indent(path[:len(path)-1]) + j.unit
}

// lastLine is the whitespace that starts the line extra ends on, if extra
// has a line break and nothing but whitespace after it.
func lastLine(extra hujson.Extra) (string, bool) {
	i := bytes.LastIndexByte(extra, '\n')
	if i < 0 || len(bytes.TrimLeft(extra[i+1:], " \t")) != 0 {
		return "", false
	}
	return string(extra[i+1:]), true
}

func (j *jsonDoc) format(path []string, v any) (string, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent(j.indent(path[:len(path)-1]), j.unit)
	err := enc.Encode(v)
	return strings.TrimSuffix(b.String(), "\n"), err
}

func (j *jsonDoc) set(path []string, text string) error {
	val, err := hujson.Parse([]byte(text))
	if err != nil {
		return err
	}
	if cur := j.find(path); cur != nil {
		cur.Value = val.Value
		return nil
	}
	for i := 1; i < len(path); i++ {
		if j.find(path[:i]) == nil {
			if err := j.add(path[:i], hujson.Value{Value: &hujson.Object{}}); err != nil {
				return err
			}
		}
	}
	return j.add(path, val)
}

// add appends a member at path, on its own line at the indentation of its
// siblings.
func (j *jsonDoc) add(path []string, val hujson.Value) error {
	parentPath := path[:len(path)-1]
	parent := j.find(parentPath)
	if parent == nil {
		return errors.New(strings.Join(parentPath, ".") + " is missing")
	}
	obj, ok := parent.Value.(*hujson.Object)
	if !ok {
		return errors.New(strings.Join(parentPath, ".") + " is not an object")
	}
	trailing := trailingComma(obj)
	patch, _ := json.Marshal([]map[string]any{{"op": "add", "path": pointer(path), "value": nil}})
	if err := j.root.Patch(patch); err != nil {
		return err
	}
	last := &obj.Members[len(obj.Members)-1]
	setTrailingComma(obj, trailing)
	last.Value.Value = val.Value
	last.Value.BeforeExtra = hujson.Extra(" ")
	if !bytes.Contains(last.Name.BeforeExtra, []byte("/")) { // no comment to keep
		last.Name.BeforeExtra = hujson.Extra("\n" + j.indent(parentPath))
	}
	if len(obj.Members) == 1 {
		outer := ""
		if len(parentPath) > 0 {
			outer = j.indent(parentPath[:len(parentPath)-1])
		}
		obj.AfterExtra = hujson.Extra("\n" + outer)
	}
	return nil
}

func (j *jsonDoc) remove(path []string) error {
	obj, _ := j.find(path[:len(path)-1]).Value.(*hujson.Object)
	trailing := obj != nil && trailingComma(obj)
	patch, _ := json.Marshal([]map[string]any{{"op": "remove", "path": pointer(path)}})
	if err := j.root.Patch(patch); err != nil {
		return err
	}
	if obj != nil {
		setTrailingComma(obj, trailing)
	}
	return nil
}

// trailingComma reports whether obj's last member ends with a comma (hujson
// marks it with a non-nil AfterExtra).
func trailingComma(obj *hujson.Object) bool {
	return len(obj.Members) > 0 && obj.Members[len(obj.Members)-1].Value.AfterExtra != nil
}

// setTrailingComma gives obj's last member a comma after it, or none, as
// the object had before an edit.
func setTrailingComma(obj *hujson.Object, on bool) {
	if len(obj.Members) == 0 {
		return
	}
	last := &obj.Members[len(obj.Members)-1].Value
	switch {
	case on && last.AfterExtra == nil:
		last.AfterExtra = hujson.Extra{}
	case !on && last.AfterExtra != nil && len(last.AfterExtra) == 0:
		last.AfterExtra = nil
	}
}

// empty reports whether the document holds only empty objects.
func (j *jsonDoc) empty() bool {
	var onlyObjects func(v hujson.Value) bool
	onlyObjects = func(v hujson.Value) bool {
		obj, ok := v.Value.(*hujson.Object)
		if !ok {
			return false
		}
		for _, m := range obj.Members {
			if !onlyObjects(m.Value) {
				return false
			}
		}
		return true
	}
	return onlyObjects(j.root)
}

func decodeJSON(text string) (any, error) {
	std, err := hujson.Standardize([]byte(text))
	if err != nil {
		return nil, err
	}
	var v any
	err = json.Unmarshal(std, &v)
	return v, err
}
