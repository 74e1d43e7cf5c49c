package wire

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

type encodeCase struct {
	name string
	in   Event
	want string // the exact frame
}

// encodeCases pin the frames AppendEvent writes. Every one of them must also
// parse back to its input; they seed FuzzRoundTrip.
var encodeCases = []encodeCase{
	{name: "dataOnly", in: Event{Data: "hello"}, want: "data: hello\n\n"},
	{name: "emptyData", in: Event{}, want: "data:\n\n"},
	{
		name: "allFields",
		in:   Event{ID: "42", Type: "order", Data: "paid", Retry: 3 * time.Second, Comment: "hi"},
		want: ": hi\nid: 42\nevent: order\nretry: 3000\ndata: paid\n\n",
	},
	{name: "LF", in: Event{Data: "a\nb"}, want: "data: a\ndata: b\n\n"},
	{name: "CRLF", in: Event{Data: "a\r\nb"}, want: "data: a\ndata: b\n\n"},
	{name: "CR", in: Event{Data: "a\rb"}, want: "data: a\ndata: b\n\n"},
	{name: "LFCR", in: Event{Data: "a\n\rb"}, want: "data: a\ndata:\ndata: b\n\n"},
	{name: "mixed", in: Event{Data: "a\r\n\r\n\nb\r"}, want: "data: a\ndata:\ndata:\ndata: b\ndata:\n\n"},
	{name: "onlyLF", in: Event{Data: "\n"}, want: "data:\ndata:\n\n"},
	{name: "trailingCRLF", in: Event{Data: "a\r\n"}, want: "data: a\ndata:\n\n"},
	{name: "emptyLines", in: Event{Data: "\n\n\n"}, want: "data:\ndata:\ndata:\ndata:\n\n"},
	{name: "leadingSpaces", in: Event{Data: "  two\n one"}, want: "data:   two\ndata:  one\n\n"},
	{name: "colons", in: Event{Data: ":\n: not a comment\nid: 1"}, want: "data: :\ndata: : not a comment\ndata: id: 1\n\n"},
	{name: "blankLineInData", in: Event{Data: "a\n\nb"}, want: "data: a\ndata:\ndata: b\n\n"},
	{name: "nonASCII", in: Event{Type: "支付", Data: "用户支付成功"}, want: "event: 支付\ndata: 用户支付成功\n\n"},
	{name: "nul", in: Event{Data: "a\x00b"}, want: "data: a\x00b\n\n"},
	{name: "bomInData", in: Event{Data: bom + "x"}, want: "data: " + bom + "x\n\n"},
	{name: "idLeadingSpace", in: Event{ID: " 1", Data: "x"}, want: "id:  1\ndata: x\n\n"},
	{name: "typeMessage", in: Event{Type: "message", Data: "x"}, want: "event: message\ndata: x\n\n"},
	{name: "commentLines", in: Event{Comment: "a\r\nb\rc\n", Data: "x"}, want: ": a\n: b\n: c\n:\ndata: x\n\n"},
	{name: "commentLeadingSpace", in: Event{Comment: " a", Data: "x"}, want: ":  a\ndata: x\n\n"},
	{name: "retrySubMillisecond", in: Event{Retry: 1500 * time.Microsecond, Data: "x"}, want: "retry: 1\ndata: x\n\n"},
	{name: "retryBelowOneMillisecond", in: Event{Retry: time.Microsecond, Data: "x"}, want: "retry: 0\ndata: x\n\n"},
	{name: "retryNegative", in: Event{Retry: -time.Second, Data: "x"}, want: "data: x\n\n"},
	{name: "invalidUTF8", in: Event{ID: "\xff", Data: "a\xE2\x80"}, want: "id: \xff\ndata: a\xE2\x80\n\n"},
}

func TestAppendEvent(t *testing.T) {
	t.Parallel()
	for _, c := range encodeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got, err := AppendEvent([]byte("prefix"), c.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != "prefix"+c.want {
				t.Errorf("AppendEvent(%q) =\n%q\nwant\n%q", c.in, got, "prefix"+c.want)
			}
		})
	}
}

// TestAppendEvent_roundTrip parses each frame back. CR and CRLF in data and
// comments come back as LF: a line end is all the protocol can carry.
func TestAppendEvent_roundTrip(t *testing.T) {
	t.Parallel()
	for _, c := range encodeCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			frame, err := AppendEvent(nil, c.in)
			if err != nil {
				t.Fatal(err)
			}
			got, _, err := parseAll(bytes.NewReader(frame))
			if err != nil {
				t.Fatal(err)
			}
			want := wantParsed(c.in)
			if len(got) != 1 || got[0] != want {
				t.Errorf("parsed %q, want [%q]", got, want)
			}
		})
	}
}

