package server

import (
	"fmt"
	"log/slog"
)

// redacted is what a Secret shows instead of its value.
const redacted = "[redacted]"

// Secret is a credential: an HMAC key, a publish key or a token. It logs,
// prints and marshals as "[redacted]", so passing one to a logger or an
// error by mistake leaks nothing. string(s) is the value.
type Secret string

// LogValue keeps the value out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps the value out of %v and %s.
func (Secret) String() string { return redacted }

// GoString keeps the value out of %#v.
func (Secret) GoString() string { return redacted }

// Format keeps the value out of every fmt verb, %q and %x included.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(redacted)) }

// MarshalText keeps the value out of JSON and other encodings.
func (Secret) MarshalText() ([]byte, error) { return []byte(redacted), nil }
