package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Bounds of the warm-up: events published until every stream has seen one.
const (
	maxWarmups  = 20
	warmupWait  = time.Second
	maxErrorsIn = 5 // distinct stream errors quoted in a report
)

// Run performs one run. An error means the run could not start (bad
// configuration, file limit, no /proc for PID); what goes wrong after that
// is in Result.Errors, with Result.OK false.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg.setDefaults()
	addr, err := cfg.validate()
	if err != nil {
		return nil, err
	}
	if err := raiseFileLimit(cfg.Conns + 256); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()

	res := &Result{Label: cfg.Label, Mode: "broadcast", Conns: cfg.Conns, Events: cfg.Events,
		IntervalMs: float64(cfg.Interval) / float64(time.Millisecond)}
	if cfg.Idle {
		res.Mode = "idle"
	}
	var base ProcSample
	if cfg.PID > 0 {
		if base, err = ReadProc(cfg.PID); err != nil {
			return nil, fmt.Errorf("ssekit/load: server process %d: %w", cfg.PID, err)
		}
		res.Server = &ServerFigures{PID: cfg.PID, RSSBaseKiB: base.RSSKiB}
	}

	// Kernel counters are a diagnosis, not a requirement: a machine
	// without /proc/net still runs.
	if k0, err := ReadKernelTCP(); err == nil {
		defer func() {
			if k1, err := ReadKernelTCP(); err == nil {
				d := k1.since(k0)
				res.Kernel = &d
			}
		}()
	}

	rs := &runState{start: time.Now(), events: int64(cfg.Events), nudge: make(chan struct{}, 1)}
	streams := make([]*stream, cfg.Conns)
	for i := range streams {
		streams[i] = &stream{run: rs, id: cfg.IDPrefix + strconv.Itoa(i), maxSeq: -1}
		if !cfg.Idle {
			streams[i].seen = make([]uint64, (cfg.Events+63)/64)
			streams[i].lat = make([]int64, 0, cfg.Events)
		}
	}
	defer rs.closeAll(streams)

	// Connect: every stream answered with 200, or failed.
	t0 := time.Now()
	dialErrs := rs.connect(ctx, streams, addr, cfg.Dialers)
	if !rs.waitFor(ctx, func() bool { return rs.answered.Load()+rs.failed.Load() >= int64(cfg.Conns) }) {
		return res.fail(streams, fmt.Sprintf("connect: %d of %d streams answered before %v", rs.answered.Load(), cfg.Conns, context.Cause(ctx)))
	}
	res.ConnectSeconds = time.Since(t0).Seconds()
	if n := rs.failed.Load(); n > 0 {
		return res.fail(streams, fmt.Sprintf("connect: %d of %d streams failed%s", n, cfg.Conns, dialErrs.first()))
	}

	if cfg.Idle {
		return res.idle(ctx, cfg, rs, streams)
	}
	return res.broadcast(ctx, cfg, addr, rs, streams, base)
}

// idle waits for the server to settle with every stream open, then samples
// its memory.
func (res *Result) idle(ctx context.Context, cfg Config, rs *runState, streams []*stream) (*Result, error) {
	t := time.NewTimer(cfg.Settle)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return res.fail(streams, fmt.Sprintf("settle: %v", context.Cause(ctx)))
	case <-t.C:
	}
	if err := res.sampleServer(func(f *ServerFigures, p ProcSample) {
		f.RSSConnectedKiB, f.RSSEndKiB = p.RSSKiB, p.RSSKiB
		f.RSSPerConnKiB = float64(p.RSSKiB-f.RSSBaseKiB) / float64(cfg.Conns)
	}); err != nil {
		return res.fail(streams, err.Error())
	}
	if n := rs.failed.Load(); n > 0 {
		return res.fail(streams, fmt.Sprintf("idle: %d of %d streams ended while idle", n, cfg.Conns))
	}
	res.OK = true
	return res, nil
}

