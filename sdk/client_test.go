//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

func TestClient_backoffGrowsWithinCapAndFloor(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		name  string
		rnd   float64
		floor int // server retry in ms
	}{
		{"high jitter", 0.999, 50},
		{"low jitter meets the floor", 0, 50},
		{"no server retry", 0.5, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				b := Backoff{Initial: 100 * ms, Max: time.Second, Factor: 2}
				cl, ft, r := newTestClient(t, Options{Backoff: b}, c.rnd)
				defer cl.Close()
				ft.last(t).s.opened()
				ft.last(t).s.event(Event{Type: EventConnected, Data: `{"clientId":"x","retry":` + strconv.Itoa(c.floor) + `}`})
				floor := time.Duration(c.floor) * ms
				for n := 1; n <= 6; n++ {
					fail(ft, t)
					synctest.Wait()
					st := r.last()
					want := b.Delay(n, floor, c.rnd)
					if st.State != StateReconnecting || st.Attempt != n || st.NextDelay != want {
						t.Fatalf("attempt %d: state %+v, want reconnecting with delay %v", n, st, want)
					}
					if st.NextDelay < floor || st.NextDelay > max(floor, b.Cap(n)) {
						t.Fatalf("attempt %d: delay %v outside [%v, %v]", n, st.NextDelay, floor, b.Cap(n))
					}
					dials := ft.dials()
					if want > 0 {
						time.Sleep(want - time.Nanosecond)
						synctest.Wait()
						if ft.dials() != dials {
							t.Fatalf("attempt %d: dialled before the delay", n)
						}
						time.Sleep(time.Nanosecond)
					}
					synctest.Wait()
					if ft.dials() != dials+1 {
						t.Fatalf("attempt %d: no dial after the delay", n)
					}
				}
			})
		})
	}
}

func TestClient_attemptsResetOnlyAfterAStableConnection(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Initial: 10 * ms, Max: 100 * ms, ResetAfter: 5 * time.Second}
		cl, ft, r := newTestClient(t, Options{Backoff: b}, 0)
		defer cl.Close()
		for range 3 {
			fail(ft, t)
			synctest.Wait()
		}
		if r.last().Attempt != 3 {
			t.Fatalf("attempt %d, want 3", r.last().Attempt)
		}
		// Open briefly: the counter goes on.
		ft.last(t).s.opened()
		time.Sleep(time.Second)
		fail(ft, t)
		synctest.Wait()
		if r.last().Attempt != 4 {
			t.Fatalf("after a short open: attempt %d, want 4", r.last().Attempt)
		}
		// Open for ResetAfter: the next failure is attempt 1 again.
		ft.last(t).s.opened()
		time.Sleep(5 * time.Second)
		fail(ft, t)
		synctest.Wait()
		if r.last().Attempt != 1 {
			t.Fatalf("after a stable open: attempt %d, want 1", r.last().Attempt)
		}
	})
}

func TestClient_reconnectEventIsNotAFailure(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{Backoff: Backoff{Initial: 10 * time.Second}}, 0.9)
		defer cl.Close()
		first := ft.last(t)
		first.s.opened()
		first.s.event(Event{Type: EventConnected, Data: `{"clientId":"x","retry":3000}`})
		first.s.event(Event{Type: EventMessage, ID: "e-7", Data: "m"})
		first.s.event(Event{Type: EventReconnect, ID: "e-7", Data: `{"reason":"rotation","retry":250}`})
		synctest.Wait()
		st := r.last()
		if st.State != StateReconnecting || st.Attempt != 0 || st.NextDelay != 250*ms || st.LastError != "" {
			t.Fatalf("state %+v, want reconnecting after exactly 250ms, attempt 0, no error", st)
		}
		if !first.closed {
			t.Fatal("the rotated connection was not closed by the client")
		}
		if len(ft.probes) != 0 {
			t.Fatal("a planned reconnect was probed like a failure")
		}
		// The old connection's own error, arriving late, changes nothing.
		first.s.failed(Failure{}, false)
		synctest.Wait()
		if r.last() != st {
			t.Fatalf("a late report of the old connection moved the state to %+v", r.last())
		}
		time.Sleep(250 * ms)
		synctest.Wait()
		if ft.dials() != 2 || ft.last(t).url != "http://h/s?lastEventId=e-7" {
			t.Fatalf("dials %d, last url %q; want a second dial resuming from e-7", ft.dials(), ft.last(t).url)
		}
	})
}

