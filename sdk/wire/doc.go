// Package wire is the Server-Sent Events wire format: an encoder for the
// server and a streaming parser for clients and tests, both following the
// WHATWG HTML "Server-sent events" section ("Parsing an event stream" and
// "Interpreting an event stream"). It uses the standard library only, so the
// server, the load-test tools and the wasm SDK can all import it.
//
// The encoder and the parser share one vocabulary (the Field* constants) and
// are tested against each other: whatever [AppendEvent] accepts, [Parser]
// reads back as exactly one equal event.
//
// # What the protocol can carry
//
// An event stream is UTF-8 text split into lines. A line ends with CR, LF or
// CRLF, so a line break inside a value cannot be sent as such:
//
//   - Data and comments with line breaks are written as several lines, and
//     the receiver joins them with LF. CR and CRLF therefore arrive as LF.
//     This is the only change the protocol makes to data.
//   - An id or event type cannot be split over lines, so one containing CR or
//     LF is rejected ([ErrInvalidID], [ErrInvalidType]) rather than stripped:
//     stripping would silently deliver a different id or type. NUL is
//     rejected as well, because a browser ignores an id containing NUL.
//   - Text is sent as is; a receiver decodes invalid UTF-8 to U+FFFD.
//   - The reconnection time is a whole number of milliseconds.
//
// A frame written by the encoder always holds exactly one event: no input can
// add a field or end the frame early.
package wire
