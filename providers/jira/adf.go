package jira

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Atlassian Document Format: REST v3 takes and gives issue descriptions and
// comment bodies as a tree of nodes. Agents read and write plain text; these
// functions translate.

// adfNode is one node of a document: a block (paragraph, list…) or an
// inline (text, hard break, mention…).
type adfNode struct {
	Type    string         `json:"type"`
	Text    string         `json:"text,omitempty"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []adfNode      `json:"content,omitempty"`
}

// adfDoc is a document's root.
type adfDoc struct {
	Type    string    `json:"type"`
	Version int       `json:"version"`
	Content []adfNode `json:"content"`
}

// toADF makes a document of plain text: blank lines separate paragraphs,
// single line breaks become hard breaks.
func toADF(text string) adfDoc {
	doc := adfDoc{Type: "doc", Version: 1, Content: []adfNode{}}
	text = strings.ReplaceAll(text, "\r\n", "\n")
	for _, para := range strings.Split(text, "\n\n") {
		para = strings.Trim(para, "\n")
		if strings.TrimSpace(para) == "" {
			continue
		}
		p := adfNode{Type: "paragraph"}
		for i, line := range strings.Split(para, "\n") {
			if i > 0 {
				p.Content = append(p.Content, adfNode{Type: "hardBreak"})
			}
			if line != "" { // ADF text nodes must not be empty
				p.Content = append(p.Content, adfNode{Type: "text", Text: line})
			}
		}
		doc.Content = append(doc.Content, p)
	}
	return doc
}

// fromADF renders a document as plain text; raw may be null (no
// description) or, from older data, a plain string.
func fromADF(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var doc adfNode
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	return blocks(doc.Content, "\n\n")
}

// blocks renders block nodes, joined by sep.
func blocks(nodes []adfNode, sep string) string {
	parts := make([]string, 0, len(nodes))
	for _, n := range nodes {
		if t := block(n); t != "" {
			parts = append(parts, t)
		}
	}
	return strings.Join(parts, sep)
}

func block(n adfNode) string {
	switch n.Type {
	case "paragraph", "heading", "codeBlock":
		return inline(n.Content)
	case "bulletList", "orderedList":
		start := 1
		if f, ok := n.Attrs["order"].(float64); ok {
			start = int(f)
		}
		lines := make([]string, 0, len(n.Content))
		for i, item := range n.Content {
			marker := "- "
			if n.Type == "orderedList" {
				marker = strconv.Itoa(start+i) + ". "
			}
			body := strings.ReplaceAll(blocks(item.Content, "\n"), "\n", "\n"+strings.Repeat(" ", len(marker)))
			lines = append(lines, marker+body)
		}
		return strings.Join(lines, "\n")
	case "blockquote":
		return "> " + strings.ReplaceAll(blocks(n.Content, "\n\n"), "\n", "\n> ")
	case "rule":
		return "---"
	case "table":
		rows := make([]string, 0, len(n.Content))
		for _, row := range n.Content {
			cells := make([]string, 0, len(row.Content))
			for _, cell := range row.Content {
				cells = append(cells, blocks(cell.Content, " "))
			}
			rows = append(rows, strings.Join(cells, " | "))
		}
		return strings.Join(rows, "\n")
	case "mediaSingle", "mediaGroup", "media":
		return "[attachment]"
	}
	if isInline(n) || len(n.Content) > 0 && isInline(n.Content[0]) {
		return inline([]adfNode{n})
	}
	return blocks(n.Content, "\n\n")
}

func isInline(n adfNode) bool {
	switch n.Type {
	case "text", "hardBreak", "mention", "emoji", "inlineCard", "date", "status":
		return true
	}
	return false
}

// inline renders inline nodes: text, breaks and the text of mentions,
// emoji, links, dates and status lozenges.
func inline(nodes []adfNode) string {
	var b strings.Builder
	for _, n := range nodes {
		attr := func(k string) string { s, _ := n.Attrs[k].(string); return s }
		switch n.Type {
		case "text":
			b.WriteString(n.Text)
		case "hardBreak":
			b.WriteByte('\n')
		case "mention", "status":
			b.WriteString(attr("text"))
		case "emoji":
			if t := attr("text"); t != "" {
				b.WriteString(t)
			} else {
				b.WriteString(attr("shortName"))
			}
		case "inlineCard":
			b.WriteString(attr("url"))
		case "date":
			if ms, err := strconv.ParseInt(attr("timestamp"), 10, 64); err == nil {
				b.WriteString(time.UnixMilli(ms).UTC().Format("2006-01-02"))
			}
		default:
			b.WriteString(inline(n.Content))
		}
	}
	return b.String()
}
