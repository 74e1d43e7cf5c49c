package wire

import (
	"errors"
	"io"
	"strings"
	"testing/iotest"
	"time"
)

// chunkReader returns its chunks one Read at a time, so a test controls
// where the reads split the stream.
type chunkReader struct {
	chunks []string
	err    error // returned once the chunks are used up; io.EOF if nil
}

func (r *chunkReader) Read(p []byte) (int, error) {
	for len(r.chunks) > 0 && r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	if len(r.chunks) == 0 {
		if r.err != nil {
			return 0, r.err
		}
		return 0, io.EOF
	}
	n := copy(p, r.chunks[0])
	r.chunks[0] = r.chunks[0][n:]
	return n, nil
}

// readers returns the ways every parser test feeds a stream: the chunks as
// given, whole, one byte at a time, and whole with EOF on the last read.
func readers(chunks []string) map[string]func() io.Reader {
	whole := strings.Join(chunks, "")
	return map[string]func() io.Reader{
		"chunks": func() io.Reader { return &chunkReader{chunks: append([]string(nil), chunks...)} },
		"whole":  func() io.Reader { return strings.NewReader(whole) },
		"bytes":  func() io.Reader { return iotest.OneByteReader(strings.NewReader(whole)) },
		"dataEOF": func() io.Reader {
			return iotest.DataErrReader(strings.NewReader(whole))
		},
	}
}

// parseAll returns the events of a stream, the parser's final state, and
// the error that ended it if it was not io.EOF.
func parseAll(r io.Reader) ([]Event, *Parser, error) {
	p := NewParser(r)
	var evs []Event
	for {
		ev, err := p.Next()
		if errors.Is(err, io.EOF) {
			return evs, p, nil
		}
		if err != nil {
			return evs, p, err
		}
		evs = append(evs, ev)
	}
}

// wantParsed is what a Parser gives back for an event AppendEvent encoded:
// line breaks come back as LF, invalid UTF-8 as U+FFFD, the type defaults to
// "message" and the retry is whole milliseconds.
func wantParsed(e Event) Event {
	w := Event{
		ID:      textString([]byte(e.ID)),
		Type:    textString([]byte(e.Type)),
		Data:    normLines(e.Data),
		Comment: normLines(e.Comment),
	}
	if w.Type == "" {
		w.Type = DefaultEventType
	}
	if e.Retry > 0 {
		w.Retry = e.Retry.Truncate(time.Millisecond)
	}
	return w
}

func normLines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return textString([]byte(s))
}
