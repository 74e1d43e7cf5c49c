package server

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

func multipartBody(t *testing.T, fields map[string]string) (contentType, body string) {
	t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, v := range fields {
		if err := mw.WriteField(k, v); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return mw.FormDataContentType(), b.String()
}

// TestHub_publish_decoding runs each body against a stream of its own: an
// accepted body must arrive as exactly the event described, a refused one
// must answer its status with a JSON error and reach no stream.
func TestHub_publish_decoding(t *testing.T) {
	t.Parallel()
	th := startHub(t, WithMaxBody(2048))
	mpType, mpBody := multipartBody(t, map[string]string{"message": "from multipart", "event": "mp"})
	long := func(n int) string { return strings.Repeat("x", n) }
	cases := []struct {
		name   string
		ct     string
		query  string
		body   string
		status int
		want   wire.Event // for 202; ID is checked when set
	}{
		// Accepted: the seed style (form or query message) ...
		{name: "form message", ct: ctForm, body: "message=hi", status: 202, want: wire.Event{Type: "message", Data: "hi"}},
		{name: "query message, no body", query: "?message=from%20query", status: 202, want: wire.Event{Type: "message", Data: "from query"}},
		{name: "query message, empty form", ct: ctForm, query: "?message=q", status: 202, want: wire.Event{Type: "message", Data: "q"}},
		{name: "form, every field", ct: ctForm, body: "message=a%0Ab&event=order&id=o-1&retry=1500&comment=note",
			status: 202, want: wire.Event{Type: "order", Data: "a\nb", ID: "o-1", Retry: 1500 * time.Millisecond, Comment: "note"}},
		{name: "form, empty message", ct: ctForm, body: "message=", status: 202, want: wire.Event{Type: "message", Data: ""}},
		{name: "multipart form", ct: mpType, body: mpBody, status: 202, want: wire.Event{Type: "mp", Data: "from multipart"}},
		// ... or JSON.
		{name: "json string", ct: ctJSON, body: `{"data":"hello"}`, status: 202, want: wire.Event{Type: "message", Data: "hello"}},
		{name: "json with charset", ct: "application/json; charset=utf-8", body: `{"data":"cs"}`, status: 202, want: wire.Event{Type: "message", Data: "cs"}},
		{name: "json empty string is an event", ct: ctJSON, body: `{"data":""}`, status: 202, want: wire.Event{Type: "message", Data: ""}},
		{name: "json object is compacted", ct: ctJSON, body: "{\"event\":\"order\",\"data\":{ \"sku\" : \"A1\",\n \"qty\": 2, \"tags\": [ 1, 2 ] }}",
			status: 202, want: wire.Event{Type: "order", Data: `{"sku":"A1","qty":2,"tags":[1,2]}`}},
		{name: "json array", ct: ctJSON, body: `{"data":[ 1, "two", null ]}`, status: 202, want: wire.Event{Type: "message", Data: `[1,"two",null]`}},
		{name: "json number", ct: ctJSON, body: `{"data": 12.50}`, status: 202, want: wire.Event{Type: "message", Data: `12.50`}},
		{name: "json bool", ct: ctJSON, body: `{"data":false}`, status: 202, want: wire.Event{Type: "message", Data: `false`}},
		{name: "json escapes", ct: ctJSON, body: `{"data":"caf\u00e9 \"q\" \\ </b>"}`, status: 202, want: wire.Event{Type: "message", Data: `café "q" \ </b>`}},
		{name: "json every field", ct: ctJSON, body: `{"event":"e","data":"d","id":"custom-1","retry":250,"comment":"c1\nc2"}`,
			status: 202, want: wire.Event{Type: "e", Data: "d", ID: "custom-1", Retry: 250 * time.Millisecond, Comment: "c1\nc2"}},
		{name: "json retry 0", ct: ctJSON, body: `{"data":"r0","retry":0}`, status: 202, want: wire.Event{Type: "message", Data: "r0"}},
		{name: "json event of 128 bytes", ct: ctJSON, body: `{"data":"x","event":"` + long(128) + `"}`, status: 202, want: wire.Event{Type: long(128), Data: "x"}},
		{name: "json id of 256 bytes", ct: ctJSON, body: `{"data":"x","id":"` + long(256) + `"}`, status: 202, want: wire.Event{Type: "message", Data: "x", ID: long(256)}},
		{name: "json whitespace around", ct: ctJSON, body: " \n{\"data\":\"ws\"}\n ", status: 202, want: wire.Event{Type: "message", Data: "ws"}},

		// Refused: strict JSON.
		{name: "unknown field", ct: ctJSON, body: `{"data":"x","foo":1}`, status: 400},
		{name: "field name in another case", ct: ctJSON, body: `{"Data":"x"}`, status: 400},
		{name: "field twice", ct: ctJSON, body: `{"data":"a","data":"b"}`, status: 400},
		{name: "trailing object", ct: ctJSON, body: `{"data":"x"}{"data":"y"}`, status: 400},
		{name: "trailing garbage", ct: ctJSON, body: `{"data":"x"} x`, status: 400},
		{name: "array body", ct: ctJSON, body: `[{"data":"x"}]`, status: 400},
		{name: "string body", ct: ctJSON, body: `"x"`, status: 400},
		{name: "number body", ct: ctJSON, body: `1`, status: 400},
		{name: "null body", ct: ctJSON, body: `null`, status: 400},
		{name: "empty json body", ct: ctJSON, body: ``, status: 400},
		{name: "truncated json", ct: ctJSON, body: `{"data":`, status: 400},
		{name: "invalid UTF-8", ct: ctJSON, body: "{\"data\":\"\xff\xfe\"}", status: 400},
		{name: "data missing", ct: ctJSON, body: `{"event":"x"}`, status: 400},
		{name: "data null", ct: ctJSON, body: `{"data":null}`, status: 400},
		{name: "event not a string", ct: ctJSON, body: `{"data":"x","event":1}`, status: 400},
		{name: "id null", ct: ctJSON, body: `{"data":"x","id":null}`, status: 400},
		{name: "retry negative", ct: ctJSON, body: `{"data":"x","retry":-1}`, status: 400},
		{name: "retry fraction", ct: ctJSON, body: `{"data":"x","retry":1.5}`, status: 400},
		{name: "retry exponent", ct: ctJSON, body: `{"data":"x","retry":1e3}`, status: 400},
		{name: "retry as string", ct: ctJSON, body: `{"data":"x","retry":"100"}`, status: 400},
		{name: "retry too large", ct: ctJSON, body: `{"data":"x","retry":4294967296}`, status: 400},
		{name: "event of 129 bytes", ct: ctJSON, body: `{"data":"x","event":"` + long(129) + `"}`, status: 400},
		{name: "id of 257 bytes", ct: ctJSON, body: `{"data":"x","id":"` + long(257) + `"}`, status: 400},
		{name: "comment of 1025 bytes", ct: ctJSON, body: `{"data":"x","comment":"` + long(1025) + `"}`, status: 400},
		{name: "event with LF", ct: ctJSON, body: `{"data":"x","event":"a\nb"}`, status: 400},
		{name: "event with CR", ct: ctJSON, body: `{"data":"x","event":"a\rdata: injected"}`, status: 400},
		{name: "id with NUL", ct: ctJSON, body: `{"data":"x","id":"a\u0000"}`, status: 400},
		{name: "id with CRLF", ct: ctJSON, body: `{"data":"x","id":"a\r\nevent: injected"}`, status: 400},
		// Refused: forms.
		{name: "form without message", ct: ctForm, body: "event=x", status: 400},
		{name: "form retry not a number", ct: ctForm, body: "message=x&retry=soon", status: 400},
		{name: "form event with LF", ct: ctForm, body: "message=x&event=a%0Ab", status: 400},
		{name: "form invalid UTF-8", ct: ctForm, body: "message=%FF", status: 400},
		{name: "no body, no message", status: 400},
		// Refused: content types.
		{name: "text/plain", ct: "text/plain", body: "hi", status: 415},
		{name: "xml", ct: "application/xml", body: "<data/>", status: 415},
		{name: "malformed content type", ct: "application/", body: "x", status: 415},
		{name: "body without content type", body: "message=x", status: 415},
		// Refused: size.
		{name: "json over max-body", ct: ctJSON, body: `{"data":"` + long(2100) + `"}`, status: 413},
		{name: "form over max-body", ct: ctForm, body: "message=" + long(2100), status: 413},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			id := fmt.Sprintf("case-%d", i)
			s := th.open(t, "/api/sse/connect/"+id)
			s.connected(t)
			resp, body := th.do(t, http.MethodPost, "/api/sse/send/"+id+c.query, c.ct, c.body)
			if c.status != 202 {
				wantError(t, resp, body, c.status)
				th.publishJSON(t, "/api/sse/send/"+id, `{"data":"sentinel"}`)
				s.expect(t, "message", "sentinel")
				return
			}
			if resp.StatusCode != 202 {
				t.Fatalf("status %d, body %s", resp.StatusCode, body)
			}
			ev := s.next(t)
			if ev.Type != c.want.Type || ev.Data != c.want.Data || ev.Retry != c.want.Retry || ev.Comment != c.want.Comment {
				t.Fatalf("got %+v, want %+v", ev, c.want)
			}
			if c.want.ID != "" && ev.ID != c.want.ID {
				t.Fatalf("id %q, want %q", ev.ID, c.want.ID)
			}
			if !strings.Contains(body, `"id":"`+ev.ID+`"`) {
				t.Fatalf("answer %s does not carry the event's id %q", body, ev.ID)
			}
		})
	}
}

