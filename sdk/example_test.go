//go:build !(js && wasm)

package sdk_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"time"

	"github.com/ssekit/ssekit/sdk"
	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// A hub to run the examples against: the same Go SDK runs in the browser
// (compiled to wasm, over EventSource) and natively (over net/http).
func exampleHub(opts ...server.Option) (*server.Hub, *httptest.Server) {
	hub, err := server.New(opts...)
	if err != nil {
		panic(err)
	}
	return hub, httptest.NewServer(hub.Handler())
}

// waitOpen blocks until c reports the open state.
func waitOpen(c *sdk.Client) {
	open := make(chan struct{})
	c.OnState(func(st sdk.StateChange) {
		if st.State == sdk.StateOpen {
			select {
			case <-open:
			default:
				close(open)
			}
		}
	})
	<-open
}

type Order struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

func ExampleOn() {
	hub, ts := exampleHub()
	defer ts.Close()
	defer hub.Close()

	c, err := sdk.Connect(ts.URL+"/api/sse/connect/shop", sdk.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	orders := make(chan Order)
	if _, err := sdk.On(c, "order", func(o Order) { orders <- o }); err != nil {
		panic(err)
	}
	waitOpen(c)

	_, _ = hub.Send("shop", wire.Event{Type: "order", Data: `{"sku":"A1","qty":2}`})
	o := <-orders
	fmt.Println(o.SKU, o.Qty)
	// Output: A1 2
}

func ExampleOn_decodeFailure() {
	hub, ts := exampleHub()
	defer ts.Close()
	defer hub.Close()

	c, err := sdk.Connect(ts.URL+"/api/sse/connect/shop", sdk.Options{})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	failures := make(chan error)
	c.OnError(func(err error) { failures <- err })
	_, _ = sdk.On(c, "order", func(o Order) { fmt.Println("never called") })
	waitOpen(c)

	_, _ = hub.Send("shop", wire.Event{Type: "order", ID: "o-1", Data: `{"sku":"A1","qty":"two"}`})
	err = <-failures
	var he *sdk.HandlerError
	var de *sdk.DecodeError
	fmt.Println(errors.As(err, &he), he.Event.ID, he.Event.Data)
	fmt.Println(errors.As(err, &de), de.Type)
	// Output:
	// true o-1 {"sku":"A1","qty":"two"}
	// true sdk_test.Order
}

func ExampleClient_OnState() {
	hub, err := server.New(server.WithRetry(20 * time.Millisecond)) // the floor of every delay
	if err != nil {
		panic(err)
	}
	ts, drop := sdk.NewDroppableServer(hub.Handler()) // drop closes its connections
	defer ts.Close()
	defer hub.Close()

	// The connection drops: the client backs off and comes back by itself.
	c, err := sdk.Connect(ts.URL+"/api/sse/connect/watcher", sdk.Options{
		Backoff: sdk.Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	states := make(chan sdk.StateChange, 16)
	c.OnState(func(st sdk.StateChange) { states <- st })
	for st := range states {
		fmt.Println(st.State, st.Attempt)
		if st.State == sdk.StateOpen {
			break
		}
	}
	drop()
	for st := range states {
		fmt.Println(st.State, st.Attempt)
		if st.State == sdk.StateOpen {
			break
		}
	}
	fmt.Println("reconnects:", c.Stats().Reconnects)
	// Output:
	// connecting 0
	// open 0
	// reconnecting 1
	// connecting 1
	// open 1
	// reconnects: 1
}

func ExampleBackoff_Cap() {
	b := sdk.Backoff{} // the defaults: 500ms, doubling, at most 30s
	for n := 1; n <= 8; n++ {
		fmt.Print(b.Cap(n), " ")
	}
	fmt.Println()
	// Output: 500ms 1s 2s 4s 8s 16s 30s 30s
}

func ExampleClassify() {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, f := range []sdk.Failure{
		{Status: 0},
		{Status: 204},
		{Status: 401},
		{Status: 503, RetryAfter: "120"},
		{Status: 503, RetryAfter: "Thu, 01 Jan 2026 00:00:30 GMT"},
	} {
		v, wait, reason := sdk.Classify(f, now)
		fmt.Println(f.Status, v == sdk.VerdictStop, wait, reason)
	}
	// Output:
	// 0 false 0s network error
	// 204 true 0s 204 No Content: the server ended the stream for good
	// 401 false 0s HTTP 401: not authorized
	// 503 false 2m0s HTTP 503: retry after 2m0s
	// 503 false 30s HTTP 503: retry after 30s
}

func ExampleSchema_Check() {
	s, err := sdk.ParseSchema(map[string]string{"sku": "string", "qty": "integer", "note": "string?"})
	if err != nil {
		panic(err)
	}
	fmt.Println(s.Check(`{"sku":"A1","qty":2}`))
	fmt.Println(s.Check(`{"sku":"A1","qty":2.5}`))
	fmt.Println(s.Check(`{"qty":2}`))
	fmt.Println(s.Check(`[1,2]`))
	// Output:
	// <nil>
	// ssekit/sdk: schema: field "qty" is number, want integer
	// ssekit/sdk: schema: field "sku" is missing
	// ssekit/sdk: schema: payload is array, want object
}