// broadcast warms every stream up, publishes the measured events back to
// back and waits until every stream has received every event.
func (res *Result) broadcast(ctx context.Context, cfg Config, addr string, rs *runState, streams []*stream, base ProcSample) (*Result, error) {
	pub := newPublisher(addr, cfg.BaseURL)
	defer pub.close()

	// Warm-up: a stream counts as connected once its response headers have
	// arrived, but a server may answer before it registers the stream. A
	// warm-up event that every stream receives proves they are all live.
	all := int64(cfg.Conns)
	for rs.warmed.Load() < all && res.WarmupEvents < maxWarmups {
		if err := pub.post(ctx, encodePayload(kindWarm, int64(res.WarmupEvents), rs.now(), cfg.Size)); err != nil {
			return res.fail(streams, fmt.Sprintf("warm-up publish: %v", err))
		}
		res.WarmupEvents++
		wctx, cancel := context.WithTimeout(ctx, warmupWait)
		rs.waitFor(wctx, func() bool { return rs.warmed.Load() >= all || rs.failed.Load() > 0 })
		cancel()
		if rs.failed.Load() > 0 {
			break
		}
	}
	if n := rs.warmed.Load(); n < all {
		return res.fail(streams, fmt.Sprintf("warm-up: %d of %d streams received a warm-up event after %d", n, all, res.WarmupEvents))
	}

	var cpu0 ProcSample
	if err := res.sampleServer(func(f *ServerFigures, p ProcSample) {
		cpu0 = p
		f.RSSConnectedKiB = p.RSSKiB
		f.RSSPerConnKiB = float64(p.RSSKiB-base.RSSKiB) / float64(cfg.Conns)
	}); err != nil {
		return res.fail(streams, err.Error())
	}

	res.Size = len(encodePayload(kindSeq, int64(cfg.Events-1), rs.now(), cfg.Size))
	pubStart := rs.now()
	var pubErr error
	pace := newPacer(cfg.Interval)
	defer pace.stop()
	for i := range cfg.Events {
		if pubErr = pace.wait(ctx, i); pubErr != nil {
			break
		}
		if pubErr = pub.post(ctx, encodePayload(kindSeq, int64(i), rs.now(), cfg.Size)); pubErr != nil {
			pubErr = fmt.Errorf("publish event %d: %w", i, pubErr)
			break
		}
	}
	pubEnd := rs.now()
	res.PublishSeconds = time.Duration(pubEnd - pubStart).Seconds()

	dctx, cancel := context.WithTimeout(ctx, cfg.Drain)
	rs.waitFor(dctx, func() bool { return rs.complete.Load()+rs.failed.Load() >= all })
	cancel()
	if err := res.sampleServer(func(f *ServerFigures, p ProcSample) {
		f.RSSEndKiB = p.RSSKiB
		f.CPUSeconds = (p.CPU - cpu0.CPU).Seconds()
	}); err != nil {
		res.Errors = append(res.Errors, err.Error())
	}

	rs.closeAll(streams) // the readers are done: what they saw can be read
	res.account(streams, pubStart)
	if pubErr != nil {
		res.Errors = append(res.Errors, pubErr.Error())
	}
	if rs.complete.Load() < all {
		res.Errors = append(res.Errors, fmt.Sprintf("deliver: %d of %d streams received every event within %v of the last publish", rs.complete.Load(), all, cfg.Drain))
	}
	if res.Server != nil && res.Delivered > 0 {
		res.Server.CPUPerDeliveryUs = res.Server.CPUSeconds * 1e6 / float64(res.Delivered)
	}
	res.OK = len(res.Errors) == 0 && res.Lost == 0 && res.Duplicates == 0 && res.OutOfOrder == 0
	return res, nil
}

// connect dials every stream and starts its reader. At most dialers
// streams are between dial and response at once: a connection the server
// has not accepted yet waits in its listen queue, and a full queue drops
// the next SYNs, which costs the client a second or more per resend. A
// stream that cannot be dialled counts as failed at once.
func (rs *runState) connect(ctx context.Context, streams []*stream, addr string, dialers int) *firstError {
	errs := &firstError{}
	sem := make(chan struct{}, dialers)
	release := func() { <-sem }
	var dialing sync.WaitGroup
	for _, s := range streams {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil || rs.failed.Load() > 0 {
			// The run has failed: open no more streams.
			rs.failed.Add(1)
			continue
		}
		dialing.Go(func() {
			if err := s.dial(ctx, addr, "/api/sse/connect/"+s.id); err != nil {
				release()
				s.err = fmt.Errorf("dial: %w", err)
				errs.set(s.err)
				rs.failed.Add(1)
				rs.poke()
				return
			}
			rs.readers.Go(func() { s.read(release) })
		})
	}
	dialing.Wait()
	return errs
}

// closeAll ends every connection and waits for the readers, after which
// what they saw may be read. Calling it again does nothing more.
func (rs *runState) closeAll(streams []*stream) {
	rs.closing.Store(true)
	for _, s := range streams {
		if s.conn != nil {
			s.conn.Close()
		}
	}
	rs.readers.Wait()
}

// waitFor waits until cond holds (true) or ctx ends (false). The readers
// poke the run whenever a counter moves.
func (rs *runState) waitFor(ctx context.Context, cond func() bool) bool {
	for !cond() {
		select {
		case <-rs.nudge:
		case <-ctx.Done():
			return cond()
		}
	}
	return true
}

// sampleServer reads /proc of the server, if there is one, into the report.
func (res *Result) sampleServer(set func(*ServerFigures, ProcSample)) error {
	if res.Server == nil {
		return nil
	}
	p, err := ReadProc(res.Server.PID)
	if err != nil {
		return fmt.Errorf("server process %d: %w", res.Server.PID, err)
	}
	set(res.Server, p)
	return nil
}

