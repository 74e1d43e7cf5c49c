// Command gosse serves the ssekit HTTP shape with github.com/tmaxmax/go-sse
// and its default provider, Joe, which writes every event to every stream
// from its own goroutine.
package main

import (
	"strconv"
	"sync/atomic"

	sse "github.com/tmaxmax/go-sse"

	"github.com/ssekit/ssekit/e2e/peers/internal/peer"
)

func main() {
	s := &sse.Server{Provider: &sse.Joe{Replayer: flushOnSubscribe{}}}
	var seq atomic.Uint64
	peer.Main("gosse", peer.Routes{
		Connect: s.ServeHTTP, // every stream on the default topic
		Publish: func(data string) (int, error) {
			m := &sse.Message{ID: sse.ID(strconv.FormatUint(seq.Add(1), 10))}
			m.AppendData(data)
			return -1, s.Publish(m)
		},
	})
}

// flushOnSubscribe keeps no history. go-sse sends a stream's response
// headers with its first event; Joe calls Replay when it registers a
// stream, and the flush there answers the request at that moment, as the
// ssekit hub does, so a client knows it is subscribed.
type flushOnSubscribe struct{}

func (flushOnSubscribe) Put(m *sse.Message, _ []string) (*sse.Message, error) { return m, nil }

func (flushOnSubscribe) Replay(sub sse.Subscription) error { return sub.Client.Flush() }
