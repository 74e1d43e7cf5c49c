// Package sdk is the ssekit client library: typed dispatch, safe DOM
// insertion and reconnect policy around the browser's EventSource.
//
// The logic (dispatch registry, decode rules, state, backoff) is pure Go in
// files without build tags, so it is tested natively. The browser layer
// (EventSource, DOM) lives behind `//go:build js && wasm` and touches
// JavaScript only through github.com/hack-pad/safejs, so a JS exception is
// an error, never a panic.
package sdk