func TestAppendEvent_invalidField(t *testing.T) {
	t.Parallel()
	type invalidCase struct {
		name string
		in   Event
		want error
	}
	var cases []invalidCase
	for name, bad := range map[string]string{
		"CR": "\r", "LF": "\n", "NUL": "\x00", "CRLF": "a\r\nb", "injection": "1\n\ndata: injected",
	} {
		cases = append(cases,
			invalidCase{"id_" + name, Event{ID: bad, Data: "x"}, ErrInvalidID},
			invalidCase{"type_" + name, Event{Type: bad, Data: "x"}, ErrInvalidType},
		)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			dst := []byte("prefix")
			got, err := AppendEvent(dst, c.in)
			if !errors.Is(err, c.want) {
				t.Fatalf("error = %v, want %v", err, c.want)
			}
			if string(got) != "prefix" || &got[0] != &dst[0] {
				t.Errorf("dst changed to %q", got)
			}
			if ValidField(c.in.ID + c.in.Type) {
				t.Errorf("ValidField(%q) = true", c.in.ID+c.in.Type)
			}
		})
	}
}

func TestValidField(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"": true, "order": true, "用户": true, " a ": true, "a:b": true, "\t": true, "\xff": true,
		"a\rb": false, "a\nb": false, "a\x00b": false, "\r": false,
	} {
		if got := ValidField(s); got != want {
			t.Errorf("ValidField(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestAppendComment(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"ping":      ": ping\n",
		"":          ":\n",
		"a\nb":      ": a\n: b\n",
		"a\r\nb\rc": ": a\n: b\n: c\n",
		"a\n":       ": a\n:\n",
		" x":        ":  x\n",
	} {
		if got := string(AppendComment(nil, in)); got != want {
			t.Errorf("AppendComment(%q) = %q, want %q", in, got, want)
		}
	}
	// A comment alone dispatches nothing, even followed by a blank line.
	frame := append(AppendComment(nil, "a\nb"), '\n')
	if got, _, err := parseAll(bytes.NewReader(frame)); err != nil || len(got) != 0 {
		t.Errorf("parsed %q, %v; want no event", got, err)
	}
}

func TestAppendRetry(t *testing.T) {
	t.Parallel()
	for in, want := range map[time.Duration]string{
		3 * time.Second:         "retry: 3000\n\n",
		1500 * time.Microsecond: "retry: 1\n\n",
		0:                       "retry: 0\n\n",
		-time.Second:            "retry: 0\n\n",
	} {
		frame := AppendRetry(nil, in)
		if string(frame) != want {
			t.Errorf("AppendRetry(%v) = %q, want %q", in, frame, want)
		}
		got, p, err := parseAll(bytes.NewReader(frame))
		if err != nil || len(got) != 0 {
			t.Errorf("parsed %q, %v; want no event", got, err)
		}
		if d, ok := p.Retry(); !ok || d != max(in, 0).Truncate(time.Millisecond) {
			t.Errorf("after AppendRetry(%v): Retry() = %v, %v", in, d, ok)
		}
	}
}

type errWriter struct{ err error }

func (w errWriter) Write([]byte) (int, error) { return 0, w.err }

func TestEncoder(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	enc := NewEncoder(&buf)
	events := []Event{{ID: "1", Data: "a"}, {Type: "t", Data: "b\nc"}, {Data: strings.Repeat("x", maxRetainedBuffer+1)}, {Data: "d"}}
	for _, ev := range events {
		if err := enc.Encode(ev); err != nil {
			t.Fatal(err)
		}
	}
	if err := enc.Encode(Event{ID: "bad\n"}); !errors.Is(err, ErrInvalidID) {
		t.Errorf("Encode(bad id) error = %v, want ErrInvalidID", err)
	}
	got, _, err := parseAll(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(events) {
		t.Fatalf("parsed %d events, want %d", len(got), len(events))
	}
	for i, ev := range events {
		want := wantParsed(ev)
		if want.ID == "" && i > 0 {
			want.ID = got[i-1].ID // the last event ID persists
		}
		if got[i] != want {
			t.Errorf("event %d = %.40q, want %.40q", i, got[i], want)
		}
	}

	boom := errors.New("boom")
	if err := NewEncoder(errWriter{boom}).Encode(Event{Data: "x"}); !errors.Is(err, boom) {
		t.Errorf("Encode error = %v, want %v", err, boom)
	}
}

// TestAppendEvent_allocs is not parallel: AllocsPerRun counts the
// allocations of the whole process.
func TestAppendEvent_allocs(t *testing.T) {
	ev := Event{ID: "42", Type: "order", Data: strings.Repeat("x", 64) + "\r\n" + strings.Repeat("y", 64), Retry: time.Second, Comment: "c"}
	buf := make([]byte, 0, 1024)
	allocs := testing.AllocsPerRun(100, func() {
		var err error
		if buf, err = AppendEvent(buf[:0], ev); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("AppendEvent allocates %v times per call, want 0", allocs)
	}
}

func BenchmarkAppendEvent(b *testing.B) {
	ev := Event{ID: "1234567", Type: "order", Data: strings.Repeat("x", 64)}
	buf, err := AppendEvent(nil, ev)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = AppendEvent(buf[:0], ev)
	}
}
