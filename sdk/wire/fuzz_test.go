package wire

import (
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"
)

// FuzzRoundTrip checks the encoder against the parser: whatever AppendEvent
// accepts parses back as exactly one equal event (line breaks as LF, invalid
// UTF-8 as U+FFFD, the default type, whole milliseconds), and whatever it
// rejects it rejects for a CR, LF or NUL in the id or type.
func FuzzRoundTrip(f *testing.F) {
	for _, c := range encodeCases {
		f.Add(c.in.ID, c.in.Type, c.in.Data, c.in.Comment, int64(c.in.Retry))
	}
	f.Add("1\n\ndata: x", "t", "d", "", int64(0))
	f.Add("", "t\r", "d", "", int64(0))
	f.Fuzz(func(t *testing.T, id, typ, data, comment string, retry int64) {
		in := Event{ID: id, Type: typ, Data: data, Comment: comment, Retry: time.Duration(retry)}
		frame, err := AppendEvent([]byte("x"), in)
		switch {
		case !ValidField(id):
			if !errors.Is(err, ErrInvalidID) {
				t.Fatalf("id %q: error = %v, want ErrInvalidID", id, err)
			}
		case !ValidField(typ):
			if !errors.Is(err, ErrInvalidType) {
				t.Fatalf("type %q: error = %v, want ErrInvalidType", typ, err)
			}
		case err != nil:
			t.Fatalf("AppendEvent(%q) error = %v", in, err)
		}
		if err != nil {
			if string(frame) != "x" {
				t.Fatalf("rejected event changed dst to %q", frame)
			}
			return
		}
		frame = frame[1:]

		want := wantParsed(in)
		got, _, err := parseAll(bytes.NewReader(frame))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0] != want {
			t.Fatalf("frame %q parsed as %q, want [%q]", frame, got, want)
		}
		// Byte by byte, and twice in a row: still one event per frame.
		two := append(append([]byte(nil), frame...), frame...)
		got, _, err = parseAll(iotest.OneByteReader(bytes.NewReader(two)))
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 2 || got[0] != want || got[1] != want {
			t.Fatalf("frame %q twice parsed as %q, want 2 × %q", frame, got, want)
		}
	})
}

// FuzzParser feeds arbitrary bytes to the parser. Reading them whole or one
// byte at a time gives the same events; dispatched events are well formed;
// and every event the encoder accepts encodes and parses back unchanged.
func FuzzParser(f *testing.F) {
	for _, c := range parseCases {
		f.Add([]byte(strings.Join(c.chunks, "")))
	}
	for _, c := range encodeCases {
		frame, err := AppendEvent(nil, c.in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, stream []byte) {
		whole, pw, err := parseAll(bytes.NewReader(stream))
		if err != nil {
			t.Fatal(err)
		}
		byByte, pb, err := parseAll(iotest.OneByteReader(bytes.NewReader(stream)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(whole, byByte) {
			t.Fatalf("whole: %q\nbyte by byte: %q", whole, byByte)
		}
		if pw.LastEventID() != pb.LastEventID() {
			t.Fatalf("LastEventID: whole %q, byte by byte %q", pw.LastEventID(), pb.LastEventID())
		}
		dw, okw := pw.Retry()
		db, okb := pb.Retry()
		if dw != db || okw != okb {
			t.Fatalf("Retry: whole %v %v, byte by byte %v %v", dw, okw, db, okb)
		}

		for _, ev := range whole {
			if ev.Type == "" || strings.ContainsAny(ev.Type+ev.ID, "\r\n") || strings.ContainsRune(ev.ID, 0) ||
				strings.Contains(ev.Data+ev.Comment, "\r") {
				t.Fatalf("malformed event %q", ev)
			}
			for _, s := range []string{ev.ID, ev.Type, ev.Data, ev.Comment} {
				if !utf8.ValidString(s) {
					t.Fatalf("event %q holds invalid UTF-8", ev)
				}
			}
			if ev.Retry < 0 || ev.Retry%time.Millisecond != 0 {
				t.Fatalf("event %q: retry not whole milliseconds", ev)
			}

			// parse → encode → parse is stable. A type with NUL is valid on
			// the wire but the encoder refuses it.
			frame, err := AppendEvent(nil, ev)
			if err != nil {
				if !ValidField(ev.Type) {
					continue
				}
				t.Fatalf("AppendEvent(%q) error = %v", ev, err)
			}
			again, _, err := parseAll(bytes.NewReader(frame))
			if err != nil {
				t.Fatal(err)
			}
			if len(again) != 1 || again[0] != ev {
				t.Fatalf("event %q re-encoded as %q, parsed as %q", ev, frame, again)
			}
		}
	})
}
