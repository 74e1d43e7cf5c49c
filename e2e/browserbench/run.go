package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/chromedp/cdproto/cdp"
	cdpnetwork "github.com/chromedp/cdproto/network"
	cdpprofiler "github.com/chromedp/cdproto/profiler"
	"github.com/chromedp/chromedp"

	"github.com/ssekit/ssekit/e2e"
	"github.com/ssekit/ssekit/sdk/wire"
	"github.com/ssekit/ssekit/server"
)

// page is one of the two pages under test.
type page string

const (
	pageWasm  page = "wasm"
	pagePlain page = "plain"
)

// bench is a hub serving the bench pages, the API and www/ on loopback.
type bench struct {
	hub   *server.Hub
	url   string
	srv   *http.Server
	drops atomic.Int64 // streams the hub dropped as slow: a run with one is void
	// symsWasm is a build of ssekit.wasm with its symbols, served to the
	// profiled run; set before the first run.
	symsWasm string
	// devtoolsNetwork keeps the DevTools Network domain on while a run
	// measures (see run); set before the first run.
	devtoolsNetwork bool
}

// startBench starts a hub that holds up to queue frames per stream, so a
// page slower than the publisher gets every event instead of being dropped.
func startBench(queue int) (*bench, error) {
	b := &bench{}
	log := slog.New(dropCounter{&b.drops})
	www := filepath.Join(e2e.Root(), "www")
	h, err := server.New(server.WithStatic(www), server.WithQueueSize(queue),
		server.WithWriteTimeout(time.Minute), server.WithLogger(log))
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b.hub = h
	b.url = "http://" + ln.Addr().String()
	b.srv = &http.Server{Handler: pages(h.Handler(), www, &b.symsWasm), ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = b.srv.Serve(ln) }()
	return b, nil
}

func (b *bench) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = b.hub.Drain(ctx)
	_ = b.srv.Shutdown(ctx)
}

// dropCounter is a slog handler that counts the hub's "slow client dropped"
// records and discards the rest.
type dropCounter struct{ n *atomic.Int64 }

func (d dropCounter) Enabled(context.Context, slog.Level) bool { return true }
func (d dropCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "slow client dropped" {
		d.n.Add(1)
	}
	return nil
}
func (d dropCounter) WithAttrs([]slog.Attr) slog.Handler { return d }
func (d dropCounter) WithGroup(string) slog.Handler      { return d }

// result is one run of one page.
type result struct {
	Page     page
	N        int
	Millis   float64 // from just before the first publish to the last render, in the page's clock
	FirstMs  float64 // from just before the first publish to the first render
	PerSec   float64 // events rendered per second over that span
	Publish  time.Duration
	LoadTime time.Duration // tab open to stream open
}

// pageState is window.bench as the page leaves it.
type pageState struct {
	Count int     `json:"count"`
	Start float64 `json:"start"`
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	Opens int     `json:"opens"`
	Done  bool    `json:"done"`
	Error string  `json:"error"`
}

var errRun = errors.New("browserbench: run failed")

