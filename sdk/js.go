//go:build js && wasm

package sdk

import (
	"errors"
	"sync"

	"github.com/hack-pad/safejs"
)

// ErrJS wraps every failure of a JavaScript call, so callers can tell them
// apart from the SDK's own errors with errors.Is.
var ErrJS = errors.New("ssekit/sdk: javascript call failed")

func jsErr(op string, err error) error {
	return &callError{op: op, err: err}
}

// callError is a failed JavaScript call: "ErrJS: op: err", matching both
// ErrJS and err with errors.Is and errors.As. (Not fmt.Errorf: fmt would
// bring its printer and reflect into the wasm.)
type callError struct {
	op  string
	err error
}

func (e *callError) Error() string   { return ErrJS.Error() + ": " + e.op + ": " + e.err.Error() }
func (e *callError) Unwrap() []error { return []error{ErrJS, e.err} }

// global returns a property of globalThis.
func global(name string) (safejs.Value, error) {
	v, err := safejs.Global().Get(name)
	if err != nil {
		return safejs.Undefined(), jsErr("globalThis."+name, err)
	}
	return v, nil
}

// newObject returns a fresh JS object with the given properties: name,
// value, name, value, ... (values are strings, numbers, bools or
// safejs.Values).
func newObject(props ...any) (safejs.Value, error) {
	ctor, err := global("Object")
	if err != nil {
		return safejs.Undefined(), err
	}
	obj, err := ctor.New()
	if err != nil {
		return safejs.Undefined(), jsErr("new Object", err)
	}
	for i := 0; i+1 < len(props); i += 2 {
		k, _ := props[i].(string)
		if err := obj.Set(k, props[i+1]); err != nil {
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

// ErrNoLoader is returned by Connect and Bind in a page without
// www/ssekit.js, whose helpers (SSEKit.__io) carry events and DOM batches
// across the JS/Go boundary.
var ErrNoLoader = errors.New("ssekit/sdk: SSEKit.__io is missing: load ssekit.js first")

// loaderIO returns the helpers www/ssekit.js leaves in SSEKit.__io (see
// there), through which the SDK crosses into JS once per batch of events.
// ok is false when the page has not loaded ssekit.js.
func loaderIO() (io safejs.Value, ok bool) {
	ioOnce.Do(func() {
		kit, err := global("SSEKit")
		if err != nil || kit.Type() != safejs.TypeObject || kit.IsNull() {
			return
		}
		v, err := kit.Get("__io")
		if err != nil || v.Type() != safejs.TypeObject || v.IsNull() {
			return
		}
		ioValue, ioOK = v, true
	})
	return ioValue, ioOK
}

var (
	ioOnce  sync.Once
	ioValue safejs.Value
	ioOK    bool
)
