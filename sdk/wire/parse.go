package wire

import (
	"bufio"
	"bytes"
	"io"
	"math"
	"time"
)

// bom is the UTF-8 byte order mark, which the UTF-8 decoder strips once at
// the start of a stream.
const bom = "\xEF\xBB\xBF"

// maxRetry is the largest reconnection time the parser reports: the largest
// whole number of milliseconds a time.Duration holds. Larger values are
// clamped to it, so encoding a parsed event and parsing it again gives the
// same value.
const maxRetry = time.Duration(math.MaxInt64/int64(time.Millisecond)) * time.Millisecond

// maxInternedTypes bounds the event type strings a Parser reuses. Streams use
// a handful of types, so interning them saves an allocation per event; the
// bound keeps a stream of ever-new types from growing the table.
const maxInternedTypes = 64

// Parser reads events from a stream the way a browser's EventSource does
// ("Parsing an event stream" and "Interpreting an event stream" in the WHATWG
// HTML standard). It reads through a bufio.Reader and never reads ahead of
// the blank line that dispatches an event, so a live stream's events arrive
// as soon as their bytes do.
//
// Create one with NewParser; a Parser is not safe for concurrent use.
type Parser struct {
	// MaxEventBytes bounds the bytes buffered for one line or one event: the
	// line being read plus the event's data (with its line feeds), type and
	// comments, as decoded. 0 means unlimited. Exceeding it makes Next return
	// ErrEventTooLarge. Set it before the first call to Next.
	MaxEventBytes int

	r *bufio.Reader
	// err is returned by every Next after the first error: the stream is
	// either over or in a state the parser cannot resume from.
	err error

	started bool // the first line has been read (and its BOM stripped)
	skipLF  bool // the last line ended with CR: a following LF belongs to it
	line    []byte

	// The buffers of the block being read.
	data       []byte
	typ        []byte
	comment    []byte
	hasComment bool
	blockRetry time.Duration

	idBuf    string // the last event ID buffer
	lastID   string // the last event ID string, set at each dispatch
	retry    time.Duration
	hasRetry bool

	types map[string]string
}

// NewParser returns a Parser that reads the stream from r.
func NewParser(r io.Reader) *Parser {
	return &Parser{r: bufio.NewReader(r)}
}

// Next returns the next dispatched event, and io.EOF at the end of the
// stream: an event not ended by a blank line is discarded, as the standard
// requires. A dispatched event has:
//
//   - Type: the block's event field, or DefaultEventType;
//   - Data: the block's data lines joined with LF;
//   - ID: the last event ID at dispatch time, which persists across events
//     (like EventSource's lastEventId) until an id field changes it;
//   - Retry: the block's last valid retry field, or 0;
//   - Comment: the block's comment lines (one leading space removed, like a
//     field value) joined with LF.
//
// A block without data dispatches nothing, but its id and retry fields still
// take effect. After an error, Next returns the same error again.
func (p *Parser) Next() (Event, error) {
	if p.err != nil {
		return Event{}, p.err
	}
	for {
		line, err := p.readLine()
		if err != nil {
			p.err = err
			return Event{}, err
		}
		ev, ok := p.processLine(line)
		if p.tooLarge(0) {
			p.err = ErrEventTooLarge
			return Event{}, p.err
		}
		if ok {
			return ev, nil
		}
	}
}

// LastEventID returns the last event ID as of the last blank line: what a
// browser would send as Last-Event-ID if the stream broke now.
func (p *Parser) LastEventID() string {
	return p.lastID
}

// Retry reports the last valid retry value seen on the stream. Like the
// browser's reconnection time, it takes effect as soon as its line is read,
// even if the block never dispatches.
func (p *Parser) Retry() (time.Duration, bool) {
	return p.retry, p.hasRetry
}

// readLine returns the next line without its line end. The slice is valid
// until the next call: it points into the bufio.Reader's buffer when the line
// is there whole, and into p.line when it spans reads.
func (p *Parser) readLine() ([]byte, error) {
	if cap(p.line) > maxRetainedBuffer {
		p.line = nil
	}
	p.line = p.line[:0]
	for {
		buf, err := p.buffered()
		if err != nil {
			// A line not ended before EOF is part of an unfinished event.
			return nil, err
		}
		if p.skipLF {
			p.skipLF = false
			if buf[0] == '\n' {
				p.discard(1)
				if buf = buf[1:]; len(buf) == 0 {
					continue
				}
			}
		}
		i := indexLineEnd(buf)
		if i < 0 {
			if p.tooLarge(len(p.line) + len(buf)) {
				return nil, ErrEventTooLarge
			}
			p.line = append(p.line, buf...)
			p.discard(len(buf))
			continue
		}
		line := buf[:i]
		if len(p.line) > 0 {
			p.line = append(p.line, line...)
			line = p.line
		}
		if p.tooLarge(len(line)) {
			return nil, ErrEventTooLarge
		}
		// A CR at the end of the buffer may be followed by an LF in the next
		// read. Remember it instead of reading ahead, which could block a
		// live stream that ends its lines with CR.
		p.skipLF = buf[i] == '\r'
		p.discard(i + 1)
		if !p.started {
			p.started = true
			line = bytes.TrimPrefix(line, []byte(bom))
		}
		return line, nil
	}
}