func TestClient_failuresByStatus(t *testing.T) {
	t.Parallel()
	b := Backoff{Initial: 100 * ms, Max: time.Second}
	cases := []struct {
		name   string
		answer Failure
		closed bool
		delay  time.Duration // for the ones that retry, with rnd 0.5
	}{
		{"204 stops", Failure{Status: 204}, true, 0},
		{"400 stops", Failure{Status: 400}, true, 0},
		{"404 stops", Failure{Status: 404}, true, 0},
		{"401 without a hook stops", Failure{Status: 401}, true, 0},
		{"html instead of a stream stops", Failure{Status: 200, ContentType: "text/html"}, true, 0},
		{"500 backs off", Failure{Status: 500}, false, 50 * ms},
		{"network error backs off", Failure{Err: errRefused}, false, 50 * ms},
		{"503 honours Retry-After", Failure{Status: 503, RetryAfter: "3"}, false, 3 * time.Second},
		{"429 honours Retry-After", Failure{Status: 429, RetryAfter: "1"}, false, time.Second},
		{"503 without Retry-After backs off", Failure{Status: 503}, false, 50 * ms},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ft := newFake()
				ft.answer = c.answer
				cl := newClient("http://h/s", Options{Backoff: b}, ft)
				cl.rnd = func() float64 { return 0.5 }
				r := record(cl)
				if err := cl.start(); err != nil {
					t.Fatal(err)
				}
				defer cl.Close()
				fail(ft, t)
				synctest.Wait()
				st := r.last()
				if len(ft.probes) != 1 || ft.probes[0] != "http://h/s" {
					t.Fatalf("probes %v, want one of the stream URL", ft.probes)
				}
				if c.closed {
					if st.State != StateClosed || st.Status != c.answer.Status || st.LastError == "" {
						t.Fatalf("state %+v, want closed with status %d and a reason", st, c.answer.Status)
					}
					time.Sleep(time.Hour)
					synctest.Wait()
					if ft.dials() != 1 {
						t.Fatalf("%d dials after stopping", ft.dials()-1)
					}
					return
				}
				if st.State != StateReconnecting || st.NextDelay != c.delay || st.Status != c.answer.Status {
					t.Fatalf("state %+v, want reconnecting after %v with status %d", st, c.delay, c.answer.Status)
				}
				time.Sleep(c.delay - time.Nanosecond)
				synctest.Wait()
				if ft.dials() != 1 {
					t.Fatal("dialled before the delay")
				}
				time.Sleep(time.Nanosecond)
				synctest.Wait()
				if ft.dials() != 2 {
					t.Fatal("no dial after the delay")
				}
			})
		})
	}
}

func TestClient_statusKnownWithoutProbe(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{}, 0)
		defer cl.Close()
		ft.last(t).s.failed(Failure{Status: 204}, true)
		synctest.Wait()
		if len(ft.probes) != 0 || r.last().State != StateClosed {
			t.Fatalf("probes %v, state %+v; want no probe and closed", ft.probes, r.last())
		}
	})
}

func TestClient_authHook(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b := Backoff{Initial: time.Second, Max: 10 * time.Second}
		ft := newFake()
		ft.answer = Failure{Status: 401}
		cl := newClient("http://h/s", Options{Backoff: b}, ft)
		cl.rnd = func() float64 { return 0.5 }
		var calls atomic.Int32
		var got AuthError
		cl.OnAuthError(func(info AuthError) bool {
			calls.Add(1)
			got = info
			time.Sleep(100 * ms) // renewing a cookie takes a while
			return true
		})
		r := record(cl)
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		fail(ft, t)
		synctest.Wait()
		if calls.Load() != 1 || got.Status != 401 || r.last().State != StateReconnecting {
			t.Fatalf("hook calls %d with %+v, state %+v", calls.Load(), got, r.last())
		}
		if ft.dials() != 1 {
			t.Fatal("dialled before the hook returned")
		}
		time.Sleep(100 * ms)
		synctest.Wait()
		if ft.dials() != 2 {
			t.Fatal("no reconnect at once after the hook said yes")
		}
		// A second auth failure in a row waits the backoff delay first.
		fail(ft, t)
		synctest.Wait()
		time.Sleep(100 * ms)
		synctest.Wait()
		if calls.Load() != 2 || ft.dials() != 2 || r.last().NextDelay != 500*ms {
			t.Fatalf("calls %d, dials %d, state %+v; want a 500ms wait", calls.Load(), ft.dials(), r.last())
		}
		time.Sleep(500 * ms)
		synctest.Wait()
		if ft.dials() != 3 {
			t.Fatal("no reconnect after the backoff delay")
		}
	})
}

