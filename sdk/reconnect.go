package sdk

import (
	"slices"
)

// The reconnect state machine: every step (a dial, a wait, a probe, an
// auth hook) runs under a token; a later step makes the callbacks of the
// older ones do nothing. The client, not the platform, decides when to
// come back: see Backoff and Classify.

// next starts a new step; callers hold c.mu.
func (c *Client) next() int {
	c.tok++
	if c.stopTimer != nil {
		c.stopTimer()
		c.stopTimer = nil
	}
	if c.cancelWait != nil {
		c.cancelWait()
		c.cancelWait = nil
	}
	return c.tok
}

// current reports whether tok is still the client's step; callers hold c.mu.
func (c *Client) current(tok int) bool { return !c.closed && tok == c.tok }

// wake runs when a wait is over: it dials, unless the page is hidden and
// the client pauses, or the browser is offline.
func (c *Client) wake(tok int) {
	c.mu.Lock()
	if !c.current(tok) {
		c.mu.Unlock()
		return
	}
	switch {
	case c.opts.PauseWhenHidden && c.tr.hidden():
		c.pauseLocked()
	case !c.tr.online():
		c.waitOnlineLocked(tok, 0)
	default:
		if err := c.dialLocked(); err != nil {
			// Report from a fresh goroutine: failed takes the lock held here.
			go sink{c: c, tok: c.tok}.failed(Failure{Err: err}, false)
		}
	}
	c.mu.Unlock()
	c.deliver()
}

// pauseLocked closes the connection until the page is visible again.
func (c *Client) pauseLocked() {
	c.paused = true
	c.takeOverLocked()
	c.setStateLocked(StateChange{State: StateReconnecting, Attempt: c.attempt, LastError: "paused while the page is hidden"})
}

// dialLocked opens a connection, resuming from the last event id.
func (c *Client) dialLocked() error {
	tok := c.next()
	u := c.url
	if c.lastID != "" {
		u = withLastEventID(u, c.lastID)
	}
	types := make([]string, 0, len(c.types))
	for t := range c.types {
		types = append(types, t)
	}
	sortStrings(types)
	c.prevID = ""
	c.setStateLocked(StateChange{State: StateConnecting, Attempt: c.attempt})
	s, err := c.tr.open(u, types, sink{c: c, tok: tok})
	if err != nil {
		return err
	}
	c.cur = s
	return nil
}

// waitOnlineLocked waits for the network instead of burning attempts.
func (c *Client) waitOnlineLocked(tok, status int) {
	c.setStateLocked(StateChange{State: StateReconnecting, Attempt: c.attempt, Status: status, LastError: "offline: waiting for the network"})
	if c.cancelWait != nil {
		c.cancelWait()
	}
	c.cancelWait = c.tr.onOnline(func() { c.wake(tok) })
}

// sink is how one connection reports to its client; reports from a
// connection the client has moved on from are ignored.
type sink struct {
	c   *Client
	tok int
}

func (s sink) opened() {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	c.openedAt = monotonic()
	if c.everOpen {
		c.stats.Reconnects++
	}
	c.everOpen = true
	c.setStateLocked(StateChange{State: StateOpen, Attempt: c.attempt})
	c.mu.Unlock()
	c.deliver()
}

func (s sink) event(ev Event) {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	// An event that carries no id field repeats the previous event's id
	// (EventSource's lastEventId persists), so only a changed id is a new
	// one to check and record.
	if ev.ID != c.prevID {
		c.prevID = ev.ID
		if c.seen.check(ev.ID) {
			c.stats.DroppedDuplicates++
			c.mu.Unlock()
			return
		}
		c.lastID = ev.ID
		if c.opts.Persist == PersistSession {
			c.tr.save(persistKey(c.url), ev.ID)
		}
	}
	if !c.types[ev.Type] {
		c.mu.Unlock()
		return
	}
	control := isControl(ev.Type)
	if !control {
		c.stats.Received++
	}
	c.mu.Unlock()

	switch ev.Type {
	case EventConnected:
		c.connected(ev)
	case EventReset:
		c.reset(ev)
	}
	for _, err := range c.reg.dispatch(ev, !control) {
		c.reportError(err)
	}
	switch ev.Type {
	case EventReconnect:
		c.reconnectRequested(s.tok, ev)
	case EventEnd:
		c.ended(s.tok, ev)
	}
}

