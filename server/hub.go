package server

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

// Hub is the SSE push hub: a registry of open streams by client id and
// topic, a bounded history for replay, and the HTTP API around them.
type Hub struct {
	cfg    config
	log    *slog.Logger
	ctx    context.Context // cancelled when the hub closes: ends every stream
	cancel context.CancelFunc
	met    *metrics
	idem   *idempotency
	sec    *security // who may read and publish, per-address limits (auth.go)

	pingFrame []byte
	openapi   []byte

	// The streams that receive published events, in shards by client id,
	// so connecting locks one shard and a broadcast one shard at a time.
	shards   [numShards]shard
	total    atomic.Int64 // streams admitted, demo streams included (for -max-conns)
	draining atomic.Bool

	mu   sync.Mutex         // guards side and outs
	side map[*conn]struct{} // demo streams (words, stats): counted and drained, never published to

	broker    Broker
	health    healthChecker // nil: the broker is always available
	hold      holder        // nil: every node gets every event
	published atomic.Uint64 // events this hub published

	outs        map[*rawOut]struct{} // taken-over streams, until they finish
	flushers    []*flusher
	nextFlusher atomic.Uint64
	armedPool   sync.Pool // of *armedSet sized to flushers

	streams sync.WaitGroup
	closed  atomic.Bool
	done    chan struct{}
}

// New builds a hub and starts its heartbeat. Close or Drain stops it.
func New(opts ...Option) (*Hub, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &Hub{
		cfg:       cfg,
		log:       cfg.logger,
		ctx:       ctx,
		cancel:    cancel,
		idem:      newIdempotency(10000, 10*time.Minute),
		sec:       newSecurity(cfg.sec),
		pingFrame: append(wire.AppendComment(nil, "ping"), '\n'), // its own block: dispatches nothing
		side:      make(map[*conn]struct{}),
		outs:      make(map[*rawOut]struct{}),
		done:      make(chan struct{}),
	}
	h.met = newMetrics(h)
	doc, err := openAPIDocument(h.routes())
	if err != nil {
		cancel()
		return nil, fmt.Errorf("ssekit/server: openapi document: %w", err)
	}
	h.openapi = doc
	if err := h.useBroker(); err != nil {
		cancel()
		return nil, err
	}
	h.startFlushers()
	go h.heartbeat()
	return h, nil
}

// heartbeat queues one shared comment frame to every stream on one ticker,
// so idle proxies keep the connections.
func (h *Hub) heartbeat() {
	t := time.NewTicker(h.cfg.heartbeat)
	defer t.Stop()
	for {
		select {
		case <-h.ctx.Done():
			return
		case <-t.C:
			a := h.armed()
			// A full queue is left alone here: the next event drops it.
			h.eachConn(func(c *conn) { a.offer(c, h.pingFrame) })
			h.handOver(a)
		}
	}
}

// controlFrame encodes a control event: typed, no id (so it never moves the
// client's cursor), and always a JSON data line so browsers dispatch it.
func controlFrame(typ string, payload any) []byte {
	data, _ := json.Marshal(payload)
	frame, _ := wire.AppendEvent(nil, wire.Event{Type: typ, Data: string(data)})
	return frame
}