func TestClient_authHookDeclinesOrPanics(t *testing.T) {
	t.Parallel()
	for name, hook := range map[string]func(AuthError) bool{
		"declines": func(AuthError) bool { return false },
		"panics":   func(AuthError) bool { panic("no session") },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				ft := newFake()
				ft.answer = Failure{Status: 403}
				cl := newClient("http://h/s", Options{}, ft)
				cl.OnAuthError(hook)
				r := record(cl)
				if err := cl.start(); err != nil {
					t.Fatal(err)
				}
				fail(ft, t)
				synctest.Wait()
				if st := r.last(); st.State != StateClosed || st.Status != 403 {
					t.Fatalf("state %+v, want closed with 403", st)
				}
				if name == "panics" && (len(r.errs) != 1 || !errors.Is(r.errs[0], ErrPanic)) {
					t.Fatalf("errors %v, want the panic reported", r.errs)
				}
			})
		})
	}
}

func TestClient_endEvent(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{}, 0)
		ft.last(t).s.opened()
		ft.last(t).s.event(Event{Type: EventEnd, Data: `{"reason":"disconnected"}`})
		synctest.Wait()
		if st := r.last(); st.State != StateClosed || !strings.Contains(st.LastError, "disconnected") {
			t.Fatalf("state %+v, want closed saying why", st)
		}
		if !ft.last(t).closed {
			t.Fatal("connection left open")
		}
		if _, err := cl.On("x", func(Event) error { return nil }); !errors.Is(err, ErrClosed) {
			t.Fatalf("On after end: %v, want ErrClosed", err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if ft.dials() != 1 || len(ft.probes) != 0 {
			t.Fatal("reconnected after end")
		}
	})
}

func TestClient_endTokenExpiredGoesThroughTheHook(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ft := newFake()
		cl := newClient("http://h/s", Options{}, ft)
		var got AuthError
		cl.OnAuthError(func(info AuthError) bool { got = info; return true })
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ft.last(t).s.opened()
		ft.last(t).s.event(Event{Type: EventMessage, ID: "e-1", Data: "m"})
		ft.last(t).s.event(Event{Type: EventEnd, ID: "e-1", Data: `{"reason":"token-expired"}`})
		synctest.Wait()
		if got.Reason != "token-expired" || got.Status != 0 {
			t.Fatalf("hook got %+v", got)
		}
		if ft.dials() != 2 || ft.last(t).url != "http://h/s?lastEventId=e-1" {
			t.Fatalf("dials %d, url %q; want a resume from e-1", ft.dials(), ft.last(t).url)
		}
	})
}

func TestClient_offlineWaitsForTheNetwork(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{Backoff: Backoff{Initial: 10 * ms, Max: 20 * ms}}, 0.5)
		defer cl.Close()
		ft.last(t).s.opened()
		ft.setOnline(false)
		fail(ft, t)
		synctest.Wait()
		if st := r.last(); st.State != StateReconnecting || !strings.Contains(st.LastError, "offline") {
			t.Fatalf("state %+v, want reconnecting, offline", st)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if ft.dials() != 1 || len(ft.probes) != 0 {
			t.Fatalf("%d dials and %d probes while offline", ft.dials()-1, len(ft.probes))
		}
		ft.setOnline(true)
		synctest.Wait()
		if ft.dials() != 2 {
			t.Fatal("no dial once online")
		}
		// Going offline while a delay runs: the timer waits for the network too.
		fail(ft, t)
		synctest.Wait()
		ft.setOnline(false)
		time.Sleep(time.Hour)
		synctest.Wait()
		if ft.dials() != 2 {
			t.Fatal("dialled while offline after the delay")
		}
		ft.setOnline(true)
		synctest.Wait()
		if ft.dials() != 3 {
			t.Fatal("no dial once online again")
		}
	})
}

