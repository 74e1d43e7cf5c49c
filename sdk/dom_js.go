//go:build js && wasm

package sdk

import (
	"errors"

	"github.com/hack-pad/safejs"
)

// ErrNoElement is returned by Bind when the selector matches nothing.
var ErrNoElement = errors.New("ssekit/sdk: selector matches no element")

// Bind renders every event of typ into the element matched by selector; see
// BindElement.
func (c *Client) Bind(selector, typ string, opts BindOptions) (func(), error) {
	doc, err := global("document")
	if err != nil {
		return nil, err
	}
	el, err := doc.Call("querySelector", selector)
	if err != nil {
		return nil, jsErr("querySelector", err)
	}
	if el.IsNull() || el.IsUndefined() {
		return nil, errors.Join(ErrNoElement, errors.New("ssekit/sdk: selector "+selector))
	}
	return c.BindElement(el, typ, opts)
}

// BindElement renders every event of typ into el. In ModeText each event
// becomes a text node inside a plain wrapper element; in ModeSanitizedHTML
// the data goes through Sanitize and the resulting tree is built node by
// node; with a Template, the template's tree is built with the event's
// fields as text. Every node is made with createElement, createTextNode and
// setAttribute: no markup is ever assigned to the DOM, so no string from the
// network is parsed by the browser.
func (c *Client) BindElement(el safejs.Value, typ string, opts BindOptions) (func(), error) {
	doc, err := global("document")
	if err != nil {
		return nil, err
	}
	if opts.Insert == "" {
		opts.Insert = InsertAppend
	}
	tag := wrapperTag(getString(el, "tagName"))
	return c.On(typ, func(ev Event) error {
		var node safejs.Value
		var err error
		switch {
		case opts.Template != nil:
			node, err = buildFragment(doc, opts.Template.Render(eventLookup(ev)))
		case opts.Mode == ModeSanitizedHTML:
			node, err = wrap(doc, tag, Sanitize(ev.Data))
		default:
			node, err = wrap(doc, tag, []*Node{{Text: ev.Data}})
		}
		if err != nil {
			return err
		}
		return place(el, node, opts)
	})
}

// wrap builds nodes inside a wrapper element tag, or as a bare fragment
// when tag is "".
func wrap(doc safejs.Value, tag string, nodes []*Node) (safejs.Value, error) {
	if tag == "" {
		return buildFragment(doc, nodes)
	}
	return build(doc, &Node{Tag: tag, Children: nodes})
}

// buildFragment builds nodes into a DocumentFragment.
func buildFragment(doc safejs.Value, nodes []*Node) (safejs.Value, error) {
	frag, err := doc.Call("createDocumentFragment")
	if err != nil {
		return safejs.Undefined(), jsErr("createDocumentFragment", err)
	}
	for _, n := range nodes {
		child, err := build(doc, n)
		if err != nil {
			return safejs.Undefined(), err
		}
		if _, err := frag.Call("appendChild", child); err != nil {
			return safejs.Undefined(), jsErr("appendChild", err)
		}
	}
	return frag, nil
}

// build makes the DOM node of n with createElement, setAttribute and
// createTextNode only.
func build(doc safejs.Value, n *Node) (safejs.Value, error) {
	if n.Tag == "" {
		t, err := doc.Call("createTextNode", n.Text)
		if err != nil {
			return safejs.Undefined(), jsErr("createTextNode", err)
		}
		return t, nil
	}
	el, err := doc.Call("createElement", n.Tag)
	if err != nil {
		return safejs.Undefined(), jsErr("createElement", err)
	}
	for _, a := range n.Attrs {
		if _, err := el.Call("setAttribute", a.Name, a.Value); err != nil {
			return safejs.Undefined(), jsErr("setAttribute", err)
		}
	}
	for _, c := range n.Children {
		child, err := build(doc, c)
		if err != nil {
			return safejs.Undefined(), err
		}
		if _, err := el.Call("appendChild", child); err != nil {
			return safejs.Undefined(), jsErr("appendChild", err)
		}
	}
	return el, nil
}

