//go:build js && wasm

package sdk

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// ErrNoElement is returned by Bind when the selector matches nothing.
var ErrNoElement = errors.New("ssekit/sdk: selector matches no element")

// Bind renders every event of typ into the element matched by selector, as
// text only: each event becomes a text node inside a plain wrapper element,
// built with createElement and createTextNode. No markup from the network is
// ever parsed.
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
		return nil, fmt.Errorf("%w: %q", ErrNoElement, selector)
	}
	if opts.Insert == "" {
		opts.Insert = InsertAppend
	}
	tag := wrapperTag(getString(el, "tagName"))
	return c.On(typ, func(ev Event) error {
		return insertText(doc, el, tag, ev.Data, opts)
	})
}

func insertText(doc, el safejs.Value, tag, text string, opts BindOptions) error {
	node, err := doc.Call("createTextNode", text)
	if err != nil {
		return jsErr("createTextNode", err)
	}
	if tag != "" {
		wrap, err := doc.Call("createElement", tag)
		if err != nil {
			return jsErr("createElement", err)
		}
		if _, err := wrap.Call("appendChild", node); err != nil {
			return jsErr("appendChild", err)
		}
		node = wrap
	}
	return place(el, node, opts)
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