// failed reports a broken connection. known says f.Status came from the
// connection itself; otherwise the client probes for it.
func (s sink) failed(f Failure, known bool) {
	c := s.c
	c.mu.Lock()
	if !c.current(s.tok) {
		c.mu.Unlock()
		return
	}
	tok := c.takeOverLocked()
	c.attempt++
	attempt := c.attempt
	retries := c.opts.MaxRetries
	switch {
	case retries < 0 || (retries > 0 && attempt > retries):
		reason := "gave up after " + itoa(attempt-1) + " reconnect attempts"
		if retries < 0 {
			reason = "stream failed and reconnecting is off"
		}
		c.closeLocked(StateChange{State: StateClosed, Attempt: attempt - 1, Status: f.Status, LastError: reason})
	case !c.tr.online():
		c.waitOnlineLocked(tok, f.Status)
	case known:
		c.decideLocked(tok, attempt, f)
	default:
		c.mu.Unlock()
		c.tr.probe(c.url, func(f Failure) {
			c.mu.Lock()
			if c.current(tok) {
				c.decideLocked(tok, attempt, f)
			}
			c.mu.Unlock()
			c.deliver()
		})
		return
	}
	c.mu.Unlock()
	c.deliver()
}

// takeOverLocked closes the current connection (the SDK reconnects, never
// the platform) and starts a new step. A connection that stayed open long
// enough resets the attempt counters.
func (c *Client) takeOverLocked() int {
	if c.cur != nil {
		c.cur.close()
		c.cur = nil
	}
	if c.openedAt != 0 && monotonic()-c.openedAt >= c.opts.Backoff.ResetAfter {
		c.attempt, c.authInRow = 0, 0
	}
	c.openedAt = 0
	return c.next()
}

// decideLocked acts on a classified failure.
func (c *Client) decideLocked(tok, attempt int, f Failure) {
	v, retryAfter, reason := classifyAt(f, wallClock())
	if f.Status == 0 && f.Err != nil {
		reason += ": " + f.Err.Error()
	}
	switch v {
	case VerdictStop:
		c.closeLocked(StateChange{State: StateClosed, Attempt: attempt, Status: f.Status, LastError: reason})
	case VerdictAuth:
		c.authenticateLocked(tok, AuthError{Status: f.Status, Reason: reason})
	default:
		d := c.opts.Backoff.Delay(attempt, c.serverRetry, c.rnd())
		if v == VerdictRetryAfter {
			d = max(d, retryAfter)
		}
		c.scheduleLocked(tok, d, StateChange{State: StateReconnecting, Attempt: attempt, NextDelay: d, Status: f.Status, LastError: reason})
	}
}

// scheduleLocked reports st and wakes after d.
func (c *Client) scheduleLocked(tok int, d Duration, st StateChange) {
	c.setStateLocked(st)
	c.stopTimer = afterFunc(d, func() { c.wake(tok) })
}

