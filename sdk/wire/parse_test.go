package wire

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func msg(data string) Event { return Event{Type: DefaultEventType, Data: data} }

type parseCase struct {
	name      string
	chunks    []string // the stream, split into reads
	want      []Event
	lastID    string        // LastEventID at the end
	retry     time.Duration // Retry at the end
	haveRetry bool
}

// parseCases are the standard's own examples plus the corners of line
// splitting, fields and dispatch. They also seed FuzzParser.
var parseCases = []parseCase{
	// "Interpreting an event stream" examples.
	{
		name:   "spec_stockTicker",
		chunks: []string{"data: YHOO\ndata: +2\ndata: 10\n\n"},
		want:   []Event{msg("YHOO\n+2\n10")},
	},
	{
		name: "spec_testStream",
		chunks: []string{": test stream\n\ndata: first event\nid: 1\n\n" +
			"data:second event\nid\n\ndata:  third event\n\n"},
		want: []Event{
			{Type: "message", Data: "first event", ID: "1"},
			{Type: "message", Data: "second event"},
			{Type: "message", Data: " third event"},
		},
	},
	{
		// The last block still needs its blank line: EOF does not dispatch.
		name: "spec_testStream_noFinalBlankLine",
		chunks: []string{": test stream\n\ndata: first event\nid: 1\n\n" +
			"data:second event\nid\n\ndata:  third event\n"},
		want: []Event{
			{Type: "message", Data: "first event", ID: "1"},
			{Type: "message", Data: "second event"},
		},
	},
	{
		// "data" and "data:" are the same field with an empty value; two data
		// lines make one newline. The last block has no blank line.
		name:   "spec_emptyData",
		chunks: []string{"data\n\ndata\ndata\n\ndata:"},
		want:   []Event{msg(""), msg("\n")},
	},
	{
		name:   "spec_emptyData_withFinalBlankLine",
		chunks: []string{"data\n\ndata\ndata\n\ndata:\n\n"},
		want:   []Event{msg(""), msg("\n"), msg("")},
	},
	{
		// One space after the colon is ignored: two identical events.
		name:   "spec_leadingSpace",
		chunks: []string{"data:test\n\ndata: test\n\n"},
		want:   []Event{msg("test"), msg("test")},
	},
	{
		name: "spec_eventTypes",
		chunks: []string{"event: add\ndata: 73857293\n\nevent: remove\ndata: 2153\n\n" +
			"event: add\ndata: 113411\n\n"},
		want: []Event{
			{Type: "add", Data: "73857293"},
			{Type: "remove", Data: "2153"},
			{Type: "add", Data: "113411"},
		},
	},

	// Line ends.
	{name: "lineEnds_LF", chunks: []string{"data: a\ndata: b\n\n"}, want: []Event{msg("a\nb")}},
	{name: "lineEnds_CR", chunks: []string{"data: a\rdata: b\r\r"}, want: []Event{msg("a\nb")}},
	{name: "lineEnds_CRLF", chunks: []string{"data: a\r\ndata: b\r\n\r\n"}, want: []Event{msg("a\nb")}},
	{
		name:   "lineEnds_mixed",
		chunks: []string{"data: a\rdata: b\ndata: c\r\n\rdata: d\n\r\n"},
		want:   []Event{msg("a\nb\nc"), msg("d")},
	},
	{
		// LF CR is two line ends: a blank line between them.
		name:   "lineEnds_LFCR",
		chunks: []string{"data: a\n\rdata: b\n\n"},
		want:   []Event{msg("a"), msg("b")},
	},
	{
		// CR at the end of one read, LF at the start of the next: one line end.
		name:   "splitCRLF",
		chunks: []string{"data: a\r", "\ndata: b\r", "\n\r", "\n"},
		want:   []Event{msg("a\nb")},
	},
	{
		name:   "splitCRCR",
		chunks: []string{"data: a\r", "\rdata: b\r", "\r"},
		want:   []Event{msg("a"), msg("b")},
	},
	{
		name:   "splitCRLF_lineAcrossReads",
		chunks: []string{"da", "ta: a", "b\r", "\n", "\r", "\n"},
		want:   []Event{msg("ab")},
	},

	// BOM.
	{name: "bom", chunks: []string{bom + "data: a\n\n"}, want: []Event{msg("a")}},
	{name: "bom_split", chunks: []string{"\xEF", "\xBB", "\xBFdata: a\n\n"}, want: []Event{msg("a")}},
	{
		// Only the first BOM is stripped; the second makes an unknown field.
		name:   "bom_twice",
		chunks: []string{bom + bom + "data: a\n\ndata: b\n\n"},
		want:   []Event{msg("b")},
	},
	{
		name:   "bom_notAtStart",
		chunks: []string{"data: a\n\n" + bom + "data: b\n\ndata: c\n\n"},
		want:   []Event{msg("a"), msg("c")},
	},
	{name: "bom_thenBlankLine", chunks: []string{bom + "\ndata: a\n\n"}, want: []Event{msg("a")}},

	// Fields.
	{
		name:   "field_noSpace",
		chunks: []string{"data:a\n\n"},
		want:   []Event{msg("a")},
	},
	{
		name:   "field_twoSpaces",
		chunks: []string{"data:  a\n\n"},
		want:   []Event{msg(" a")},
	},
	{
		name:   "field_colonInValue",
		chunks: []string{"data: a: b:c\n\n"},
		want:   []Event{msg("a: b:c")},
	},
	{
		name:   "field_unknownAndCase",
		chunks: []string{"Data: x\nDATA: x\nfoo: bar\ndata : x\n data: x\ndata: a\n\n"},
		want:   []Event{msg("a")},
	},
	{
		name:   "field_nul",
		chunks: []string{"data: a\x00b\n\n"},
		want:   []Event{msg("a\x00b")},
	},
	{
		name:   "field_nonASCII",
		chunks: []string{"data: 用户支付成功\n\n"},
		want:   []Event{msg("用户支付成功")},
	},
	{
		name:   "field_invalidUTF8",
		chunks: []string{"data: a\xE2\x80\n", "event: \xFFt\ndata: \xF0\x9F\x98\x80\xC0\n\n"},
		want:   []Event{{Type: "\uFFFDt", Data: "a\uFFFD\n😀\uFFFD"}},
	},

	// Event type.
	{
		name:   "event_resetAfterDispatch",
		chunks: []string{"event: a\ndata: 1\n\ndata: 2\n\n"},
		want:   []Event{{Type: "a", Data: "1"}, msg("2")},
	},
	{
		name:   "event_empty",
		chunks: []string{"event: a\nevent:\ndata: 1\n\n"},
		want:   []Event{msg("1")},
	},
	{
		name:   "event_resetByBlockWithoutData",
		chunks: []string{"event: a\n\ndata: 1\n\n"},
		want:   []Event{msg("1")},
	},
	{
		name:   "event_lastWins",
		chunks: []string{"event: a\nevent: b\ndata: 1\n\n"},
		want:   []Event{{Type: "b", Data: "1"}},
	},

	// Id.
	{
		name:   "id_persists",
		chunks: []string{"id: 1\ndata: a\n\ndata: b\n\nid: 2\ndata: c\n\n"},
		want:   []Event{{Type: "message", Data: "a", ID: "1"}, {Type: "message", Data: "b", ID: "1"}, {Type: "message", Data: "c", ID: "2"}},
		lastID: "2",
	},
	{
		name:   "id_nulIgnored",
		chunks: []string{"id: 1\ndata: a\n\nid: 2\x003\ndata: b\n\n"},
		want:   []Event{{Type: "message", Data: "a", ID: "1"}, {Type: "message", Data: "b", ID: "1"}},
		lastID: "1",
	},
	{
		name:   "id_emptyResets",
		chunks: []string{"id: 1\ndata: a\n\nid\ndata: b\n\n"},
		want:   []Event{{Type: "message", Data: "a", ID: "1"}, msg("b")},
	},
	{
		// A block without data still sets the last event ID.
		name:   "id_blockWithoutData",
		chunks: []string{"id: 7\n\ndata: a\n\n"},
		want:   []Event{{Type: "message", Data: "a", ID: "7"}},
		lastID: "7",
	},
	{
		// The id of an unfinished block never becomes the last event ID.
		name:   "id_unfinishedBlock",
		chunks: []string{"id: 1\ndata: a\n\nid: 2\ndata: b\n"},
		want:   []Event{{Type: "message", Data: "a", ID: "1"}},
		lastID: "1",
	},
	{
		name:   "id_spaces",
		chunks: []string{"id:  x \ndata: a\n\n"},
		want:   []Event{{Type: "message", Data: "a", ID: " x "}},
		lastID: " x ",
	},

	// Retry.
	{
		name:   "retry_valid",
		chunks: []string{"retry: 1500\ndata: a\n\ndata: b\n\n"},
		want:   []Event{{Type: "message", Data: "a", Retry: 1500 * time.Millisecond}, msg("b")},
		retry:  1500 * time.Millisecond, haveRetry: true,
	},
	{
		name:   "retry_nonDigits",
		chunks: []string{"retry: 1a\nretry: -1\nretry: 1.5\nretry: +1\nretry:  1\nretry: 1 \nretry: ١\ndata: a\n\n"},
		want:   []Event{msg("a")},
	},
	{
		name:   "retry_empty",
		chunks: []string{"retry\nretry:\ndata: a\n\n"},
		want:   []Event{msg("a")},
	},
	{
		name:   "retry_invalidKeepsPrevious",
		chunks: []string{"retry: 10\n\nretry: x\ndata: a\n\n"},
		want:   []Event{msg("a")},
		retry:  10 * time.Millisecond, haveRetry: true,
	},
	{
		name:   "retry_zero",
		chunks: []string{"retry: 0\ndata: a\n\n"},
		want:   []Event{msg("a")},
		retry:  0, haveRetry: true,
	},
	{
		name:   "retry_leadingZeros",
		chunks: []string{"retry: 007\ndata: a\n\n"},
		want:   []Event{{Type: "message", Data: "a", Retry: 7 * time.Millisecond}},
		retry:  7 * time.Millisecond, haveRetry: true,
	},
	{
		name:   "retry_hugeClamped",
		chunks: []string{"retry: 99999999999999999999999999\ndata: a\n\n"},
		want:   []Event{{Type: "message", Data: "a", Retry: maxRetry}},
		retry:  maxRetry, haveRetry: true,
	},
	{
		// The reconnection time is set when the line is read, even if the
		// block never dispatches.
		name:   "retry_unfinishedBlock",
		chunks: []string{"retry: 5\n"},
		retry:  5 * time.Millisecond, haveRetry: true,
	},
	{
		// An unfinished line is not a line.
		name:   "retry_unfinishedLine",
		chunks: []string{"retry: 5"},
	},

	// Comments.
	{
		name:   "comment_lines",
		chunks: []string{":a\n: b\n:  c\n:\ndata: x\n\n"},
		want:   []Event{{Type: "message", Data: "x", Comment: "a\nb\n c\n"}},
	},
	{
		name:   "comment_blockWithoutData",
		chunks: []string{": ping\n\ndata: x\n\n"},
		want:   []Event{msg("x")},
	},
	{
		name:   "comment_joinsNextBlock",
		chunks: []string{": ping\n: ping\ndata: x\n\n"},
		want:   []Event{{Type: "message", Data: "x", Comment: "ping\nping"}},
	},

	// End of stream.
	{name: "eof_empty", chunks: nil},
	{name: "eof_noBlankLine", chunks: []string{"data: a\n\ndata: b\n"}, want: []Event{msg("a")}},
	{name: "eof_noLineEnd", chunks: []string{"data: a\n\ndata: b"}, want: []Event{msg("a")}},
	{name: "eof_CRLFthenEOF", chunks: []string{"data: a\r\n"}},
	{name: "eof_blankLinesOnly", chunks: []string{"\n\r\n\r\n\n"}},
}

