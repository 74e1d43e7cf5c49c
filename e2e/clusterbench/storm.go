package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssekit/ssekit/e2e/cluster"
	"github.com/ssekit/ssekit/e2e/loadtest/load"
	"github.com/ssekit/ssekit/sdk"
	"github.com/ssekit/ssekit/sdk/wire"
)

// Storm settings: the server's retry (the floor of every client delay) and
// the SDK's default backoff, so the first reconnect of each client waits a
// uniformly random time in [0, 500 ms], at least 100 ms.
const (
	stormRetry   = 100 * time.Millisecond
	stormPublish = 20 * time.Millisecond
	stormWarm    = 10 // events every client receives through node A before the kill
)

var stormBackoff = sdk.Backoff{} // the SDK's defaults

// stormResult is what one storm measured.
type stormResult struct {
	Clients       int
	ReconnectedS  float64 // kill → the last client's stream answered 200 on node B
	CaughtUpS     float64 // kill → the last client had every event accepted before its reconnect
	Attempts      int64   // stream requests to node B
	Refused       int64   // of which not answered 200
	Published     int64   // events accepted (202), all on node B
	CPUS          float64 // node B, kill → caught up
	RSSBeforeKiB  int64   // node B just before the kill
	RSSPeakKiB    int64   // node B, highest sample from the kill to caught up
	RedisCommands int64   // commands Redis processed from the kill to caught up (publishes included)

	lost, dups, outOfOrder int64
}

// storm is the shared state of one storm run.
type storm struct {
	target    atomic.Pointer[load.Server]
	killedAt  atomic.Int64 // UnixNano of the kill; 0 before
	lastSeq   atomic.Int64 // highest accepted seq; -1 before the first
	attempts  atomic.Int64
	refused   atomic.Int64
	connected atomic.Int64 // first streams answered
	client    *http.Client
	nudge     chan struct{}
}

func (st *storm) poke() {
	select {
	case st.nudge <- struct{}{}:
	default:
	}
}

// waitFor waits until cond holds or within passes (false).
func (st *storm) waitFor(ctx context.Context, within time.Duration, cond func() bool) bool {
	t := time.NewTimer(within)
	defer t.Stop()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-st.nudge:
		case <-tick.C:
		case <-t.C:
			return cond()
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// stormClient follows one stream the way the SDK does.
type stormClient struct {
	id string

	mu          sync.Mutex
	next        int64 // next expected seq
	lastID      string
	retry       time.Duration
	lost, dups  int64
	ooo         int64
	moved       bool  // has a stream on node B after the kill
	target      int64 // the highest seq accepted when that stream answered
	reconnected time.Duration
	caughtUp    time.Duration // 0 until caught up
}

func (c *stormClient) snapshot() (next int64, moved bool, caughtUp, reconnected time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next, c.moved, c.caughtUp, c.reconnected
}

// run keeps the client's stream open until ctx ends: after each break it
// waits the SDK's jittered delay and reconnects, with its Last-Event-ID, to
// wherever the load balancer (st.target) now points.
func (c *stormClient) run(ctx context.Context, st *storm, dial chan struct{}) {
	attempt := 0
	for ctx.Err() == nil {
		ok := c.stream(ctx, st, dial)
		dial = nil // only the first connection waits for a dial slot
		if ctx.Err() != nil {
			return
		}
		if ok {
			attempt = 1
		} else {
			attempt++
		}
		c.mu.Lock()
		floor := c.retry
		c.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-time.After(stormBackoff.Delay(attempt, floor, rand.Float64())):
		}
	}
}

