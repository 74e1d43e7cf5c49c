// Command handwritten is the floor of the side-by-side benchmarks: the
// least an SSE broadcaster on net/http does. A map of channels under a
// mutex, one goroutine per stream (the request's), each event encoded once
// and shared, one Write and one Flush per event, and a subscriber whose
// queue is full dropped rather than waited for.
package main

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/ssekit/ssekit/e2e/peers/internal/peer"
)

// queueSize is the frames a stream may have waiting, as the ssekit hub's
// default.
const queueSize = 1024

type broadcaster struct {
	mu   sync.Mutex
	subs map[chan []byte]struct{}
	seq  uint64
}

func main() {
	b := &broadcaster{subs: make(map[chan []byte]struct{})}
	peer.Main("handwritten", peer.Routes{Connect: b.connect, Publish: b.publish})
}

func (b *broadcaster) connect(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []byte, queueSize)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	defer b.remove(ch)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	flusher.Flush()
	for {
		select {
		case <-r.Context().Done():
			return
		case frame, ok := <-ch:
			if !ok {
				return // dropped as slow
			}
			if _, err := w.Write(frame); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func (b *broadcaster) remove(ch chan []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.subs[ch]; ok {
		delete(b.subs, ch)
		close(ch)
	}
}

func (b *broadcaster) publish(data string) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	frame := encode(b.seq, data)
	n := 0
	for ch := range b.subs {
		select {
		case ch <- frame:
			n++
		default:
			delete(b.subs, ch)
			close(ch)
		}
	}
	return n, nil
}

// encode writes "id: N\n", one data line per line of data, and the blank
// line that dispatches the event.
func encode(id uint64, data string) []byte {
	frame := make([]byte, 0, len(data)+32)
	frame = append(frame, "id: "...)
	frame = strconv.AppendUint(frame, id, 10)
	frame = append(frame, '\n')
	data = strings.ReplaceAll(strings.ReplaceAll(data, "\r\n", "\n"), "\r", "\n")
	for line := range strings.SplitSeq(data, "\n") {
		frame = append(frame, "data: "...)
		frame = append(frame, line...)
		frame = append(frame, '\n')
	}
	return append(frame, '\n')
}