func TestParser(t *testing.T) {
	t.Parallel()
	for _, c := range parseCases {
		for how, r := range readers(c.chunks) {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				got, p, err := parseAll(r())
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("events:\n got %q\nwant %q", got, c.want)
				}
				if id := p.LastEventID(); id != c.lastID {
					t.Errorf("LastEventID() = %q, want %q", id, c.lastID)
				}
				if d, ok := p.Retry(); d != c.retry || ok != c.haveRetry {
					t.Errorf("Retry() = %v, %v; want %v, %v", d, ok, c.retry, c.haveRetry)
				}
			})
		}
	}
}

// noReadAheadReader returns its chunks, then errReadAhead: the parser must
// dispatch an event without reading past its blank line.
type noReadAheadReader struct {
	chunks []string
}

var errReadAhead = errors.New("read past the end of the event")

func (r *noReadAheadReader) Read(p []byte) (int, error) {
	if len(r.chunks) == 0 {
		return 0, errReadAhead
	}
	n := copy(p, r.chunks[0])
	if r.chunks[0] = r.chunks[0][n:]; r.chunks[0] == "" {
		r.chunks = r.chunks[1:]
	}
	return n, nil
}

func TestParser_noReadAhead(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ name, stream string }{
		{"LF", "data: a\n\n"},
		{"CRLF", "data: a\r\n\r\n"},
		{"CR", "data: a\r\r"}, // the final CR could be followed by LF: don't wait for it
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			p := NewParser(&noReadAheadReader{chunks: []string{c.stream}})
			ev, err := p.Next()
			if err != nil {
				t.Fatalf("Next() error = %v, want the event", err)
			}
			if ev != msg("a") {
				t.Errorf("Next() = %q", ev)
			}
			if _, err := p.Next(); !errors.Is(err, errReadAhead) {
				t.Errorf("second Next() error = %v, want %v", err, errReadAhead)
			}
		})
	}
}

