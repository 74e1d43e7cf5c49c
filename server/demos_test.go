package server

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestHub_payment_payidValidation(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	for _, c := range []struct {
		payid string
		ok    bool
	}{
		{"1", true}, {"42", true}, {"123456789012345678", true},
		{"", false}, {"0", false}, {"00", false}, {"01", false}, {"-1", false}, {"+1", false},
		{"1.5", false}, {"1e3", false}, {"abc", false}, {"4%202", false}, {"1234567890123456789", false},
	} {
		t.Run("payid="+c.payid, func(t *testing.T) {
			t.Parallel()
			resp, body := th.do(t, http.MethodGet, "/payback?payid="+c.payid, "", "")
			if !c.ok {
				wantError(t, resp, body, 400)
				s, resp := th.tryOpen(t, "/orderpay?payid="+c.payid)
				if s != nil {
					t.Fatal("orderpay opened a stream")
				}
				wantError(t, resp, readAll(t, resp), 400)
				return
			}
			if resp.StatusCode != 202 {
				t.Fatalf("payback: %d %s", resp.StatusCode, body)
			}
			s := th.open(t, "/orderpay?payid="+c.payid)
			if id, _ := s.connected(t); id != "pay-"+c.payid {
				t.Fatalf("orderpay stream for %q", id)
			}
		})
	}
}

// TestHub_payment_flow: the page's stream gets the message, then finish;
// another payment's page gets nothing.
func TestHub_payment_flow(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	page := th.open(t, "/orderpay?payid=1001")
	page.connected(t)
	other := th.open(t, "/orderpay?payid=1002")
	other.connected(t)
	resp, body := th.do(t, http.MethodGet, "/payback?payid=1001", "", "")
	if resp.StatusCode != 202 {
		t.Fatalf("payback: %d %s", resp.StatusCode, body)
	}
	var got struct{ Message, Finish Published }
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Message.Delivered != 1 || got.Finish.Delivered != 1 {
		t.Fatalf("payback answered %s (%v)", body, err)
	}
	msg := page.expect(t, "message", "用户支付成功")
	fin := page.expect(t, "finish", `{"payid":"1001"}`)
	if msg.ID != got.Message.ID || fin.ID != got.Finish.ID {
		t.Fatalf("ids %q %q, answer %s", msg.ID, fin.ID, body)
	}
	th.publishJSON(t, "/api/sse/sendAll", `{"data":"sentinel"}`)
	other.expect(t, "message", "sentinel")
}

func TestHub_words(t *testing.T) {
	t.Parallel()
	const interval = 20 * time.Millisecond
	th := startHub(t, WithWordsInterval(interval))
	want := strings.Fields("The quick brown fox jumps over the lazy dog.")

	start := time.Now()
	s := th.open(t, "/sse/words")
	for i, w := range want {
		ev := s.expect(t, "message", w)
		if ev.ID != strconv.Itoa(i) {
			t.Fatalf("word %d has id %q", i, ev.ID)
		}
	}
	s.expect(t, "end", `{"reason":"done"}`)
	if rest := s.end(t); len(rest) != 0 {
		t.Fatalf("events after end: %+v", rest)
	}
	if d := time.Since(start); d < time.Duration(len(want))*interval {
		t.Fatalf("%d words in %v: faster than one per %v", len(want), d, interval)
	}
	if !strings.HasPrefix(s.rawText(), "retry: 3000\n\n") {
		t.Fatalf("the stream starts with %q", s.rawText()[:20])
	}

	// A browser that reconnects resumes after its last word.
	r := th.open(t, "/sse/words", "Last-Event-ID", "5")
	for _, w := range want[6:] {
		r.expect(t, "message", w)
	}
	r.expect(t, "end", `{"reason":"done"}`)
	r.end(t)
}

func TestHub_stats(t *testing.T) {
	t.Parallel()
	th := startHub(t)
	s := th.open(t, "/sse/stats")
	for i := range 10 {
		th.publishJSON(t, "/api/sse/sendAll", `{"data":"`+strconv.Itoa(i)+`"}`)
	}
	ev := s.next(t)
	var st struct {
		Connections  *int     `json:"connections"`
		EventsPerSec *float64 `json:"eventsPerSec"`
		HeapBytes    *uint64  `json:"heapBytes"`
		Goroutines   *int     `json:"goroutines"`
		Time         string   `json:"time"`
	}
	if ev.Type != "stats" || json.Unmarshal([]byte(ev.Data), &st) != nil {
		t.Fatalf("got %q %q, want a stats event", ev.Type, ev.Data)
	}
	if st.Connections == nil || *st.Connections != 1 || st.EventsPerSec == nil || *st.EventsPerSec <= 0 ||
		st.HeapBytes == nil || *st.HeapBytes == 0 || st.Goroutines == nil || *st.Goroutines == 0 {
		t.Fatalf("stats %s", ev.Data)
	}
	if _, err := time.Parse(time.RFC3339, st.Time); err != nil {
		t.Fatalf("stats time %q: %v", st.Time, err)
	}
	s.close()
	eventually(t, wait, "the stats stream is released", func() bool { return th.Conns() == 0 })
}