// buffered returns the bytes buffered in the reader, reading once if there
// are none. It returns at least one byte, or an error.
func (p *Parser) buffered() ([]byte, error) {
	n := p.r.Buffered()
	if n == 0 {
		if _, err := p.r.Peek(1); err != nil {
			return nil, err
		}
		n = p.r.Buffered()
	}
	buf, _ := p.r.Peek(n)
	return buf, nil
}

// discard drops n bytes the caller has seen in the buffer. It cannot fail:
// n is never more than what is buffered.
func (p *Parser) discard(n int) {
	_, _ = p.r.Discard(n)
}

// tooLarge reports whether the block's buffers plus extra bytes exceed
// MaxEventBytes.
func (p *Parser) tooLarge(extra int) bool {
	return p.MaxEventBytes > 0 &&
		len(p.data)+len(p.typ)+len(p.comment)+extra > p.MaxEventBytes
}

// processLine applies one line to the parser's state, and returns the event
// if the line dispatched one.
func (p *Parser) processLine(line []byte) (Event, bool) {
	if len(line) == 0 {
		return p.dispatch()
	}
	if line[0] == ':' {
		if p.hasComment {
			p.comment = append(p.comment, '\n')
		}
		p.hasComment = true
		p.comment = appendText(p.comment, trimSpace(line[1:]))
		return Event{}, false
	}
	name, value, _ := bytes.Cut(line, []byte{':'})
	value = trimSpace(value)
	switch string(name) {
	case FieldData:
		p.data = appendText(p.data, value)
		p.data = append(p.data, '\n')
	case FieldEvent:
		p.typ = appendText(p.typ[:0], value)
	case FieldID:
		// An id with NUL is ignored: browsers do so to keep NUL out of the
		// Last-Event-ID header.
		if bytes.IndexByte(value, 0) < 0 && string(value) != p.idBuf {
			p.idBuf = textString(value)
		}
	case FieldRetry:
		if d, ok := parseRetry(value); ok {
			p.retry, p.hasRetry = d, true
			p.blockRetry = d
		}
	}
	return Event{}, false
}

// dispatch ends the block, following "dispatch the event" of the standard.
func (p *Parser) dispatch() (Event, bool) {
	p.lastID = p.idBuf
	defer p.resetBlock()
	if len(p.data) == 0 {
		return Event{}, false
	}
	ev := Event{
		ID:    p.lastID,
		Type:  p.eventType(),
		Data:  string(p.data[:len(p.data)-1]), // every data line ends with LF
		Retry: p.blockRetry,
	}
	if len(p.comment) > 0 {
		ev.Comment = string(p.comment)
	}
	return ev, true
}

func (p *Parser) resetBlock() {
	if cap(p.data) > maxRetainedBuffer {
		p.data = nil // one huge event should not pin its memory for the stream's life
	}
	p.data = p.data[:0]
	p.typ = p.typ[:0]
	p.comment = p.comment[:0]
	p.hasComment = false
	p.blockRetry = 0
}

// eventType returns the block's type as a string, reusing the strings of
// types seen before.
func (p *Parser) eventType() string {
	if len(p.typ) == 0 {
		return DefaultEventType
	}
	if s, ok := p.types[string(p.typ)]; ok {
		return s
	}
	s := string(p.typ)
	if len(p.types) < maxInternedTypes {
		if p.types == nil {
			p.types = make(map[string]string)
		}
		p.types[s] = s
	}
	return s
}

// trimSpace removes the one space the standard allows after a colon.
func trimSpace(b []byte) []byte {
	if len(b) > 0 && b[0] == ' ' {
		return b[1:]
	}
	return b
}

// parseRetry reads a retry value: ASCII digits only, in milliseconds. An
// empty value is ignored, as browsers do. A value too large for a
// time.Duration is clamped rather than ignored: the server asked for a very
// long wait, and that is what it gets.
func parseRetry(b []byte) (time.Duration, bool) {
	if len(b) == 0 {
		return 0, false
	}
	const limit = int64(maxRetry / time.Millisecond)
	var ms int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		if ms <= limit {
			ms = ms*10 + int64(c-'0')
		}
	}
	if ms > limit {
		return maxRetry, true
	}
	return time.Duration(ms) * time.Millisecond, true
}
