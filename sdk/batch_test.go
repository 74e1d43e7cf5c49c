package sdk

import (
	"encoding/json"
	"reflect"
	"testing"
)

func TestReadBatch(t *testing.T) {
	t.Parallel()
	events := []Event{
		{Type: "message", ID: "1", Data: "plain"},
		{Type: "order", ID: "", Data: `{"sku":"A1","note":"a \"quote\", a \\ and a\nline"}`},
		{Type: "message", ID: "e-3", Data: "<img src=x onerror=alert(1)>\t\u2028 ünï 😀 \x01"},
		{Type: "message", ID: "4", Data: ""},
	}
	// What ssekit.js sends: JSON.stringify of the flat queue.
	flat := []any{1}
	for _, ev := range events {
		flat = append(flat, 0, ev.Type, ev.ID, ev.Data)
	}
	flat = append(flat, 2)
	raw, err := json.Marshal(flat)
	if err != nil {
		t.Fatal(err)
	}
	var kinds []int
	var got []Event
	if err := readBatch(string(raw), func(kind int, ev Event, pos int) bool {
		kinds = append(kinds, kind)
		if kind == batchEvent {
			got = append(got, ev)
			if flat[pos] != ev.Data {
				t.Errorf("pos %d holds %q, want the data %q", pos, flat[pos], ev.Data)
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 0, 0, 0, 0, 2}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("kinds %v, want %v", kinds, want)
	}
	if !reflect.DeepEqual(got, events) {
		t.Errorf("events\n%q\nwant\n%q", got, events)
	}

	// fn returning false stops the batch.
	n := 0
	_ = readBatch(string(raw), func(int, Event, int) bool { n++; return n < 2 })
	if n != 2 {
		t.Errorf("read %d entries after a stop at the second", n)
	}
	// A lone surrogate, as JSON.stringify escapes it, becomes U+FFFD.
	_ = readBatch(`[0,"m","","a\ud800b"]`, func(_ int, ev Event, _ int) bool {
		if ev.Data != "a\uFFFDb" {
			t.Errorf("lone surrogate: %q", ev.Data)
		}
		return true
	})
}

func TestReadBatch_malformed(t *testing.T) {
	t.Parallel()
	for _, in := range []string{``, `{}`, `[`, `[0,"a","b"]`, `[0,"a","b",1]`, `[3]`, `[1 2]`, `[0,"a","b","c`, `[1,]`} {
		if err := readBatch(in, func(int, Event, int) bool { return true }); err == nil {
			t.Errorf("%q: no error", in)
		}
	}
	if err := readBatch(` [ ] `, func(int, Event, int) bool { t.Error("entry in an empty batch"); return true }); err != nil {
		t.Errorf("empty batch: %v", err)
	}
}

func TestRenderBuf(t *testing.T) {
	t.Parallel()
	var r renderBuf
	if s := r.take(); s != "" {
		t.Errorf("empty take %q", s)
	}
	r.add("div", []*Node{{Text: "a \"b\" \\ \n\x00<i>"}}, -1)
	r.add("", []*Node{{Text: "bare"}}, -1)
	r.add("li", []*Node{{Tag: "b", Attrs: []Attr{{Name: "class", Value: "x"}}, Children: []*Node{{Text: "bold"}}}, {Text: "!"}}, -1)
	r.add("", []*Node{{Text: "one"}, {Tag: "br"}}, -1)
	r.add("div", nil, 7)
	r.add("", nil, 11)
	r.add("span", nil, -1)
	r.add("", nil, -1)
	var got []any
	if err := json.Unmarshal([]byte(r.take()), &got); err != nil {
		t.Fatal(err)
	}
	want := []any{
		[]any{[]any{"div", []any{}, "a \"b\" \\ \n\x00<i>"}},
		[]any{"bare"},
		[]any{[]any{"li", []any{}, []any{"b", []any{"class", "x"}, "bold"}, "!"}},
		[]any{"one", []any{"br", []any{}}},
		[]any{[]any{"div", []any{}, 7.0}},
		[]any{11.0},
		[]any{[]any{"span", []any{}}},
		[]any{},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
	if s := r.take(); s != "" {
		t.Errorf("second take %q, want empty", s)
	}
}

func BenchmarkReadBatch(b *testing.B) {
	flat := []any{}
	for i := range 500 {
		flat = append(flat, 0, "message", "1-"+string(rune('a'+i%26)), "00000001 xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	}
	raw, _ := json.Marshal(flat)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		_ = readBatch(string(raw), func(int, Event, int) bool { return true })
	}
}

// BenchmarkReceiveBatch is the Go side of the wasm's hot path, natively: a
// batch of 5000 events as ssekit.js hands it over, read, deduplicated,
// dispatched and rendered as text into a bound element's buffer (what the
// browser layer then sends to SSEKit.__io.apply). Per op: one batch.
func BenchmarkReceiveBatch(b *testing.B) {
	const n = 5000
	flat := make([]any, 0, 4*n)
	for i := range n {
		id := itoa(i + 1)
		flat = append(flat, 0, "message", id, "event "+id+" xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
	}
	raw, err := json.Marshal(flat)
	if err != nil {
		b.Fatal(err)
	}
	batch := string(raw)
	ft := newFake()
	c := newClient("http://h/s", Options{}, ft)
	if err := c.start(); err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	var out renderBuf
	rendered := 0
	if _, err := c.On("message", func(ev Event) error {
		out.add("div", nil, rendered)
		rendered++
		return nil
	}); err != nil {
		b.Fatal(err)
	}
	s := ft.last(b).s
	s.opened()
	b.ReportAllocs()
	b.SetBytes(int64(len(batch)))
	for b.Loop() {
		c.seen.clear() // the same ids again: not duplicates of the last op's
		c.prevID = ""
		if err := readBatch(batch, func(kind int, ev Event, pos int) bool {
			s.event(ev)
			return true
		}); err != nil {
			b.Fatal(err)
		}
		if out.take() == "" {
			b.Fatal("nothing rendered")
		}
	}
	if rendered != n*b.N {
		b.Fatalf("rendered %d events, want %d", rendered, n*b.N)
	}
}