func TestParser_readErrorIsSticky(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	p := NewParser(&chunkReader{chunks: []string{"data: a\n\ndata: b\n"}, err: boom})
	if ev, err := p.Next(); err != nil || ev.Data != "a" {
		t.Fatalf("Next() = %q, %v", ev, err)
	}
	for range 2 {
		if _, err := p.Next(); !errors.Is(err, boom) {
			t.Fatalf("Next() error = %v, want %v", err, boom)
		}
	}
}

func TestParser_eofIsSticky(t *testing.T) {
	t.Parallel()
	p := NewParser(strings.NewReader("data: a\n\n"))
	if _, err := p.Next(); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := p.Next(); err != io.EOF {
			t.Fatalf("Next() error = %v, want io.EOF", err)
		}
	}
}

func TestParser_MaxEventBytes(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 100)
	cases := []struct {
		name    string
		stream  string
		max     int
		want    []Event
		tooLong bool
	}{
		{name: "underLimit", stream: "data: " + long + "\n\n", max: 200, want: []Event{msg(long)}},
		{name: "unlimited", stream: "data: " + strings.Repeat(long, 1000) + "\n\n", want: []Event{msg(strings.Repeat(long, 1000))}},
		{name: "longLine", stream: "data: " + long + "\n\n", max: 50, tooLong: true},
		{name: "longLineNoEnd", stream: "data: " + strings.Repeat(long, 1000), max: 50, tooLong: true},
		{name: "manyLines", stream: strings.Repeat("data: "+long[:40]+"\n", 10) + "\n", max: 200, tooLong: true},
		{name: "manyComments", stream: strings.Repeat(": "+long[:40]+"\n", 10) + "\n", max: 200, tooLong: true},
		{
			// The limit is per event: many small events are fine.
			name: "manySmallEvents", stream: strings.Repeat("data: "+long[:40]+"\n\n", 10), max: 50,
			want: slicesRepeat(msg(long[:40]), 10),
		},
	}
	for _, c := range cases {
		for how, r := range readers([]string{c.stream}) {
			t.Run(c.name+"/"+how, func(t *testing.T) {
				t.Parallel()
				p := NewParser(r())
				p.MaxEventBytes = c.max
				var got []Event
				var err error
				for {
					var ev Event
					if ev, err = p.Next(); err != nil {
						break
					}
					got = append(got, ev)
				}
				if c.tooLong {
					if !errors.Is(err, ErrEventTooLarge) {
						t.Fatalf("error = %v, want ErrEventTooLarge", err)
					}
					if _, err := p.Next(); !errors.Is(err, ErrEventTooLarge) {
						t.Errorf("next error = %v, want ErrEventTooLarge again", err)
					}
					return
				}
				if err != io.EOF {
					t.Fatalf("error = %v, want io.EOF", err)
				}
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("events:\n got %q\nwant %q", got, c.want)
				}
			})
		}
	}
}

func slicesRepeat(e Event, n int) []Event {
	evs := make([]Event, n)
	for i := range evs {
		evs[i] = e
	}
	return evs
}

// BenchmarkParser parses a stream of many typical events.
func BenchmarkParser(b *testing.B) {
	var stream []byte
	for i := range 1000 {
		var err error
		stream, err = AppendEvent(stream, Event{
			ID:   "order-" + strings.Repeat("7", i%5+1),
			Type: "order",
			Data: `{"id":12345,"status":"paid","amount":"19.99","currency":"EUR"}`,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(stream)))
	b.ReportAllocs()
	r := bytes.NewReader(stream)
	for b.Loop() {
		r.Reset(stream)
		p := NewParser(r)
		n := 0
		for {
			if _, err := p.Next(); err != nil {
				break
			}
			n++
		}
		if n != 1000 {
			b.Fatalf("parsed %d events, want 1000", n)
		}
	}
}
