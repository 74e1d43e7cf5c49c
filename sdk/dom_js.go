//go:build js && wasm

package sdk

import (
	"errors"
	"sync"

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
		return nil, join(ErrNoElement, errors.New("ssekit/sdk: selector "+selector))
	}
	return c.BindElement(el, typ, opts)
}

// BindElement renders every event of typ into el. In ModeText each event
// becomes a text node inside a plain wrapper element; in ModeSanitizedHTML
// the data goes through Sanitize and the resulting tree is built node by
// node; with a Template, the template's tree is built with the event's
// fields as text. The nodes of a batch of events are built by ssekit.js
// (SSEKit.__io.apply) with createElement, createTextNode and setAttribute
// only: no markup is ever assigned to the DOM, so no string from the
// network is parsed by the browser.
func (c *Client) BindElement(el safejs.Value, typ string, opts BindOptions) (func(), error) {
	if opts.Insert == "" {
		opts.Insert = InsertAppend
	}
	io, ok := loaderIO()
	if !ok {
		return nil, ErrNoLoader
	}
	b := &binding{c: c, io: io, el: el, opts: opts, tag: wrapperTag(getString(el, "tagName"))}
	return c.On(typ, b.add)
}

// binding is a bound element whose events are rendered in batches: add
// collects the nodes of each event, flushDOM hands them to
// SSEKit.__io.apply once per batch of events, which builds them with
// createElement, createTextNode and setAttribute only.
type binding struct {
	c    *Client
	io   safejs.Value
	el   safejs.Value
	opts BindOptions
	tag  string

	mu      sync.Mutex
	out     renderBuf
	pending bool // in dirty
}

func (b *binding) add(ev Event) error {
	var nodes []*Node
	ref := -1
	tag := b.tag
	switch {
	case b.opts.Template != nil:
		nodes, tag = b.opts.Template.Render(eventLookup(ev)), ""
	case b.opts.Mode == ModeSanitizedHTML:
		nodes = Sanitize(ev.Data)
	default:
		if ref = batchRef(ev.Data); ref < 0 {
			nodes = []*Node{{Text: ev.Data}}
		}
	}
	b.mu.Lock()
	b.out.add(tag, nodes, ref)
	queue := !b.pending
	b.pending = true
	b.mu.Unlock()
	if queue {
		dirty.mu.Lock()
		dirty.list = append(dirty.list, b)
		dirty.mu.Unlock()
	}
	return nil
}

// dirty lists the bindings with nodes not yet rendered, in the order they
// got them.
var dirty struct {
	mu   sync.Mutex
	list []*binding
}

// flushDOM renders what bound elements collected. It runs at the end of
// every batch and before any call into the page's own functions (handlers,
// listeners), so those always see every earlier event rendered.
func flushDOM() {
	for {
		dirty.mu.Lock()
		if len(dirty.list) == 0 {
			dirty.mu.Unlock()
			return
		}
		b := dirty.list[0]
		dirty.list[0] = nil
		dirty.list = dirty.list[1:]
		dirty.mu.Unlock()
		b.flush()
	}
}

func (b *binding) flush() {
	b.mu.Lock()
	batch := b.out.take()
	b.pending = false
	b.mu.Unlock()
	if batch == "" {
		return
	}
	insert := 0
	switch b.opts.Insert {
	case InsertPrepend:
		insert = 1
	case InsertReplace:
		insert = 2
	}
	if _, err := b.io.Call("apply", b.el, insert, b.opts.Max, batch); err != nil {
		b.c.reportError(jsErr("render", err))
	}
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
