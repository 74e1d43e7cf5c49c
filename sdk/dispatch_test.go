package sdk

import (
	"errors"
	"slices"
	"testing"
)

func TestRegistry_dispatchOrderAndWildcard(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	var got []string
	rec := func(name string) Handler {
		return func(ev Event) error { got = append(got, name+":"+ev.Data); return nil }
	}
	_, first := r.add("order", rec("a"))
	if !first {
		t.Fatal("first handler of a type must report first")
	}
	if _, first := r.add("order", rec("b")); first {
		t.Fatal("second handler must not report first")
	}
	r.add(EventAny, rec("any"))
	r.dispatch(Event{Type: "order", Data: "1"}, true)
	r.dispatch(Event{Type: "other", Data: "2"}, true)
	want := []string{"a:1", "b:1", "any:1", "any:2"}
	if !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestRegistry_errorsDoNotStopDispatch(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	boom := errors.New("boom")
	calls := 0
	r.add("x", func(Event) error { calls++; return boom })
	r.add("x", func(Event) error { calls++; return nil })
	errs := r.dispatch(Event{Type: "x", Data: "d"}, true)
	if calls != 2 {
		t.Fatalf("calls = %d, want 2", calls)
	}
	var he *HandlerError
	if len(errs) != 1 || !errors.As(errs[0], &he) || !errors.Is(errs[0], boom) || he.Event.Data != "d" {
		t.Fatalf("errs = %v, want one HandlerError wrapping boom with the event", errs)
	}
}

func TestRegistry_remove(t *testing.T) {
	t.Parallel()
	r := newRegistry()
	calls := 0
	remove, _ := r.add("x", func(Event) error { calls++; return nil })
	remove()
	r.dispatch(Event{Type: "x"}, true)
	if calls != 0 || len(r.types()) != 0 {
		t.Fatalf("removed handler ran (%d) or type kept (%v)", calls, r.types())
	}
}

func TestDecode_WantsJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode Decode
		data string
		want bool
	}{
		{DecodeAuto, `{"a":1}`, true},
		{DecodeAuto, ` [1,2]`, true},
		{DecodeAuto, `42`, false},
		{DecodeAuto, `"str"`, false},
		{DecodeAuto, `true`, false},
		{DecodeAuto, ``, false},
		{DecodeAuto, `hello {`, false},
		{DecodeJSON, `42`, true},
		{DecodeText, `{"a":1}`, false},
	}
	for _, c := range cases {
		t.Run(string(c.mode)+"/"+c.data, func(t *testing.T) {
			t.Parallel()
			if got := c.mode.WantsJSON(c.data); got != c.want {
				t.Fatalf("WantsJSON(%q) = %v, want %v", c.data, got, c.want)
			}
		})
	}
}

func TestParseDecode(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]Decode{"": DecodeAuto, "auto": DecodeAuto, "json": DecodeJSON, "text": DecodeText} {
		if got, ok := ParseDecode(in); !ok || got != want {
			t.Errorf("ParseDecode(%q) = %q, %v", in, got, ok)
		}
	}
	if _, ok := ParseDecode("xml"); ok {
		t.Error("ParseDecode(xml) accepted")
	}
}
