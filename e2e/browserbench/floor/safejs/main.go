//go:build js && wasm

// Command safejs is the floor (e2e/browserbench/floor) opening its
// EventSource through github.com/hack-pad/safejs (as patched in
// third_party/safejs) instead of syscall/js, as the SDK must: its size over
// the floor is what safejs alone costs, the part of ssekit.wasm's weight
// over the floor that no cut in the SDK can remove.
package main

import "github.com/hack-pad/safejs"

func main() {
	ctor, err := safejs.Global().Get("EventSource")
	if err != nil {
		panic(err)
	}
	es, err := ctor.New("/api/sse/connect/floor")
	if err != nil {
		panic(err)
	}
	console, err := safejs.Global().Get("console")
	if err != nil {
		panic(err)
	}
	fn, err := safejs.FuncOf(func(_ safejs.Value, args []safejs.Value) any {
		data, err := args[0].Get("data")
		if err == nil {
			_, err = console.Call("log", data)
		}
		return err
	})
	if err != nil {
		panic(err)
	}
	if _, err := es.Call("addEventListener", "message", fn); err != nil {
		panic(err)
	}
	select {}
}
