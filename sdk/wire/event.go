package wire

import (
	"errors"
	"time"
)

// Field names, shared by the encoder and the parser so the two cannot drift
// apart.
const (
	FieldData  = "data"
	FieldEvent = "event"
	FieldID    = "id"
	FieldRetry = "retry"
)

// DefaultEventType is the type a parser gives an event with no event field,
// as a browser's EventSource does.
const DefaultEventType = "message"

var (
	ErrInvalidID     = errors.New("ssekit/wire: id contains CR, LF or NUL")
	ErrInvalidType   = errors.New("ssekit/wire: event type contains CR, LF or NUL")
	ErrEventTooLarge = errors.New("ssekit/wire: event exceeds the parser's size limit")
)

// Event is one SSE event, as the encoder writes it and as the parser
// dispatches it.
type Event struct {
	// ID is written as the id field when not empty. A parsed event carries the
	// stream's last event ID at dispatch time, which persists across events.
	ID string
	// Type is written as the event field when not empty. A parsed event has
	// DefaultEventType when its block had no (or an empty) event field.
	Type string
	// Data is always written, as at least one data line: an empty string is a
	// valid event. Line breaks (LF, CR, CRLF) split it into several data
	// lines, which a receiver joins with LF.
	Data string
	// Retry is written as whole milliseconds when > 0. A parsed event carries
	// the valid retry field of its own block, or 0.
	Retry time.Duration
	// Comment is written as comment lines (": text") before the fields when
	// not empty. Browsers ignore comments; the parser joins a block's comment
	// lines with LF.
	Comment string
}

// ValidField reports whether s may be used as an id or event type: a value
// with CR or LF would end its line early, and browsers ignore an id with NUL.
func ValidField(s string) bool {
	return invalidFieldByte(s) < 0
}

// invalidFieldByte returns the index of the first CR, LF or NUL in s, or -1.
func invalidFieldByte(s string) int {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\r', '\n', 0:
			return i
		}
	}
	return -1
}
