//go:build js && wasm

package sdk

import (
	"errors"
	"fmt"

	"github.com/hack-pad/safejs"
)

// ErrJS wraps every failure of a JavaScript call, so callers can tell them
// apart from the SDK's own errors with errors.Is.
var ErrJS = errors.New("ssekit/sdk: javascript call failed")

func jsErr(op string, err error) error {
	return fmt.Errorf("%w: %s: %w", ErrJS, op, err)
}

// global returns a property of globalThis.
func global(name string) (safejs.Value, error) {
	v, err := safejs.Global().Get(name)
	if err != nil {
		return safejs.Undefined(), jsErr("globalThis."+name, err)
	}
	return v, nil
}

// newObject returns a fresh JS object with the given string/number/bool or
// safejs.Value properties.
func newObject(props map[string]any) (safejs.Value, error) {
	ctor, err := global("Object")
	if err != nil {
		return safejs.Undefined(), err
	}
	obj, err := ctor.New()
	if err != nil {
		return safejs.Undefined(), jsErr("new Object", err)
	}
	for k, v := range props {
		if err := obj.Set(k, v); err != nil {
			return safejs.Undefined(), jsErr("set "+k, err)
		}
	}
	return obj, nil
}

// jsonParse decodes with the browser's JSON.parse, which keeps
// encoding/json (and its reflection) out of the wasm.
func jsonParse(s string) (safejs.Value, error) {
	j, err := global("JSON")
	if err != nil {
		return safejs.Undefined(), err
	}
	v, err := j.Call("parse", s)
	if err != nil {
		return safejs.Undefined(), jsErr("JSON.parse", err)
	}
	return v, nil
}

// getString reads a string property, "" when absent.
func getString(v safejs.Value, name string) string {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeString {
		return ""
	}
	s, _ := p.String()
	return s
}

// getInt reads a number property, def when absent or not a number.
func getInt(v safejs.Value, name string, def int) int {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeNumber {
		return def
	}
	n, err := p.Int()
	if err != nil {
		return def
	}
	return n
}

// getBool reads a boolean property, def when absent.
func getBool(v safejs.Value, name string, def bool) bool {
	p, err := v.Get(name)
	if err != nil || p.Type() != safejs.TypeBoolean {
		return def
	}
	b, _ := p.Bool()
	return b
}