func TestClient_duplicatesAndResume(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{Backoff: Backoff{Initial: 10 * ms}}, 0)
		defer cl.Close()
		var got []string
		if _, err := cl.On(EventAny, func(ev Event) error { got = append(got, ev.ID+":"+ev.Data); return nil }); err != nil {
			t.Fatal(err)
		}
		s := ft.last(t).s
		s.opened()
		s.event(Event{Type: EventConnected, Data: `{"clientId":"c","retry":0}`})
		s.event(Event{Type: EventMessage, ID: "1", Data: "a"})
		s.event(Event{Type: EventMessage, ID: "2", Data: "b"})
		s.event(Event{Type: EventMessage, ID: "2", Data: "no id field: inherits 2"})
		s.event(Event{Type: EventMessage, ID: "3", Data: "c"})
		fail(ft, t)
		synctest.Wait()
		time.Sleep(10 * ms)
		synctest.Wait()
		if u := ft.last(t).url; u != "http://h/s?lastEventId=3" {
			t.Fatalf("reconnected to %q, want lastEventId=3", u)
		}
		s = ft.last(t).s
		s.opened()
		s.event(Event{Type: EventMessage, ID: "2", Data: "b again"})
		s.event(Event{Type: EventMessage, ID: "3", Data: "c again"})
		s.event(Event{Type: EventMessage, ID: "4", Data: "d"})
		// A reset clears the filter: the server's history started over.
		s.event(Event{Type: EventReset, ID: "4", Data: `{"reason":"cursor-unknown"}`})
		s.event(Event{Type: EventMessage, ID: "1", Data: "a, new epoch"})
		want := []string{"1:a", "2:b", "2:no id field: inherits 2", "3:c", "4:d", "1:a, new epoch"}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("delivered %q, want %q", got, want)
		}
		st := cl.Stats()
		if st != (Stats{Received: 6, DroppedDuplicates: 2, Reconnects: 1, Resets: 1}) {
			t.Fatalf("stats %+v", st)
		}
		if len(r.resets) != 1 || r.resets[0] != "cursor-unknown" || cl.LastEventID() != "1" {
			t.Fatalf("resets %v, last id %q", r.resets, cl.LastEventID())
		}
	})
}

func TestClient_persistSession(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ft := newFake()
		ft.store[persistKey("http://h/s")] = "e-41"
		cl := newClient("http://h/s", Options{Persist: PersistSession}, ft)
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if u := ft.last(t).url; u != "http://h/s?lastEventId=e-41" {
			t.Fatalf("first dial %q, want a resume from the stored id", u)
		}
		ft.last(t).s.event(Event{Type: EventMessage, ID: "e-42", Data: "x"})
		if got := ft.load(persistKey("http://h/s")); got != "e-42" {
			t.Fatalf("stored %q, want e-42", got)
		}
	})
}

func TestClient_persistNoneKeepsNothing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ft := newFake()
		ft.store[persistKey("http://h/s")] = "e-41"
		cl := newClient("http://h/s", Options{}, ft)
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ft.last(t).s.event(Event{Type: EventMessage, ID: "e-42", Data: "x"})
		if ft.last(t).url != "http://h/s" || ft.load(persistKey("http://h/s")) != "e-41" {
			t.Fatal("persist none used or changed the storage")
		}
	})
}

func TestClient_pauseWhenHidden(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{PauseWhenHidden: true}, 0)
		first := ft.last(t)
		first.s.opened()
		first.s.event(Event{Type: EventMessage, ID: "9", Data: "x"})
		ft.setHidden(true)
		synctest.Wait()
		if !first.closed || !strings.Contains(r.last().LastError, "hidden") {
			t.Fatalf("closed %v, state %+v; want paused", first.closed, r.last())
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if ft.dials() != 1 {
			t.Fatal("dialled while hidden")
		}
		ft.setHidden(false)
		synctest.Wait()
		if ft.dials() != 2 || ft.last(t).url != "http://h/s?lastEventId=9" {
			t.Fatal("no resume when visible")
		}
		cl.Close()
		if len(ft.visFns) != 0 {
			t.Fatal("visibility listener kept after Close")
		}
	})
}

func TestClient_hiddenTabsStayOpenByDefault(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, _ := newTestClient(t, Options{}, 0)
		defer cl.Close()
		ft.last(t).s.opened()
		ft.setHidden(true)
		synctest.Wait()
		if ft.last(t).closed || len(ft.visFns) != 0 {
			t.Fatal("the default client watched visibility or closed the stream")
		}
	})
}

func TestClient_maxRetries(t *testing.T) {
	t.Parallel()
	cases := []struct {
		max, failures int
	}{
		{-1, 1}, {1, 2}, {3, 4},
	}
	for _, c := range cases {
		t.Run(strconv.Itoa(c.failures), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				cl, ft, r := newTestClient(t, Options{MaxRetries: c.max, Backoff: Backoff{Initial: ms}}, 0)
				defer cl.Close()
				for i := 1; i <= c.failures; i++ {
					if r.last().State == StateClosed {
						t.Fatalf("closed after %d failures, want %d", i-1, c.failures)
					}
					fail(ft, t)
					synctest.Wait()
					time.Sleep(ms)
					synctest.Wait()
				}
				if st := r.last(); st.State != StateClosed || st.LastError == "" {
					t.Fatalf("state %+v, want closed saying why", st)
				}
			})
		})
	}
}

