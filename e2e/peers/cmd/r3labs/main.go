// Command r3labs serves the ssekit HTTP shape with github.com/r3labs/sse/v2:
// every client subscribes to one stream, "all", which one goroutine fans
// out to a channel per subscriber.
package main

import (
	"net/http"
	"strconv"
	"sync/atomic"

	sse "github.com/r3labs/sse/v2"

	"github.com/ssekit/ssekit/e2e/peers/internal/peer"
)

func main() {
	s := sse.New()
	s.AutoReplay = false // no unbounded event log: history is not what is measured
	s.CreateStream("all")
	var seq atomic.Uint64
	peer.Main("r3labs", peer.Routes{
		Connect: func(w http.ResponseWriter, r *http.Request) {
			// The library picks the stream from the query.
			r.URL.RawQuery = "stream=all"
			s.ServeHTTP(w, r)
		},
		Publish: func(data string) (int, error) {
			s.Publish("all", &sse.Event{ID: []byte(strconv.FormatUint(seq.Add(1), 10)), Data: []byte(data)})
			return -1, nil
		},
	})
}