// stream opens one stream and reads it until it ends; it reports whether
// the server answered 200.
func (c *stormClient) stream(ctx context.Context, st *storm, dial chan struct{}) bool {
	node := st.target.Load()
	after := st.killedAt.Load() != 0
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, node.BaseURL+"/api/sse/connect/"+c.id, nil)
	c.mu.Lock()
	if c.lastID != "" {
		req.Header.Set("Last-Event-ID", c.lastID)
	}
	c.mu.Unlock()
	if dial != nil {
		dial <- struct{}{}
	}
	if after {
		st.attempts.Add(1)
	}
	res, err := st.client.Do(req)
	if dial != nil {
		<-dial
	}
	if err != nil {
		if after {
			st.refused.Add(1)
		}
		return false
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, res.Body)
		if after {
			st.refused.Add(1)
		}
		return false
	}
	if after {
		c.mu.Lock()
		if !c.moved {
			c.moved = true
			c.target = st.lastSeq.Load()
			c.reconnected = time.Since(time.Unix(0, st.killedAt.Load()))
			c.checkCaughtUp(st)
		}
		c.mu.Unlock()
	} else {
		st.connected.Add(1)
	}
	st.poke()
	p := wire.NewParser(bufio.NewReader(res.Body))
	for {
		ev, err := p.Next()
		if err != nil {
			return true
		}
		c.mu.Lock()
		switch ev.Type {
		case "connected":
			var v struct {
				Retry int64 `json:"retry"`
			}
			if json.Unmarshal([]byte(ev.Data), &v) == nil && v.Retry >= 0 {
				c.retry = time.Duration(v.Retry) * time.Millisecond
			}
		case "message":
			c.record(ev)
			c.checkCaughtUp(st)
		}
		c.mu.Unlock()
		st.poke()
	}
}

// record accounts for one event "s<seq>": in order, a gap (lost), or seen
// before (duplicate). c.mu is held.
func (c *stormClient) record(ev wire.Event) {
	seq, err := strconv.ParseInt(strings.TrimPrefix(ev.Data, "s"), 10, 64)
	if err != nil || !strings.HasPrefix(ev.Data, "s") {
		c.ooo++
		return
	}
	switch {
	case seq == c.next:
		c.next++
	case seq < c.next:
		c.dups++
	default:
		c.lost += seq - c.next
		c.ooo++
		c.next = seq + 1
	}
	c.lastID = ev.ID
}

func (c *stormClient) checkCaughtUp(st *storm) {
	if c.moved && c.caughtUp == 0 && c.next > c.target {
		c.caughtUp = max(time.Since(time.Unix(0, st.killedAt.Load())), 1)
	}
}