func TestHub_publish_idempotencyKey(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect/idem")
	s.connected(t)
	first := th.publishJSON(t, "/api/sse/send/idem", `{"data":"once"}`, "Idempotency-Key", "k1")
	again := th.publishJSON(t, "/api/sse/send/idem", `{"data":"once"}`, "Idempotency-Key", "k1")
	if again != first {
		t.Fatalf("retry answered %+v, want the first answer %+v", again, first)
	}
	other := th.publishJSON(t, "/api/sse/send/idem", `{"data":"twice"}`, "Idempotency-Key", "k2")
	if other.ID == first.ID {
		t.Fatal("another key got the same id")
	}
	// The same key for another target is another publish.
	all := th.publishJSON(t, "/api/sse/sendAll", `{"data":"all"}`, "Idempotency-Key", "k1")
	if all.ID == first.ID {
		t.Fatal("the same key on another target was not published")
	}
	s.expect(t, "message", "once")
	s.expect(t, "message", "twice")
	s.expect(t, "message", "all")

	resp, body := th.do(t, http.MethodPost, "/api/sse/send/idem", ctJSON, `{"data":"x"}`, "Idempotency-Key", strings.Repeat("k", 129))
	wantError(t, resp, body, 400)
}

// TestHub_publish_idempotencyKeyConcurrent fires one key from many
// goroutines at once: one event is sent, and every answer names it.
func TestHub_publish_idempotencyKeyConcurrent(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/api/sse/connect/race")
	s.connected(t)
	const n = 32
	answers := make([]Published, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			answers[i] = th.publishJSON(t, "/api/sse/send/race", `{"data":"exactly once"}`, "Idempotency-Key", "same")
		})
	}
	close(start)
	wg.Wait()
	for _, a := range answers {
		if a != answers[0] {
			t.Fatalf("answers differ: %+v vs %+v", a, answers[0])
		}
	}
	th.publishJSON(t, "/api/sse/send/race", `{"data":"sentinel"}`)
	first := s.expect(t, "message", "exactly once")
	if first.ID != answers[0].ID {
		t.Fatalf("event id %q, answer id %q", first.ID, answers[0].ID)
	}
	s.expect(t, "message", "sentinel")
	if got := th.metric(t, "ssekit_events_published_total", ""); got != 2 {
		t.Fatalf("published %v events, want 2", got)
	}
}
