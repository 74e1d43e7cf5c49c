// Package peers holds the servers ssekit is measured against: the same
// HTTP shape as the ssekit hub (GET /api/sse/connect/{id} opens a stream,
// POST /api/sse/sendAll with the form field message publishes to every
// stream) on other Go SSE libraries and on a minimal hand-written
// broadcaster, so one load client (e2e/loadtest) drives them all.
//
// Each sends an event as "id: N\ndata: <message>\n\n" and answers a
// stream's request only once the stream is registered, like the hub. It is
// a nested module so that the peer libraries never enter ssekit's go.mod.
package peers
