package sdk

// Event is one event as dispatched to handlers.
type Event struct {
	Type string // event type; "message" when the server sent none
	ID   string // the stream's last event id when this event arrived
	Data string // the payload as sent, line breaks as LF
}

// Decode says how a handler wants its payload.
type Decode string

// Decode modes: DecodeAuto decodes JSON objects and arrays and leaves any
// other payload a string; DecodeJSON always decodes (a failure is an error);
// DecodeText never decodes.
const (
	DecodeAuto Decode = "auto"
	DecodeJSON Decode = "json"
	DecodeText Decode = "text"
)

// ParseDecode reads a decode option; "" means DecodeAuto.
func ParseDecode(s string) (Decode, bool) {
	switch Decode(s) {
	case "", DecodeAuto:
		return DecodeAuto, true
	case DecodeJSON, DecodeText:
		return Decode(s), true
	}
	return "", false
}

// WantsJSON reports whether a payload should go through a JSON decoder under
// mode d. Under DecodeAuto only payloads that look like an object or an
// array are decoded, so "42" or "true" stay strings.
func (d Decode) WantsJSON(data string) bool {
	switch d {
	case DecodeJSON:
		return true
	case DecodeText:
		return false
	}
	s := trimLeftBytes(data, " \t\r\n")
	return s != "" && (s[0] == '{' || s[0] == '[')
}

// Control event types the server sends; see the design's "Event ids and
// control events".
const (
	EventConnected = "connected"
	EventReconnect = "reconnect"
	EventEnd       = "end"
	EventReset     = "reset"
	EventMessage   = "message"
	EventAny       = "*"
)

// findError is errors.As for the SDK's own error types, which have no As
// method: the first error in err's tree (Unwrap() error and Unwrap()
// []error, depth first) that is a T. errors.As needs reflection
// (internal/reflectlite, about 30 KB of wasm code) to do the same.
func findError[T error](err error) (T, bool) {
	for err != nil {
		if t, ok := err.(T); ok {
			return t, true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if t, ok := findError[T](e); ok {
					return t, true
				}
			}
			err = nil
		default:
			err = nil
		}
	}
	var zero T
	return zero, false
}