func TestClient_closeReleasesEverything(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{PauseWhenHidden: true, Backoff: Backoff{Initial: time.Second}}, 0.5)
		fail(ft, t) // a timer runs
		synctest.Wait()
		cl.Close()
		cl.Close()
		time.Sleep(time.Hour)
		synctest.Wait()
		if ft.dials() != 1 {
			t.Fatal("the reconnect timer fired after Close")
		}
		if len(ft.visFns) != 0 {
			t.Fatal("visibility listener kept")
		}
		if got := r.stateNames(); got != "connecting,reconnecting,closed" {
			t.Fatalf("states %s", got)
		}
		// An online wait is cancelled too.
		cl2, ft2, _ := newTestClient(t, Options{}, 0)
		ft2.setOnline(false)
		fail(ft2, t)
		synctest.Wait()
		cl2.Close()
		ft2.setOnline(true)
		synctest.Wait()
		if ft2.dials() != 1 || !ft2.last(t).closed {
			t.Fatal("dialled after Close on online, or left a connection open")
		}
	})
}

func TestClient_dispatchRules(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cl, ft, r := newTestClient(t, Options{}, 0)
		defer cl.Close()
		var any, named, second []string
		cl.On(EventAny, func(ev Event) error { any = append(any, ev.Type); return nil })
		cl.On(EventConnected, func(ev Event) error { named = append(named, ev.Type); return nil })
		cl.On("order", func(Event) error { panic("bad handler") })
		cl.On("order", func(ev Event) error { second = append(second, ev.Data); return nil })
		s := ft.last(t).s
		s.opened()
		s.event(Event{Type: EventConnected, Data: `{"clientId":"abc","retry":10}`})
		s.event(Event{Type: "order", ID: "1", Data: "o1"})
		s.event(Event{Type: EventMessage, ID: "2", Data: "m"})
		s.event(Event{Type: "unlistened", ID: "3", Data: "u"})
		if strings.Join(any, ",") != "order,message" {
			t.Fatalf("* saw %v, want order and message only", any)
		}
		if len(named) != 1 || len(second) != 1 || cl.ClientID() != "abc" {
			t.Fatalf("named %v, second %v, client id %q", named, second, cl.ClientID())
		}
		var he *HandlerError
		if len(r.errs) != 1 || !errors.As(r.errs[0], &he) || !errors.Is(r.errs[0], ErrPanic) || he.Event.Data != "o1" {
			t.Fatalf("errors %v, want the panic with its event", r.errs)
		}
		// The unlistened event still moved the cursor, as in a browser.
		if cl.LastEventID() != "3" || cl.Stats().Received != 2 {
			t.Fatalf("last id %q, stats %+v", cl.LastEventID(), cl.Stats())
		}
		// A type registered while open is listened for on that connection.
		cl.On("late", func(Event) error { return nil })
		if tt := ft.last(t).types; tt[len(tt)-1] != "late" {
			t.Fatalf("types %v, want late added", tt)
		}
	})
}

func TestClient_startFailure(t *testing.T) {
	t.Parallel()
	ft := newFake()
	ft.openErr = errors.New("SyntaxError: bad URL")
	cl := newClient("::", Options{}, ft)
	if err := cl.start(); err == nil || cl.State().State != StateClosed {
		t.Fatalf("start: %v, state %+v; want the error and closed", err, cl.State())
	}
}

func TestClient_listenerMayCallBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ft := newFake()
		cl := newClient("http://h/s", Options{}, ft)
		var states []State
		cl.OnState(func(st StateChange) {
			states = append(states, st.State)
			if st.State == StateOpen {
				cl.Close() // re-entrant: queued, delivered after this call
			}
		})
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		ft.last(t).s.opened()
		if len(states) != 3 || states[2] != StateClosed {
			t.Fatalf("states %v, want connecting, open, closed in order", states)
		}
	})
}

func TestClient_panickingStateListener(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ft := newFake()
		cl := newClient("http://h/s", Options{}, ft)
		var errs []error
		var seen []State
		cl.OnError(func(err error) { errs = append(errs, err) })
		cl.OnState(func(st StateChange) {
			if st.State == StateOpen {
				panic(errors.New("listener bug"))
			}
		})
		cl.OnState(func(st StateChange) { seen = append(seen, st.State) })
		if err := cl.start(); err != nil {
			t.Fatal(err)
		}
		ft.last(t).s.opened()
		cl.Close()
		if len(errs) != 1 || !errors.Is(errs[0], ErrPanic) {
			t.Fatalf("errors %v, want the panic reported", errs)
		}
		if len(seen) != 3 || seen[2] != StateClosed {
			t.Fatalf("the other listener saw %v, want connecting, open, closed", seen)
		}
	})
}
