//go:build js && wasm

// Command wasm is the ssekit SDK compiled to WebAssembly: it exports the JS
// API that www/ssekit.js publishes as globalThis.SSEKit, and nothing else.
package main

import "github.com/ssekit/ssekit/sdk"

func main() {
	if err := sdk.Export(); err != nil {
		panic(err)
	}
	select {} // keep the Go side alive for the page's lifetime
}
