package server

import (
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestHub_wire_conformance publishes awkward data and reads the stream with
// the independent, spec-conformant wire.Parser: each event must arrive
// exactly as published, with line breaks as LF (the only change the
// protocol makes), and nothing in the data may add a field or an event.
func TestHub_wire_conformance(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect/wire")
	s.connected(t)
	cases := []struct {
		name, event, id, data string
	}{
		{name: "LF", data: "one\ntwo"},
		{name: "CRLF", data: "one\r\ntwo\r\nthree"},
		{name: "CR", data: "one\rtwo"},
		{name: "mixed breaks", data: "a\r\n\rb\n\r\nc"},
		{name: "empty lines", data: "\n\nmiddle\n\n"},
		{name: "only a line break", data: "\n"},
		{name: "empty", data: ""},
		{name: "leading spaces", data: "  two spaces\n one space\n\ttab"},
		{name: "trailing spaces", data: "end  \n  "},
		{name: "colons", data: ":not a comment\n: nor this\ndata: not a field\nid: 666\nevent: evil\nretry: 1"},
		{name: "blank line injection", data: "first\n\nevent: injected\ndata: second"},
		{name: "non-ASCII", data: "用户支付成功 — café ☕ 🚀 Ωμέγα"},
		{name: "NUL and controls", data: "a\x00b\x01\x7f"},
		{name: "BOM inside", data: "\ufeffnot a stream start"},
		{name: "JSON-looking text", data: `{"a": 1}`},
		{name: "event with colon and non-ASCII", event: "ordre:créé", data: "x"},
		{name: "event with spaces", event: " spaced event ", data: "y"},
		{name: "id with spaces and colon", id: " id: with spaces ", data: "z"},
		{name: "long line", data: strings.Repeat("0123456789", 3000)},
	}
	for i, c := range cases {
		body, _ := json.Marshal(map[string]string{"event": c.event, "id": c.id, "data": c.data})
		if i%2 == 1 { // the form path must be as faithful as JSON
			form := url.Values{"message": {c.data}}
			if c.event != "" {
				form.Set("event", c.event)
			}
			if c.id != "" {
				form.Set("id", c.id)
			}
			resp, got := th.do(t, "POST", "/api/sse/send/wire", ctForm, form.Encode())
			if resp.StatusCode != 202 {
				t.Fatalf("%s: %d %s", c.name, resp.StatusCode, got)
			}
		} else {
			th.publishJSON(t, "/api/sse/send/wire", string(body))
		}
	}
	for _, c := range cases {
		ev := s.next(t)
		want := strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(c.data)
		wantType := c.event
		if wantType == "" {
			wantType = "message"
		}
		if ev.Data != want || ev.Type != wantType {
			t.Errorf("%s: got %q %q, want %q %q", c.name, ev.Type, trunc(ev.Data), wantType, trunc(want))
		}
		if c.id != "" && ev.ID != c.id {
			t.Errorf("%s: id %q, want %q", c.name, ev.ID, c.id)
		}
		if c.id == "" && !strings.Contains(ev.ID, "-") {
			t.Errorf("%s: hub-assigned id %q", c.name, ev.ID)
		}
		if ev.Retry != 0 {
			t.Errorf("%s: a retry of %v appeared", c.name, ev.Retry)
		}
	}
	th.publishJSON(t, "/api/sse/send/wire", `{"data":"sentinel","retry":`+strconv.Itoa(1500)+`}`)
	if ev := s.next(t); ev.Data != "sentinel" || ev.Retry != 1500*time.Millisecond {
		t.Fatalf("extra event or field: %+v", ev)
	}
}

func trunc(s string) string {
	if len(s) > 60 {
		return s[:60] + "…"
	}
	return s
}