// stormRun runs one storm: redis-server, nodes A and B, the clients on A,
// publishing on B, A killed, everyone on B.
func (b *bench) stormRun(ctx context.Context, rep int) (*stormResult, error) {
	dir, err := os.MkdirTemp(b.tmp, "storm-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	redis, err := cluster.StartRedis(dir)
	if err != nil {
		return nil, err
	}
	defer redis.Stop()
	args := []string{"-www", "", "-log-level", "warn", "-redis-url", redis.URL(), "-retry", stormRetry.String()}
	nodeA, err := b.startServer(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer nodeA.Stop()
	nodeB, err := b.startServer(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer nodeB.Stop()

	st := &storm{nudge: make(chan struct{}, 1), client: &http.Client{Transport: &http.Transport{
		DisableKeepAlives: true, DisableCompression: true, ResponseHeaderTimeout: 30 * time.Second,
		MaxConnsPerHost: 0,
	}}}
	st.target.Store(nodeA)
	st.lastSeq.Store(-1)
	cctx, stopClients := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { stopClients(); wg.Wait() }()
	clients := make([]*stormClient, b.storm)
	dial := make(chan struct{}, 64)
	for i := range clients {
		clients[i] = &stormClient{id: fmt.Sprintf("storm-%d-%d", rep, i), retry: stormRetry}
		wg.Go(func() { clients[i].run(cctx, st, dial) })
	}
	if !st.waitFor(ctx, time.Minute, func() bool { return st.connected.Load() >= int64(b.storm) }) {
		return nil, fmt.Errorf("%d of %d clients connected to node A", st.connected.Load(), b.storm)
	}

	// Publish on node B every 20 ms from now to the end.
	pctx, stopPublishing := context.WithCancel(ctx)
	pubErr := make(chan error, 1)
	var pubWG sync.WaitGroup
	pubWG.Go(func() { pubErr <- publishEvery(pctx, nodeB.BaseURL, st) })
	defer func() { stopPublishing(); pubWG.Wait() }()
	allPast := func(seq int64) func() bool {
		return func() bool {
			for _, c := range clients {
				if next, _, _, _ := c.snapshot(); next <= seq {
					return false
				}
			}
			return true
		}
	}
	if !st.waitFor(ctx, 30*time.Second, allPast(stormWarm-1)) {
		return nil, fmt.Errorf("not every client received %d events through node A", stormWarm)
	}

	before, err := load.ReadProc(nodeB.PID)
	if err != nil {
		return nil, err
	}
	cmds0, err := redis.InfoInt("total_commands_processed")
	if err != nil {
		return nil, err
	}
	res := &stormResult{Clients: b.storm, RSSBeforeKiB: before.RSSKiB, RSSPeakKiB: before.RSSKiB}
	peak := make(chan int64, 1)
	sctx, stopSampling := context.WithCancel(ctx)
	defer stopSampling()
	go func() { peak <- sampleRSS(sctx, nodeB.PID) }()

	st.target.Store(nodeB)
	st.killedAt.Store(time.Now().UnixNano())
	kill9(nodeA)

	caughtUp := func() bool {
		for _, c := range clients {
			if _, _, cu, _ := c.snapshot(); cu == 0 {
				return false
			}
		}
		return true
	}
	ok := st.waitFor(ctx, time.Minute, caughtUp)
	after, err := load.ReadProc(nodeB.PID)
	if err != nil {
		return nil, err
	}
	cmds1, err := redis.InfoInt("total_commands_processed")
	if err != nil {
		return nil, err
	}
	stopSampling()
	res.RSSPeakKiB = max(res.RSSPeakKiB, <-peak, after.RSSKiB)
	res.CPUS = (after.CPU - before.CPU).Seconds()
	res.RedisCommands = cmds1 - cmds0
	if !ok {
		n := 0
		for _, c := range clients {
			if _, _, cu, _ := c.snapshot(); cu != 0 {
				n++
			}
		}
		return nil, fmt.Errorf("%d of %d clients caught up on node B within a minute", n, b.storm)
	}
	for _, c := range clients {
		_, _, cu, rc := c.snapshot()
		res.CaughtUpS = max(res.CaughtUpS, cu.Seconds())
		res.ReconnectedS = max(res.ReconnectedS, rc.Seconds())
	}

	// A few more events live, then every client must have every one.
	if !st.waitFor(ctx, 5*time.Second, func() bool { return st.lastSeq.Load() >= stormWarm+int64(res.CaughtUpS/stormPublish.Seconds())+10 }) {
		return nil, fmt.Errorf("publishing on node B stalled")
	}
	stopPublishing()
	pubWG.Wait()
	if err := <-pubErr; err != nil {
		return nil, err
	}
	last := st.lastSeq.Load()
	st.waitFor(ctx, 30*time.Second, allPast(last))
	res.Published = last + 1
	res.Attempts, res.Refused = st.attempts.Load(), st.refused.Load()
	for _, c := range clients {
		c.mu.Lock()
		res.lost += c.lost + max(0, last+1-c.next)
		res.dups += c.dups
		res.outOfOrder += c.ooo
		c.mu.Unlock()
	}
	return res, nil
}

// publishEvery sends "s<seq>" to everyone on base every stormPublish until
// ctx ends; any answer but 202 stops it with an error (a refused event
// would show up as lost).
func publishEvery(ctx context.Context, base string, st *storm) error {
	client := &http.Client{Timeout: 10 * time.Second}
	tick := time.NewTicker(stormPublish)
	defer tick.Stop()
	for seq := int64(0); ; seq++ {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/api/sse/sendAll",
			strings.NewReader("message="+url.QueryEscape("s"+strconv.FormatInt(seq, 10))))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := client.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("publish s%d on node B: %w", seq, err)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		res.Body.Close()
		if res.StatusCode != http.StatusAccepted {
			return fmt.Errorf("publish s%d on node B: %s %s", seq, res.Status, body)
		}
		st.lastSeq.Store(seq)
		st.poke()
	}
}

// sampleRSS returns the highest RSS of pid sampled every 20 ms until ctx
// ends.
func sampleRSS(ctx context.Context, pid int) int64 {
	var peak int64
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if p, err := load.ReadProc(pid); err == nil {
			peak = max(peak, p.RSSKiB)
		}
		select {
		case <-ctx.Done():
			return peak
		case <-tick.C:
		}
	}
}