// place inserts node into el per opts and trims to opts.Max children.
func place(el, node safejs.Value, opts BindOptions) error {
	method := "append"
	switch opts.Insert {
	case InsertPrepend:
		method = "prepend"
	case InsertReplace:
		method = "replaceChildren"
	}
	if _, err := el.Call(method, node); err != nil {
		return jsErr(method, err)
	}
	if opts.Max <= 0 {
		return nil
	}
	// Keep the newest: drop from the end opposite to where content enters.
	end := "firstChild"
	if opts.Insert == InsertPrepend {
		end = "lastChild"
	}
	for childCount(el) > opts.Max {
		old, err := el.Get(end)
		if err != nil || old.IsNull() {
			return nil
		}
		if _, err := el.Call("removeChild", old); err != nil {
			return jsErr("removeChild", err)
		}
	}
	return nil
}

func childCount(el safejs.Value) int {
	nodes, err := el.Get("childNodes")
	if err != nil {
		return 0
	}
	return getInt(nodes, "length", 0)
}

// eventLookup gives templates the fields of an event's JSON object (dotted
// paths for nested objects), decoded by the browser's JSON.parse, plus
// $raw, $id and $type.
func eventLookup(ev Event) Lookup {
	var obj safejs.Value
	parsed := false
	return func(name string) (string, bool) {
		switch name {
		case "$raw":
			return ev.Data, true
		case "$id":
			return ev.ID, true
		case "$type":
			return ev.Type, true
		}
		if !parsed {
			parsed = true
			if DecodeAuto.WantsJSON(ev.Data) {
				if v, err := jsonParse(ev.Data); err == nil {
					obj = v
				}
			}
		}
		v := obj
		for _, seg := range splitByte(name, '.') {
			if v.Type() != safejs.TypeObject || v.IsNull() {
				return "", false
			}
			var err error
			if v, err = v.Get(seg); err != nil {
				return "", false
			}
		}
		return jsText(v)
	}
}

// jsText is the text of a JSON value: strings as they are, numbers and
// booleans as JavaScript prints them, objects and arrays as JSON.
func jsText(v safejs.Value) (string, bool) {
	switch v.Type() {
	case safejs.TypeString:
		s, err := v.String()
		return s, err == nil
	case safejs.TypeNumber, safejs.TypeBoolean:
		str, err := global("String")
		if err != nil {
			return "", false
		}
		s, err := str.Invoke(v)
		if err != nil {
			return "", false
		}
		out, err := s.String()
		return out, err == nil
	case safejs.TypeObject:
		if v.IsNull() {
			return "", false
		}
		j, err := global("JSON")
		if err != nil {
			return "", false
		}
		s, err := j.Call("stringify", v)
		if err != nil || s.Type() != safejs.TypeString {
			return "", false
		}
		out, err := s.String()
		return out, err == nil
	}
	return "", false
}

// TemplateFromElement reads a template from the page: the content of a
// <template> element (or the children of any other element), already
// parsed by the browser, sanitized with the same allow-list as ParseTemplate.
func TemplateFromElement(el safejs.Value) (*Template, error) {
	root := el
	if content, err := el.Get("content"); err == nil && content.Type() == safejs.TypeObject && !content.IsNull() {
		root = content
	}
	b := newTreeBuilder()
	b.keepPlaceholders = true
	if err := walkDOM(root, b, 0); err != nil {
		return nil, err
	}
	return templateOf(b), nil
}

// walkDOM feeds the children of n to b as tokens.
func walkDOM(n safejs.Value, b *treeBuilder, depth int) error {
	if depth > maxDepth {
		return nil
	}
	kids, err := n.Get("childNodes")
	if err != nil {
		return jsErr("childNodes", err)
	}
	count := getInt(kids, "length", 0)
	for i := 0; i < count; i++ {
		k, err := kids.Index(i)
		if err != nil {
			return jsErr("childNodes[i]", err)
		}
		switch getInt(k, "nodeType", 0) {
		case 1: // element
			name := lowerASCII(getString(k, "localName"))
			b.add(token{kind: tokStart, name: name, attrs: domAttrs(k)})
			if err := walkDOM(k, b, depth+1); err != nil {
				return err
			}
			if !isVoidElement(name) {
				b.add(token{kind: tokEnd, name: name})
			}
		case 3: // text
			b.add(token{kind: tokText, text: getString(k, "data")})
		}
	}
	return nil
}

func domAttrs(el safejs.Value) []Attr {
	list, err := el.Get("attributes")
	if err != nil {
		return nil
	}
	n := getInt(list, "length", 0)
	attrs := make([]Attr, 0, n)
	for i := 0; i < n; i++ {
		a, err := list.Index(i)
		if err != nil {
			continue
		}
		attrs = append(attrs, Attr{Name: lowerASCII(getString(a, "name")), Value: getString(a, "value")})
	}
	return attrs
}