// run opens p in a fresh tab of browser, publishes n events of size bytes
// to it alone, waits until the page has rendered all of them and checks
// that each arrived once and in order. With prof, the page loads the wasm
// with symbols and the DevTools CPU profile of the span from the first
// publish to the last render lands in *prof.
func (b *bench) run(browser context.Context, p page, id string, n, size int, timeout time.Duration, prof **cdpprofiler.Profile) (result, error) {
	tab, cancelTab := chromedp.NewContext(browser)
	defer cancelTab()
	ctx, cancel := context.WithTimeout(tab, timeout)
	defer cancel()

	start := time.Now()
	u := fmt.Sprintf("%s/bench/%s.html?id=%s&n=%d", b.url, p, url.QueryEscape(id), n)
	if prof != nil {
		u += "&syms"
		if _, err := chromedp.Call(ctx, cdpprofiler.Enable, cdp.Empty{}); err != nil {
			return result{}, fmt.Errorf("%w: profiler: %w", errRun, err)
		}
		if _, err := chromedp.Call(ctx, cdpprofiler.SetSamplingInterval, cdpprofiler.SetSamplingIntervalParams{Interval: 100}); err != nil {
			return result{}, fmt.Errorf("%w: profiler: %w", errRun, err)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Navigate(u)); err != nil {
		return result{}, fmt.Errorf("%w: open %s: %w", errRun, u, err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.bench && (window.bench.open || !!window.bench.error)`,
		chromedp.WithPollingInterval(5*time.Millisecond))); err != nil {
		return result{}, fmt.Errorf("%w: %s: stream not open: %w", errRun, p, err)
	}
	if err := b.waitClient(ctx, id); err != nil {
		return result{}, fmt.Errorf("%w: %s: %w", errRun, p, err)
	}
	loaded := time.Since(start)

	// chromedp enables the DevTools Network domain in every tab (Navigate
	// reads its events), and with it on the renderer sends the client a
	// Network.eventSourceMessageReceived for every message of an
	// EventSource: 5000 protocol events per run, which no user's browser
	// sends. Their work runs as a task after each burst of dispatches, so
	// it delayed a page that renders in a later task (the wasm page hands
	// a read's events to Go in one) by 50-130 ms, and a page that renders
	// inside the dispatch (the plain page) not at all. Both pages are
	// measured with the domain off, and a message event reaching the
	// client voids the run.
	var devtoolsMessages atomic.Int64
	if !b.devtoolsNetwork {
		if _, err := chromedp.Call(ctx, cdpnetwork.Disable, cdp.Empty{}); err != nil {
			return result{}, fmt.Errorf("%w: %s: disable the DevTools Network domain: %w", errRun, p, err)
		}
		if err := chromedp.Listen(ctx, func(ev any) {
			if _, ok := ev.(*cdpnetwork.EventEventSourceMessageReceived); ok {
				devtoolsMessages.Add(1)
			}
		}); err != nil {
			return result{}, fmt.Errorf("%w: %s: %w", errRun, p, err)
		}
	}

	if prof != nil {
		if _, err := chromedp.Call(ctx, cdpprofiler.Start, cdp.Empty{}); err != nil {
			return result{}, fmt.Errorf("%w: profiler: %w", errRun, err)
		}
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.bench.start = performance.now()`)); err != nil {
		return result{}, fmt.Errorf("%w: %s: mark the start: %w", errRun, p, err)
	}
	drops := b.drops.Load()
	pubStart := time.Now()
	pad := strings.Repeat("x", max(size-9, 0))
	for i := range n {
		res, err := b.hub.Send(id, wire.Event{Data: fmt.Sprintf("%08d ", i) + pad})
		if err != nil {
			return result{}, fmt.Errorf("%w: %s: publish %d: %w", errRun, p, i, err)
		}
		if res.Delivered != 1 {
			return result{}, fmt.Errorf("%w: %s: publish %d reached %d streams, want 1", errRun, p, i, res.Delivered)
		}
	}
	published := time.Since(pubStart)

	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`window.bench.done || !!window.bench.error`,
		chromedp.WithPollingInterval(10*time.Millisecond))); err != nil {
		st, _ := chromedp.Run(context.WithoutCancel(tab), chromedp.Evaluate[pageState](`window.bench`))
		return result{}, fmt.Errorf("%w: %s: %d of %d events rendered: %w", errRun, p, st.Count, n, err)
	}
	if prof != nil {
		res, err := chromedp.Call(ctx, cdpprofiler.Stop, cdp.Empty{})
		if err != nil {
			return result{}, fmt.Errorf("%w: profiler: %w", errRun, err)
		}
		*prof = res.Profile
	}
	st, err := chromedp.Run(ctx, chromedp.Evaluate[pageState](`window.bench`))
	if err != nil {
		return result{}, fmt.Errorf("%w: %s: read figures: %w", errRun, p, err)
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[string](`window.bench.check()`))
	if err != nil {
		return result{}, fmt.Errorf("%w: %s: check: %w", errRun, p, err)
	}
	_, _ = chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.client.close()`))
	switch {
	case st.Error != "":
		return result{}, fmt.Errorf("%w: %s: page error: %s", errRun, p, st.Error)
	case bad != "":
		return result{}, fmt.Errorf("%w: %s: %s", errRun, p, bad)
	case st.Count != n:
		return result{}, fmt.Errorf("%w: %s: %d elements added, want %d", errRun, p, st.Count, n)
	case st.Opens != 1:
		return result{}, fmt.Errorf("%w: %s: the stream opened %d times, want once", errRun, p, st.Opens)
	case devtoolsMessages.Load() != 0:
		return result{}, fmt.Errorf("%w: %s: DevTools reported %d EventSource messages with its Network domain off", errRun, p, devtoolsMessages.Load())
	case b.drops.Load() != drops:
		return result{}, fmt.Errorf("%w: %s: the hub dropped the stream as slow", errRun, p)
	case st.Start <= 0 || st.First < st.Start || st.Last <= st.Start:
		return result{}, fmt.Errorf("%w: %s: renders at %v and %v ms, not after the start at %v ms", errRun, p, st.First, st.Last, st.Start)
	}
	ms := st.Last - st.Start
	return result{Page: p, N: n, Millis: ms, FirstMs: st.First - st.Start, PerSec: float64(n) / ms * 1000, Publish: published, LoadTime: loaded}, nil
}

// waitClient waits until the hub lists a stream of id.
func (b *bench) waitClient(ctx context.Context, id string) error {
	for {
		if slices.ContainsFunc(b.hub.Clients(), func(c server.ClientInfo) bool { return c.ClientID == id }) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("the hub never listed client %s: %w", id, ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
}
