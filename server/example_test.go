package server_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// A hub serves its HTTP API through Handler; the application publishes
// with Send, SendTopic and SendAll, and clients resume with Last-Event-ID.
func Example() {
	hub, err := server.New(server.WithRetry(2 * time.Second))
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	defer hub.Close()

	resp, err := http.Get(srv.URL + "/api/sse/connect/alice?topics=orders")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	events := wire.NewParser(resp.Body)
	connected, _ := events.Next() // the stream is registered before this arrives
	fmt.Println(connected.Type, connected.Data)

	if _, err := hub.Send("alice", wire.Event{Data: "hello alice"}); err != nil {
		log.Fatal(err)
	}
	if _, err := hub.SendTopic("orders", wire.Event{Type: "order", Data: `{"sku":"A1"}`}); err != nil {
		log.Fatal(err)
	}
	p, _ := hub.SendAll(wire.Event{Data: "to everyone"})
	fmt.Println("delivered to", p.Delivered, "stream")

	for range 3 {
		ev, _ := events.Next()
		fmt.Println(ev.Type, ev.Data)
	}
	// Output:
	// connected {"clientId":"alice","retry":2000}
	// delivered to 1 stream
	// message hello alice
	// order {"sku":"A1"}
	// message to everyone
}

// Publishing over HTTP: JSON or a form field message; 202 names the id.
func Example_publishOverHTTP() {
	hub, err := server.New()
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()
	defer hub.Close()

	resp, err := http.Post(srv.URL+"/api/sse/sendAll", "application/json", strings.NewReader(`{"event":"note","data":{"a": 1}}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)

	resp, err = http.Post(srv.URL+"/api/sse/sendAll", "application/json", strings.NewReader(`{"data":"x","extra":1}`))
	if err != nil {
		log.Fatal(err)
	}
	resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 202
	// 400
}

// Drain before http.Server.Shutdown: every stream gets a reconnect event
// with a short retry, so clients come back to another instance at once.
func ExampleHub_Drain() {
	hub, err := server.New()
	if err != nil {
		log.Fatal(err)
	}
	srv := httptest.NewServer(hub.Handler())
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/api/sse/connect/bob")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	events := wire.NewParser(resp.Body)
	_, _ = events.Next() // connected

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hub.Drain(ctx); err != nil {
		log.Fatal(err)
	}
	ev, _ := events.Next()
	fmt.Println(ev.Type, ev.Data)
	retry, _ := events.Retry()
	fmt.Println("retry", retry)
	// Output:
	// reconnect {"reason":"drain","retry":250}
	// retry 250ms
}