// fail ends a run that could not be completed.
func (res *Result) fail(streams []*stream, msg string) (*Result, error) {
	streams[0].run.closeAll(streams)
	res.Errors = append(res.Errors, msg)
	res.Errors = append(res.Errors, streamErrors(streams)...)
	res.OK = false
	return res, nil
}

// account adds up what the streams saw.
func (res *Result) account(streams []*stream, pubStart int64) {
	res.Expected = int64(len(streams)) * int64(res.Events)
	var lat []int64
	if res.Expected <= MaxDeliveries {
		lat = make([]int64, 0, res.Expected)
	}
	last := pubStart
	for _, s := range streams {
		res.Delivered += s.unique
		res.Duplicates += s.dups
		res.OutOfOrder += s.ooo
		res.OtherEvents += s.other
		lat = append(lat, s.lat...)
		last = max(last, s.lastRecv)
	}
	res.Lost = res.Expected - res.Delivered
	res.DeliverSeconds = time.Duration(last - pubStart).Seconds()
	if res.DeliverSeconds > 0 {
		res.DeliveriesPerSec = float64(res.Delivered) / res.DeliverSeconds
	}
	res.LatencyP50Ms, res.LatencyP99Ms, res.LatencyMaxMs = latencyStats(lat)
	res.Errors = append(res.Errors, streamErrors(streams)...)
}

// streamErrors summarises the errors of the streams that ended early: a
// count and the first few distinct messages.
func streamErrors(streams []*stream) []string {
	seen := map[string]bool{}
	var quoted []string
	n := 0
	for _, s := range streams {
		if s.err == nil {
			continue
		}
		n++
		if msg := s.err.Error(); !seen[msg] && len(quoted) < maxErrorsIn {
			seen[msg] = true
			quoted = append(quoted, msg)
		}
	}
	if n == 0 {
		return nil
	}
	return []string{fmt.Sprintf("%d streams ended early: %s", n, strings.Join(quoted, "; "))}
}

// firstError keeps the first of concurrent errors.
type firstError struct {
	once sync.Once
	err  error
}

func (f *firstError) set(err error) { f.once.Do(func() { f.err = err }) }

func (f *firstError) first() string {
	if f.err == nil {
		return ""
	}
	return ": " + f.err.Error()
}

// publisher posts events to sendAll over one kept-alive connection.
type publisher struct {
	client *http.Client
	url    string
}

func newPublisher(addr, base string) *publisher {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "tcp", addr)
		},
		MaxIdleConnsPerHost: 1,
		DisableCompression:  true,
	}
	return &publisher{
		client: &http.Client{Transport: tr, Timeout: 30 * time.Second},
		url:    strings.TrimSuffix(base, "/") + "/api/sse/sendAll",
	}
}

// errPublish is a publish the server did not accept.
var errPublish = errors.New("ssekit/load: publish refused")

func (p *publisher) post(ctx context.Context, data string) error {
	body := "message=" + url.QueryEscape(data)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.url, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := p.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%w: %s: %s", errPublish, resp.Status, strings.TrimSpace(string(msg)))
	}
	return nil
}

func (p *publisher) close() { p.client.CloseIdleConnections() }

// raiseFileLimit lifts the soft limit on open files to what the run needs,
// up to the hard limit, and says what to do when that is not enough.
func raiseFileLimit(need int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("ssekit/load: open-file limit: %w", err)
	}
	if lim.Cur >= uint64(need) {
		return nil
	}
	if lim.Max < uint64(need) {
		return fmt.Errorf("%w: the run needs %d open files, the hard limit is %d (raise it: ulimit -Hn %d)", ErrConfig, need, lim.Max, need)
	}
	lim.Cur = uint64(need)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("ssekit/load: raise the open-file limit to %d: %w", need, err)
	}
	return nil
}

// pacer spaces the measured publishes Interval apart, on a schedule from
// the first one (a slow publish does not shift the later ones).
type pacer struct {
	every time.Duration
	start time.Time
	t     *time.Timer
}

func newPacer(every time.Duration) *pacer {
	p := &pacer{every: every, start: time.Now()}
	if every > 0 {
		p.t = time.NewTimer(time.Hour)
		p.t.Stop()
	}
	return p
}

// wait returns when publish i is due.
func (p *pacer) wait(ctx context.Context, i int) error {
	if p.t == nil {
		return nil
	}
	d := time.Until(p.start.Add(time.Duration(i) * p.every))
	if d <= 0 {
		return nil
	}
	p.t.Reset(d)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-p.t.C:
		return nil
	}
}

func (p *pacer) stop() {
	if p.t != nil {
		p.t.Stop()
	}
}
