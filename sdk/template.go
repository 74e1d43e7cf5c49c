package sdk

// Template is markup written by the page author, with {{field}}
// placeholders, for rendering events. It is sanitized once with the same
// allow-list as event markup; at render time a placeholder only ever becomes
// text, or part of an attribute value that is checked again once filled in
// (an href that is not http, https or mailto is dropped). Field values are
// never parsed as markup.
type Template struct {
	nodes []*Node
}

// ParseTemplate sanitizes markup into a template. Whitespace-only text
// around the top-level nodes is dropped, so a template with one root
// element renders one node per event.
func ParseTemplate(markup string) *Template {
	b := newTreeBuilder()
	b.keepPlaceholders = true
	z := newTokenizer(markup)
	for {
		tok, ok := z.next()
		if !ok {
			break
		}
		b.add(tok)
	}
	return templateOf(b)
}

func templateOf(b *treeBuilder) *Template {
	var nodes []*Node
	for _, n := range b.root.Children {
		if n.Tag == "" && trimSpace(n.Text) == "" {
			continue
		}
		nodes = append(nodes, n)
	}
	return &Template{nodes: nodes}
}

// Lookup returns the text of a field for a placeholder, false when absent
// (the placeholder then renders as nothing).
type Lookup func(field string) (string, bool)

// Render fills the placeholders with fields from lookup and returns a fresh
// tree.
func (t *Template) Render(lookup Lookup) []*Node {
	out := make([]*Node, 0, len(t.nodes))
	for _, n := range t.nodes {
		out = append(out, renderNode(n, lookup))
	}
	return out
}

func renderNode(n *Node, lookup Lookup) *Node {
	if n.Tag == "" {
		return &Node{Text: removeNUL(fill(n.Text, lookup, nil))}
	}
	el := &Node{Tag: n.Tag}
	for _, a := range n.Attrs {
		v := a.Value
		if hasPlaceholder(v) {
			var esc func(string) string
			if a.Name == "href" && !isSinglePlaceholder(v) {
				esc = escapeURLComponent // a field inside a URL stays one component
			}
			v = fill(v, lookup, esc)
		}
		if v, ok := CleanAttr(a.Name, v); ok {
			el.Attrs = append(el.Attrs, Attr{Name: a.Name, Value: v})
		}
	}
	for _, c := range n.Children {
		el.Children = append(el.Children, renderNode(c, lookup))
	}
	return el
}

// placeholder finds the first {{ name }} in s at or after from: the start
// and end of the whole placeholder and the field name.
func placeholder(s string, from int) (start, end int, name string, ok bool) {
	for {
		i := indexStr(s[from:], "{{")
		if i < 0 {
			return 0, 0, "", false
		}
		start = from + i
		j := indexStr(s[start+2:], "}}")
		if j < 0 {
			return 0, 0, "", false
		}
		end = start + 2 + j + 2
		name = trimSpace(s[start+2 : end-2])
		if validField(name) {
			return start, end, name, true
		}
		from = start + 1
	}
}

func validField(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !isASCIIAlnum(c) && c != '_' && c != '.' && c != '$' && c != '-' {
			return false
		}
	}
	return true
}

func hasPlaceholder(s string) bool {
	_, _, _, ok := placeholder(s, 0)
	return ok
}

func isSinglePlaceholder(s string) bool {
	s = trimSpace(s)
	start, end, _, ok := placeholder(s, 0)
	return ok && start == 0 && end == len(s)
}

// fill replaces every placeholder of s in one pass: a value that itself
// looks like a placeholder is not expanded again.
func fill(s string, lookup Lookup, esc func(string) string) string {
	var b []byte
	from := 0
	for {
		start, end, name, ok := placeholder(s, from)
		if !ok {
			break
		}
		b = append(b, s[from:start]...)
		if v, found := lookup(name); found {
			if esc != nil {
				v = esc(v)
			}
			b = append(b, v...)
		}
		from = end
	}
	b = append(b, s[from:]...)
	return string(b)
}

// escapeURLComponent percent-encodes like JavaScript's encodeURIComponent.
func escapeURLComponent(s string) string { return percentEncode(s, "-_.!~*'()") }
