//go:build js && wasm

// Command goapp is a Go app compiled to wasm that uses the SDK package
// directly, as DESIGN's Go API says apps may: typed dispatch with sdk.On,
// text binding with Bind, state changes. Its page (e2e/goapp_test.go)
// loads ssekit.js with data-wasm="none" for the helpers only. It reports
// to the page through globals the test reads.
package main

import (
	"github.com/hack-pad/safejs"

	"github.com/ssekit/ssekit/sdk"
)

type order struct {
	SKU string `json:"sku"`
	Qty int    `json:"qty"`
}

func report(name string, args ...any) {
	arr, err := safejs.Global().Get(name)
	if err == nil {
		_, _ = arr.Call("push", args...)
	}
}

func main() {
	c, err := sdk.Connect("/api/sse/connect/goapp", sdk.Options{})
	if err != nil {
		report("__goErrors", err.Error())
		select {}
	}
	c.OnState(func(s sdk.StateChange) { report("__goStates", string(s.State)) })
	c.OnError(func(err error) { report("__goErrors", err.Error()) })
	if _, err := sdk.On(c, "order", func(o order) { report("__goOrders", o.SKU, o.Qty) }); err != nil {
		report("__goErrors", err.Error())
	}
	if _, err := c.Bind("#msgs", "message", sdk.BindOptions{}); err != nil {
		report("__goErrors", err.Error())
	}
	select {}
}
