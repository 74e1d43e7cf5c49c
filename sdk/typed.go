//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"encoding/json"
	"reflect"
)

// DecodeError is a payload that did not decode into a handler's type. The
// client's error listeners get it inside a *HandlerError that carries the
// event.
type DecodeError struct {
	Type string // the Go type wanted
	Err  error
}

func (e *DecodeError) Error() string {
	return "ssekit/sdk: decode payload as " + e.Type + ": " + e.Err.Error()
}

func (e *DecodeError) Unwrap() error { return e.Err }

// On registers fn for events of typ with the payload decoded into a T:
// JSON through encoding/json, or the raw payload when T is string. A
// payload that does not decode goes to the client's error listeners as a
// *HandlerError wrapping a *DecodeError, with the event attached; fn is
// not called and nothing panics. The returned function removes fn.
//
// This file is the SDK's only import of encoding/json, whose package
// initialisation (with fmt's, reflect's and os's) a wasm carries even when
// On is never called; the JS API's build (-tags ssekit_jsapi, see
// clock_jsapi.go) leaves On out.
func On[T any](c *Client, typ string, fn func(T)) (func(), error) {
	return c.On(typ, func(ev Event) error {
		var v T
		if s, ok := any(&v).(*string); ok {
			*s = ev.Data
		} else if err := json.Unmarshal([]byte(ev.Data), &v); err != nil {
			return &DecodeError{Type: reflect.TypeFor[T]().String(), Err: err}
		}
		fn(v)
		return nil
	})
}