// register adds c and collects the frames it missed since cursor. reset is
// why the cursor could not be resumed ("" when it was, or when there was
// none). The stream is registered first and history read second; live
// events that arrive meanwhile wait in c.pos and are merged by seq, so the
// switch from replay to live has no gap and no duplicate whatever the
// broker's latency.
func (h *Hub) register(c *conn, cursor string) (replay [][]byte, reset string, err error) {
	if h.health != nil {
		if err := h.health.Health(); err != nil {
			return nil, "", err
		}
	}
	s := h.shardOf(c.clientID)
	s.mu.Lock()
	if err := h.admit(s, c.clientID); err != nil {
		s.mu.Unlock()
		return nil, "", err
	}
	s.add(c)
	h.streams.Add(1) // under the shard's lock, so it happens before Drain's Wait
	c.pos.replaying = cursor != ""
	s.mu.Unlock()

	fail := func(err error) ([][]byte, string, error) {
		h.unregister(c)
		h.streams.Done()
		return nil, "", err
	}
	if h.hold != nil {
		if err := h.hold.Hold(h.ctx, c.clientID, c.topics); err != nil {
			return fail(err)
		}
		s.mu.Lock()
		_, still := s.all[c]
		c.pos.held = still // else it was dropped meanwhile: unregister did not release it
		s.mu.Unlock()
		if !still {
			h.hold.Release(c.clientID, c.topics)
		}
	}
	if cursor == "" {
		return nil, "", nil
	}
	rp, err := h.broker.Since(h.ctx, cursor)
	if err != nil {
		return fail(err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c.pos.epoch, c.pos.seq = rp.Epoch, rp.Seq
	for i := range rp.Entries {
		if e := &rp.Entries[i]; c.wants(e.to) && c.pos.fresh(e) {
			replay = append(replay, e.Frame)
		}
	}
	for i := range c.pos.pending {
		if e := &c.pos.pending[i]; c.pos.fresh(e) {
			replay = append(replay, e.Frame)
		}
	}
	c.pos.pending, c.pos.replaying = nil, false
	return replay, rp.Reset, nil
}

// admit checks the limits for one more stream of clientID in s (nil and
// "" for a demo stream, which has no per-client limit) and takes its place
// in -max-conns. s.mu is held.
func (h *Hub) admit(s *shard, clientID string) error {
	if err := h.wouldAdmit(s, clientID); err != nil {
		return err
	}
	if h.total.Add(1) > int64(h.cfg.maxConns) {
		h.total.Add(-1)
		return ErrServerFull
	}
	return nil
}

// wouldAdmit is admit without taking the place. s.mu is held.
func (h *Hub) wouldAdmit(s *shard, clientID string) error {
	switch {
	case h.closed.Load():
		return ErrClosed
	case h.draining.Load():
		return ErrDraining
	case h.total.Load() >= int64(h.cfg.maxConns):
		return ErrServerFull
	case s != nil && len(s.clients[clientID]) >= h.cfg.maxConnsPerID:
		return ErrTooManyForClient
	}
	return nil
}

// check answers whether a stream for clientID would be admitted now, for
// HEAD requests.
func (h *Hub) check(clientID string) error {
	s := h.shardOf(clientID)
	s.mu.Lock()
	defer s.mu.Unlock()
	return h.wouldAdmit(s, clientID)
}

// openSide admits a demo stream: it counts towards -max-conns and is asked
// to reconnect on drain, but no published event reaches it.
func (h *Hub) openSide(remote string) (*conn, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.admit(nil, ""); err != nil {
		return nil, err
	}
	c := newConn("", nil, 1, remote, time.Now())
	h.side[c] = struct{}{}
	h.streams.Add(1)
	return c, nil
}

func (h *Hub) closeSide(c *conn) {
	h.mu.Lock()
	if _, ok := h.side[c]; ok {
		delete(h.side, c)
		h.total.Add(-1)
	}
	h.mu.Unlock()
	h.streams.Done()
}

func (h *Hub) unregister(c *conn) {
	s := h.shardOf(c.clientID)
	s.mu.Lock()
	defer s.mu.Unlock()
	h.unregisterLocked(s, c)
}

// unregisterLocked removes c from s, its shard, if it is there. s.mu is
// held.
func (h *Hub) unregisterLocked(s *shard, c *conn) {
	if !s.remove(c) {
		return
	}
	h.total.Add(-1)
	if c.pos.held {
		c.pos.held = false
		h.hold.Release(c.clientID, c.topics)
	}
}

// Published is the outcome of a publish.
type Published struct {
	ID        string `json:"id"`
	Delivered int    `json:"delivered"`
}

// publish encodes ev once (without its id line) and hands it to the
// broker, which assigns the id (unless ev has one), keeps it in history and
// fans it out; nothing is delivered or kept when it fails.
func (h *Hub) publish(to target, ev wire.Event) (Published, error) {
	if err := h.acceptsPublish(); err != nil {
		return Published{}, err
	}
	if !wire.ValidField(ev.ID) {
		return Published{}, fmt.Errorf("%w: id must not contain CR, LF or NUL", ErrBadEvent)
	}
	id := ev.ID
	ev.ID = ""
	body, err := wire.AppendEvent(make([]byte, 0, 64+len(ev.Data)), ev)
	if err != nil {
		return Published{}, fmt.Errorf("%w: %w", ErrBadEvent, err)
	}
	r, err := h.broker.Publish(h.ctx, Message{to: to, ID: id, Body: body, At: time.Now()})
	if err != nil {
		return Published{}, err
	}
	h.published.Add(1)
	h.met.published.Inc()
	return Published{ID: r.ID, Delivered: r.Delivered}, nil
}

// deliver queues an event from the broker to every local stream it is for
// and says how many. A stream still reading history keeps it for later
// (register merges it by seq); a stream whose queue is full is dropped,
// never waited for.
func (h *Hub) deliver(e Entry) int {
	delivered := 0
	var slow []*conn
	a := h.armed()
	if e.to.kind == toClient {
		delivered, slow = h.shardOf(e.to.name).deliver(h, &e, slow, a)
	} else {
		for i := range h.shards {
			var n int
			n, slow = h.shards[i].deliver(h, &e, slow, a)
			delivered += n
		}
	}
	h.handOver(a)
	for _, c := range slow {
		h.met.slowDrops.Inc()
		h.log.LogAttrs(h.ctx, slog.LevelWarn, "slow client dropped",
			slog.String("client", c.clientID), slog.String("remote", c.remote), slog.Int("queue", c.queue.max))
		c.kill("slow")
	}
	h.met.delivered.Add(float64(delivered))
	return delivered
}

// acceptsPublish says why a publish is refused now, if it is.
func (h *Hub) acceptsPublish() error {
	switch {
	case h.closed.Load():
		return ErrClosed
	case h.draining.Load():
		return ErrDraining
	}
	return nil
}

// Send publishes ev to every stream of clientID. The hub assigns ev.ID
// unless it is set. Delivered counts the streams it was queued to; 0 means
// nobody was connected (the event is still kept for replay).
func (h *Hub) Send(clientID string, ev wire.Event) (Published, error) {
	if !validName(clientID) {
		return Published{}, ErrBadClientID
	}
	return h.publishChecked(target{kind: toClient, name: clientID}, ev)
}

// SendAll publishes ev to every stream.
func (h *Hub) SendAll(ev wire.Event) (Published, error) {
	return h.publishChecked(target{kind: toAll}, ev)
}

// SendTopic publishes ev to the streams subscribed to topic.
func (h *Hub) SendTopic(topic string, ev wire.Event) (Published, error) {
	if !validName(topic) {
		return Published{}, ErrBadTopic
	}
	return h.publishChecked(target{kind: toTopic, name: topic}, ev)
}

func (h *Hub) publishChecked(to target, ev wire.Event) (Published, error) {
	if err := validateEvent(ev); err != nil {
		return Published{}, err
	}
	return h.publish(to, ev)
}

// Disconnect ends every stream of clientID with an end event and reports
// how many there were.
func (h *Hub) Disconnect(clientID string) int {
	s := h.shardOf(clientID)
	s.mu.Lock()
	var victims []*conn
	for c := range s.clients[clientID] {
		victims = append(victims, c)
		h.unregisterLocked(s, c)
	}
	s.mu.Unlock()
	frame := controlFrame("end", map[string]string{"reason": "disconnected"})
	for _, c := range victims {
		c.end("disconnected", frame)
	}
	return len(victims)
}

// ClientInfo describes one open stream for the admin listing.
type ClientInfo struct {
	ClientID   string    `json:"clientId"`
	Topics     []string  `json:"topics"`
	Since      time.Time `json:"connectedSince"`
	QueueDepth int       `json:"queueDepth"`
}

// Clients lists the open streams, sorted by client id then age.
func (h *Hub) Clients() []ClientInfo {
	var out []ClientInfo
	h.eachConn(func(c *conn) {
		topics := c.topics
		if topics == nil {
			topics = []string{}
		}
		out = append(out, ClientInfo{ClientID: c.clientID, Topics: topics, Since: c.since, QueueDepth: c.queue.len()})
	})
	if out == nil {
		out = []ClientInfo{}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].ClientID != out[j].ClientID {
			return out[i].ClientID < out[j].ClientID
		}
		return out[i].Since.Before(out[j].Since)
	})
	return out
}

