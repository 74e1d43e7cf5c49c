//go:build js && wasm

// Command floor is the smallest useful Go wasm for server-sent events: it
// opens an EventSource through syscall/js and logs each message. Its size,
// built with the flags of ssekit.wasm, is the floor ssekit.wasm is measured
// against (see e2e/browserbench).
package main

import "syscall/js"

func main() {
	es := js.Global().Get("EventSource").New("/api/sse/connect/floor")
	console := js.Global().Get("console")
	es.Call("addEventListener", "message", js.FuncOf(func(_ js.Value, args []js.Value) any {
		console.Call("log", args[0].Get("data"))
		return nil
	}))
	select {}
}