// authenticateLocked asks the auth hook (on its own goroutine: it may
// block) and reconnects if it says so. The first auth failure in a row
// reconnects at once; later ones wait the backoff delay, so a hook that
// cannot fix anything never drives a tight loop.
func (c *Client) authenticateLocked(tok int, info AuthError) {
	fn := c.authFn
	if fn == nil {
		c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, Status: info.Status, LastError: info.Reason + " (no auth hook)"})
		return
	}
	c.authInRow++
	var d Duration
	if c.authInRow > 1 {
		d = c.opts.Backoff.Delay(c.authInRow-1, c.serverRetry, c.rnd())
	}
	st := StateChange{State: StateReconnecting, Attempt: c.attempt, NextDelay: d, Status: info.Status, LastError: info.Reason}
	c.setStateLocked(st)
	go func() {
		ok := c.callAuth(fn, info)
		c.mu.Lock()
		if c.current(tok) {
			if ok {
				c.scheduleLocked(tok, d, st)
			} else {
				c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, Status: info.Status, LastError: info.Reason + " (the auth hook declined)"})
			}
		}
		c.mu.Unlock()
		c.deliver()
	}()
}

// callAuth runs the hook; a panic counts as a refusal and is reported.
func (c *Client) callAuth(fn func(AuthError) bool, info AuthError) (ok bool) {
	defer func() {
		if r := recover(); r != nil {
			ok = false
			c.reportError(panicError(r))
		}
	}()
	return fn(info)
}

// connected learns the client id and the server's retry, the floor of
// every reconnect delay.
func (c *Client) connected(ev Event) {
	fields, _, err := objectFields(ev.Data)
	if err != nil {
		c.reportError(&HandlerError{Event: ev, Err: err})
		return
	}
	c.mu.Lock()
	if id, ok := fieldString(fields, "clientId"); ok {
		c.clientID = id
	}
	if ms, ok := fieldInt(fields, "retry"); ok && ms >= 0 {
		c.serverRetry = clampDelay(Duration(ms) * millisecond)
	}
	c.mu.Unlock()
}

// reset: the server could not resume the cursor, so history starts over
// and the duplicate filter with it.
func (c *Client) reset(ev Event) {
	reason := controlReason(ev)
	c.mu.Lock()
	c.seen.clear()
	c.stats.Resets++
	fns := slices.Clone(c.resetFns)
	c.mu.Unlock()
	for _, fn := range fns {
		fn(reason)
	}
}

// reconnectRequested: the server closes the stream on purpose (rotation,
// drain). Come back after its retry; this is not a failure, so the attempt
// counter does not grow.
func (c *Client) reconnectRequested(tok int, ev Event) {
	d := Duration(-1)
	if fields, _, err := objectFields(ev.Data); err == nil {
		if ms, ok := fieldInt(fields, "retry"); ok && ms >= 0 {
			d = clampDelay(Duration(ms) * millisecond)
		}
	}
	c.mu.Lock()
	if c.current(tok) {
		if d < 0 {
			d = c.serverRetry
		}
		tok = c.takeOverLocked()
		c.scheduleLocked(tok, d, StateChange{State: StateReconnecting, Attempt: c.attempt, NextDelay: d})
	}
	c.mu.Unlock()
	c.deliver()
}

// ended: the server said not to come back, unless the reason is an expired
// token and the auth hook renews it.
func (c *Client) ended(tok int, ev Event) {
	reason := controlReason(ev)
	c.mu.Lock()
	if c.current(tok) {
		tok = c.takeOverLocked()
		if reason == "token-expired" {
			c.authenticateLocked(tok, AuthError{Reason: reason})
		} else {
			c.closeLocked(StateChange{State: StateClosed, Attempt: c.attempt, LastError: "ended by the server: " + reason})
		}
	}
	c.mu.Unlock()
	c.deliver()
}

func controlReason(ev Event) string {
	fields, _, err := objectFields(ev.Data)
	if err != nil {
		return ""
	}
	r, _ := fieldString(fields, "reason")
	return r
}

// visibilityChanged pauses and resumes with PauseWhenHidden.
func (c *Client) visibilityChanged(hidden bool) {
	c.mu.Lock()
	switch {
	case c.closed:
	case hidden && !c.paused:
		c.pauseLocked()
	case !hidden && c.paused:
		c.paused = false
		tok := c.next()
		c.mu.Unlock()
		c.wake(tok)
		return
	}
	c.mu.Unlock()
	c.deliver()
}
