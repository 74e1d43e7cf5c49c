package sdk

import (
	"errors"
	"sync"
)

// Handler receives an event. An error it returns goes to the client's error
// listeners and never stops dispatch to the other handlers.
type Handler func(Event) error

// registry holds handlers by event type. Handlers for EventAny see every
// event that reaches the client. A type's list is never changed in place
// (add appends past what a reader holds, remove builds a new list), so
// dispatch reads it without copying.
type registry struct {
	mu     sync.Mutex
	next   int
	byType map[string][]entry
}

type entry struct {
	id int
	fn Handler
}

func newRegistry() *registry {
	return &registry{byType: make(map[string][]entry)}
}

// add registers fn for typ and returns a function that removes it. first is
// true when typ had no handler before (the browser layer then starts
// listening for it).
func (r *registry) add(typ string, fn Handler) (remove func(), first bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.next++
	id := r.next
	first = len(r.byType[typ]) == 0
	r.byType[typ] = append(r.byType[typ], entry{id: id, fn: fn})
	return func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		list := r.byType[typ]
		for i, e := range list {
			if e.id == id {
				r.byType[typ] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
		if len(r.byType[typ]) == 0 {
			delete(r.byType, typ)
		}
	}, first
}

// types lists the event types that have handlers.
func (r *registry) types() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.byType))
	for t := range r.byType {
		out = append(out, t)
	}
	return out
}

// dispatch calls the handlers of ev.Type, then (when wildcard is true) the
// EventAny handlers, in registration order, and returns the errors they
// reported, each a *HandlerError with the event. A handler that panics is
// reported the same way and never stops the others. A handler added or
// removed during dispatch takes effect from the next event.
func (r *registry) dispatch(ev Event, wildcard bool) []error {
	r.mu.Lock()
	list := r.byType[ev.Type]
	var wild []entry
	if wildcard && ev.Type != EventAny {
		wild = r.byType[EventAny]
	}
	r.mu.Unlock()
	var errs []error
	for _, l := range [2][]entry{list, wild} {
		for _, e := range l {
			if err := call(e.fn, ev); err != nil {
				errs = append(errs, &HandlerError{Event: ev, Err: err})
			}
		}
	}
	return errs
}

// call runs fn, turning a panic into an error: in a browser one panicking
// handler would otherwise stop the whole SDK.
func call(fn Handler, ev Event) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
		}
	}()
	return fn(ev)
}

// ErrPanic wraps a panic recovered from a handler or hook.
var ErrPanic = errors.New("ssekit/sdk: handler panicked")

func panicError(r any) error {
	if err, ok := r.(error); ok {
		return join(ErrPanic, err)
	}
	return ErrPanic
}

// HandlerError is a handler's failure, with the event it failed on.
type HandlerError struct {
	Event Event
	Err   error
}

func (e *HandlerError) Error() string {
	return "ssekit/sdk: handler for " + e.Event.Type + " failed: " + e.Err.Error()
}

func (e *HandlerError) Unwrap() error { return e.Err }