// Conns reports the number of open streams, demo streams included.
func (h *Hub) Conns() int {
	return int(h.total.Load())
}

// Drain stops admitting streams and publishes, asks every open stream to
// come back elsewhere (a reconnect event with a short retry), and waits for
// the streams to end or ctx to expire. Call it before http.Server.Shutdown.
func (h *Hub) Drain(ctx context.Context) error {
	// Every admission checks draining under its shard's lock (demo
	// streams: under h.mu), after this store: each stream is either seen
	// below or refused.
	h.draining.Store(true)
	var victims []*conn
	for i := range h.shards {
		s := &h.shards[i]
		s.mu.Lock()
		for c := range s.all {
			victims = append(victims, c)
			h.unregisterLocked(s, c)
		}
		s.mu.Unlock()
	}
	h.mu.Lock()
	for c := range h.side {
		victims = append(victims, c)
	}
	h.mu.Unlock()
	frame := h.reconnectFrame("drain")
	for _, c := range victims {
		c.end("drain", frame)
	}
	waited := make(chan struct{})
	go func() { h.streams.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-ctx.Done():
		// Out of time: abort the writes still blocked on clients that do
		// not read, so no stream outlives the drain by a write timeout.
		for _, c := range victims {
			c.kill("drain")
		}
	}
	h.Close()
	if ctx.Err() != nil {
		return fmt.Errorf("ssekit/server: drain: %w", ctx.Err())
	}
	return nil
}

// reconnectFrame tells a client the close is on purpose: a short retry so
// the browser comes back at once, and a reconnect event saying why.
func (h *Hub) reconnectFrame(reason string) []byte {
	ms := h.cfg.shortRetry.Milliseconds()
	frame := wire.AppendRetry(nil, h.cfg.shortRetry)
	return append(frame, controlFrame("reconnect", map[string]any{"reason": reason, "retry": ms})...)
}

// Close ends every stream at once and stops the heartbeat.
func (h *Hub) Close() error {
	if h.closed.Swap(true) {
		return nil
	}
	h.cancel()
	h.closeOuts()
	close(h.done)
	return h.broker.Close()
}

// Ready reports whether the hub accepts new streams and publishes: not
// while draining, nor while its broker is unavailable.
func (h *Hub) Ready() error {
	if err := h.acceptsPublish(); err != nil {
		return err
	}
	return h.BrokerHealth()
}

// BrokerHealth is nil while the broker answers, and an error wrapping
// ErrBrokerDown while it does not (a Redis outage).
func (h *Hub) BrokerHealth() error {
	if h.health == nil {
		return nil
	}
	return h.health.Health()
}
