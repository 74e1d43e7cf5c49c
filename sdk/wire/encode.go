package wire

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"
)

// AppendEvent appends the encoded frame of e to dst: comment lines, id,
// event, retry, data lines and the blank line that dispatches the event.
//
// An ID or Type containing CR, LF or NUL returns dst unchanged and an error
// wrapping ErrInvalidID or ErrInvalidType: stripping the bytes would deliver
// a different value without anyone noticing. Data and Comment may hold any
// text; their line breaks (LF, CR, CRLF, in any mix) become several lines,
// which a receiver joins with LF. No input can produce an extra field or an
// extra event.
//
// The server encodes each event once and shares the bytes between its
// connections, so AppendEvent does not allocate when dst has room for the
// frame.
func AppendEvent(dst []byte, e Event) ([]byte, error) {
	if i := invalidFieldByte(e.ID); i >= 0 {
		return dst, fmt.Errorf("%w: byte %d is %q", ErrInvalidID, i, e.ID[i])
	}
	if i := invalidFieldByte(e.Type); i >= 0 {
		return dst, fmt.Errorf("%w: byte %d is %q", ErrInvalidType, i, e.Type[i])
	}
	// Room for the common case of no line breaks: one allocation at most.
	dst = slices.Grow(dst, len(e.Comment)+len(e.ID)+len(e.Type)+len(e.Data)+48)
	if e.Comment != "" {
		dst = appendLines(dst, "", e.Comment)
	}
	if e.ID != "" {
		dst = appendField(dst, FieldID, e.ID)
	}
	if e.Type != "" {
		dst = appendField(dst, FieldEvent, e.Type)
	}
	if e.Retry > 0 {
		dst = appendRetryField(dst, e.Retry)
	}
	dst = appendLines(dst, FieldData, e.Data)
	return append(dst, '\n'), nil
}

// AppendComment appends text as comment lines (": text\n"), one per line of
// text; an empty text gives one empty comment line. Browsers ignore comments,
// which makes them the heartbeat that keeps idle proxies from closing the
// stream (": ping").
//
// No blank line is written, so the lines belong to the block of the next
// frame (a Parser reports them in that event's Comment). To make a comment a
// block of its own, append a '\n' after it: a block without data dispatches
// nothing.
func AppendComment(dst []byte, text string) []byte {
	return appendLines(dst, "", text)
}

// AppendRetry appends "retry: N\n\n", N being d in whole milliseconds (a
// negative d is written as 0). The blank line ends the block; with no data in
// it, it dispatches nothing, so the frame only sets the client's reconnection
// time.
func AppendRetry(dst []byte, d time.Duration) []byte {
	return append(appendRetryField(dst, max(d, 0)), '\n')
}

// appendField appends "name: value\n", or "name:\n" for an empty value. The
// parser removes one space after the colon, so a value that starts with a
// space keeps it.
func appendField(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	if value == "" {
		return append(dst, ':', '\n')
	}
	dst = append(dst, ':', ' ')
	dst = append(dst, value...)
	return append(dst, '\n')
}

// appendLines appends one field line per line of text; an empty name makes
// comment lines. CR, LF and CRLF all end a line, as they do for the parser.
func appendLines(dst []byte, name, text string) []byte {
	for {
		i := indexLineBreak(text)
		if i < 0 {
			return appendField(dst, name, text)
		}
		dst = appendField(dst, name, text[:i])
		if text[i] == '\r' && i+1 < len(text) && text[i+1] == '\n' {
			i++
		}
		text = text[i+1:]
	}
}

func appendRetryField(dst []byte, d time.Duration) []byte {
	dst = append(dst, FieldRetry+": "...)
	dst = strconv.AppendInt(dst, int64(d/time.Millisecond), 10)
	return append(dst, '\n')
}

// maxRetainedBuffer is the largest buffer an Encoder or Parser keeps between
// events, so one huge event does not pin its memory for the life of a
// connection.
const maxRetainedBuffer = 64 << 10

// Encoder writes events to an io.Writer, reusing one buffer.
// It is not safe for concurrent use.
type Encoder struct {
	w   io.Writer
	buf []byte
}

// NewEncoder returns an Encoder that writes to w.
func NewEncoder(w io.Writer) *Encoder {
	return &Encoder{w: w}
}

// Encode writes the frame of ev in a single Write call, so a frame is never
// interleaved with other writes to w. It returns AppendEvent's validation
// errors without writing anything. Flushing is the caller's business.
func (e *Encoder) Encode(ev Event) error {
	buf, err := AppendEvent(e.buf[:0], ev)
	if err != nil {
		return err
	}
	_, err = e.w.Write(buf)
	if cap(buf) <= maxRetainedBuffer {
		e.buf = buf
	}
	return err
}
