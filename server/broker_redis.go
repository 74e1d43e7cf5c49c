package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// redisBroker shares history and fan-out between nodes through Redis:
// history in one stream (XADD with MAXLEN ~), ids from one counter under an
// epoch key, so every node hands out the same id for the same event and a
// client resumes on any node. Each node holds ONE pub/sub connection, to
// the broadcast channel and to its own channel; events for one client go
// only to the nodes that hold it (the presence map), unless targeting is
// off. Publishing is one Lua script: stored and fanned out together, or not
// at all.
//
// Every key shares one hash tag, so the scripts work on Redis Cluster too;
// that also puts the whole history on one shard: one hot key, whose ceiling
// README gives.
type redisBroker struct {
	rdb  *redis.Client
	log  *slog.Logger
	opts redisOptions
	keys redisKeys

	ctx    context.Context
	cancel context.CancelFunc
	done   sync.WaitGroup
	closed atomic.Bool
	up     atomic.Bool
	upCh   chan struct{} // closed the first time the node is up

	deliver func(Entry) int
	epoch   string // the last event handed to deliver; session goroutine only
	seq     uint64

	psMu sync.Mutex
	ps   *redis.PubSub // the live subscription, closed by Close

	// Presence: how many local streams each presence key counts. pwMu
	// orders the writes, so Redis never ends up with an older count.
	pwMu    sync.Mutex
	pMu     sync.Mutex
	held    map[string]int
	dirty   map[string]bool
	flushCh chan struct{}

	sf singleflight

	bytesIn, bytesOut, commands atomic.Uint64
	reconnects, events          atomic.Uint64
	caughtUp                    atomic.Uint64 // events taken from the stream after a reconnection
}

// redisOptions configure the redis broker.
type redisOptions struct {
	url         string
	prefix      string        // key prefix, inside the hash tag. Defaults to ssekit.
	node        string        // this node's id. Defaults to a random one.
	maxLen      int           // stream length, approximate (MAXLEN ~)
	maxAge      time.Duration // events older than this are not replayed; 0: no bound
	untargeted  bool          // fan every event out to every node
	presenceTTL time.Duration // a node's presence lapses this long after its last refresh
	opTimeout   time.Duration // bound of one publish or history read
}

type redisKeys struct {
	epoch, seq, stream, ids string
	all, chAll, chNode      string
	presence                string // + "c:<client>", "t:<topic>" or "all"
}

func newRedisKeys(prefix, node string) redisKeys {
	tag := "{" + prefix + "}"
	return redisKeys{
		epoch: tag + ":epoch", seq: tag + ":seq", stream: tag + ":stream", ids: tag + ":ids",
		presence: tag + ":p:", all: tag + ":p:all",
		chAll: tag + ":all", chNode: tag + ":node:" + node,
	}
}

func (k redisKeys) of(t target) string {
	switch t.kind {
	case toClient:
		return k.presence + "c:" + t.name
	case toTopic:
		return k.presence + "t:" + t.name
	}
	return k.all
}

// dialRedis connects to url and checks that Redis answers, so a wrong URL
// fails at startup rather than on the first publish.
func dialRedis(o redisOptions, log *slog.Logger) (*redisBroker, error) {
	ro, err := redis.ParseURL(o.url)
	if err != nil {
		return nil, fmt.Errorf("ssekit/server: -redis-url: %w", err)
	}
	if o.prefix == "" {
		o.prefix = "ssekit"
	}
	if o.node == "" {
		o.node = newEpoch(time.Now())
	}
	if o.presenceTTL <= 0 {
		o.presenceTTL = 15 * time.Second
	}
	if o.opTimeout <= 0 {
		o.opTimeout = 2 * time.Second
	}
	b := &redisBroker{
		log: log, opts: o, keys: newRedisKeys(o.prefix, o.node),
		upCh:    make(chan struct{}),
		held:    make(map[string]int),
		dirty:   make(map[string]bool),
		flushCh: make(chan struct{}, 1),
		deliver: func(Entry) int { return 0 },
	}
	// A publish is never retried: a script that ran but whose answer was
	// lost would run twice.
	ro.MaxRetries = -1
	ro.Protocol = 2
	ro.DisableIdentity = true
	ro.ClientName = "ssekit-" + o.node // CLIENT LIST shows which node a connection is
	ro.DialTimeout = time.Second
	ro.DialerRetries = 1 // the subscription loop has its own backoff
	ro.ReadTimeout = o.opTimeout
	ro.WriteTimeout = o.opTimeout
	ro.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	dialer := &net.Dialer{Timeout: time.Second, KeepAlive: 15 * time.Second}
	ro.Dialer = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dialer.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, in: &b.bytesIn, out: &b.bytesOut}, nil
	}
	quietRedis.Do(func() { redis.SetLogger(discardLogger{}) })
	b.rdb = redis.NewClient(ro)
	b.rdb.AddHook(commandCounter{&b.commands})
	b.ctx, b.cancel = context.WithCancel(context.Background())
	ctx, cancel := context.WithTimeout(b.ctx, 2*time.Second)
	defer cancel()
	if err := b.rdb.Ping(ctx).Err(); err != nil {
		_ = b.rdb.Close()
		return nil, fmt.Errorf("ssekit/server: redis at %s does not answer: %w", ro.Addr, err)
	}
	return b, nil
}

// Subscribe starts the node's subscription and presence loops and waits
// (a few seconds at most) until the node is subscribed.
func (b *redisBroker) Subscribe(deliver func(Entry) int) error {
	b.deliver = deliver
	b.done.Add(2)
	go b.subscription()
	go b.presence()
	select {
	case <-b.upCh:
		return nil
	case <-time.After(5 * time.Second):
		_ = b.Close()
		return fmt.Errorf("%w: could not subscribe within 5s", ErrBrokerDown)
	}
}

// Health is nil while the node's subscription is up.
func (b *redisBroker) Health() error {
	if b.up.Load() {
		return nil
	}
	return fmt.Errorf("%w: redis is not answering", ErrBrokerDown)
}

func (b *redisBroker) down(err error) error {
	if errors.Is(err, ErrBrokerDown) || errors.Is(err, ErrClosed) {
		return err
	}
	if b.closed.Load() {
		return ErrClosed
	}
	return fmt.Errorf("%w: %v", ErrBrokerDown, err)
}

// publishScript stores an event and fans it out in one step. It starts a
// new epoch when the epoch key is missing (Redis came back empty), so ids
// never repeat. It answers the id and the streams the presence map counts
// for the target.
var publishScript = redis.NewScript(`
local epoch = redis.call('GET', KEYS[1])
if not epoch then
  epoch = ARGV[1]
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
  redis.call('SET', KEYS[1], epoch)
end
local seq = redis.call('INCR', KEYS[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local id = ARGV[4]
if id == '' then id = epoch .. '-' .. seq end
local payload = epoch .. '\n' .. seq .. '\n' .. string.format('%d', now) .. '\n' .. ARGV[3] .. '\n' .. id .. '\n' .. ARGV[5]
redis.call('XADD', KEYS[3], 'MAXLEN', '~', ARGV[2], seq .. '-0', 'e', payload)
if ARGV[4] ~= '' then redis.call('ZADD', KEYS[4], seq, id) end
if redis.call('EXISTS', KEYS[4]) == 1 then
  local first = redis.call('XRANGE', KEYS[3], '-', '+', 'COUNT', 1)
  if first[1] then
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', '(' .. string.match(first[1][1], '^(%d+)'))
  end
end
local delivered = 0
local nodes = {}
local p = redis.call('HGETALL', KEYS[5])
for i = 1, #p, 2 do
  local exp, cnt = string.match(p[i + 1], '^(%d+):(%d+)$')
  if exp and tonumber(exp) >= now then
    delivered = delivered + tonumber(cnt)
    nodes[#nodes + 1] = p[i]
  end
end
if ARGV[6] == '1' then
  for _, n in ipairs(nodes) do redis.call('PUBLISH', ARGV[8] .. n, payload) end
else
  redis.call('PUBLISH', ARGV[7], payload)
end
return {id, delivered}
`)

func (b *redisBroker) Publish(ctx context.Context, m Message) (Receipt, error) {
	if b.closed.Load() {
		return Receipt{}, ErrClosed
	}
	// Known down: answer at once rather than after a dial timeout.
	if err := b.Health(); err != nil {
		return Receipt{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.opts.opTimeout)
	defer cancel()
	targeted := "0"
	if m.to.kind == toClient && !b.opts.untargeted {
		targeted = "1"
	}
	res, err := publishScript.Run(ctx, b.rdb,
		[]string{b.keys.epoch, b.keys.seq, b.keys.stream, b.keys.ids, b.keys.of(m.to)},
		newEpoch(time.Now()), max(b.opts.maxLen, 1), encodeTarget(m.to), m.ID, m.Body,
		targeted, b.keys.chAll, strings.TrimSuffix(b.keys.chNode, b.opts.node)).Slice()
	if err != nil {
		return Receipt{}, b.down(err)
	}
	if len(res) != 2 {
		return Receipt{}, fmt.Errorf("%w: unexpected answer %v", ErrBrokerDown, res)
	}
	id, _ := res[0].(string)
	n, _ := res[1].(int64)
	return Receipt{ID: id, Delivered: int(n)}, nil
}

func encodeTarget(t target) string { return string(rune('0'+t.kind)) + t.name }

// decodePayload reads an event as the publish script wrote it: epoch, seq,
// time (ms), target, id and body, the first five on a line each.
func decodePayload(p string) (Entry, error) {
	var f [5]string
	rest := p
	for i := range f {
		var ok bool
		if f[i], rest, ok = strings.Cut(rest, "\n"); !ok {
			return Entry{}, errBadRecord
		}
	}
	seq, err1 := strconv.ParseUint(f[1], 10, 64)
	ms, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || f[3] == "" || f[3][0] < '0' || f[3][0] > '2' {
		return Entry{}, errBadRecord
	}
	return Entry{
		Epoch: f[0], Seq: seq, ID: f[4], At: time.UnixMilli(ms),
		to:    target{kind: targetKind(f[3][0] - '0'), name: f[3][1:]},
		Frame: frameOf(f[4], []byte(rest)),
	}, nil
}

// subscription keeps the node subscribed: after each (re)connection it
// registers its presence again, catches up from the stream on what it
// missed, and only then takes live events, dropping the ones it has seen.
func (b *redisBroker) subscription() {
	defer b.done.Done()
	backoff := 25 * time.Millisecond
	first := true
	for b.ctx.Err() == nil {
		err := b.session(func() {
			backoff = 25 * time.Millisecond
			b.up.Store(true)
			if first {
				first = false
				close(b.upCh)
			} else {
				b.reconnects.Add(1)
				b.log.LogAttrs(b.ctx, slog.LevelInfo, "redis subscription resumed", slog.String("node", b.opts.node))
			}
		})
		wasUp := b.up.Swap(false)
		if b.ctx.Err() != nil {
			return
		}
		if wasUp {
			b.log.LogAttrs(b.ctx, slog.LevelWarn, "redis subscription lost: publishing answers 503 until it is back",
				slog.String("node", b.opts.node), slog.String("error", err.Error()))
		}
		// Full jitter, at most 400ms: the node is back well within a second
		// of Redis answering.
		t := time.NewTimer(time.Duration(rand.Int64N(int64(backoff)) + 1))
		select {
		case <-b.ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		backoff = min(backoff*2, 400*time.Millisecond)
	}
}

// session runs one subscription until it fails; onUp runs once the node
// is subscribed, registered and caught up.
func (b *redisBroker) session(onUp func()) error {
	ps := b.rdb.Subscribe(b.ctx)
	b.psMu.Lock()
	if b.closed.Load() {
		b.psMu.Unlock()
		_ = ps.Close()
		return ErrClosed
	}
	b.ps = ps
	b.psMu.Unlock()
	defer ps.Close()
	if err := ps.Subscribe(b.ctx, b.keys.chAll, b.keys.chNode); err != nil {
		return err
	}
	// Both confirmations first: then Redis sends this connection every
	// event published from now on, and what came before is in the stream.
	for confirmed := 0; confirmed < 2; {
		msg, err := ps.ReceiveTimeout(b.ctx, b.opts.opTimeout)
		if err != nil {
			return err
		}
		if _, ok := msg.(*redis.Subscription); ok {
			confirmed++
		}
	}
	if err := b.refreshAll(); err != nil {
		return err
	}
	if err := b.catchUp(); err != nil {
		return err
	}
	onUp()
	idle := 0
	for {
		msg, err := ps.ReceiveTimeout(b.ctx, time.Second)
		var ne net.Error
		switch {
		case err != nil && errors.As(err, &ne) && ne.Timeout():
			// Quiet: make sure the connection is alive.
			if idle++; idle > 2 {
				return fmt.Errorf("no answer to ping: %w", err)
			}
			if err := ps.Ping(b.ctx); err != nil {
				return err
			}
			continue
		case err != nil:
			return err
		}
		idle = 0
		if m, ok := msg.(*redis.Message); ok {
			e, err := decodePayload(m.Payload)
			if err != nil {
				b.log.LogAttrs(b.ctx, slog.LevelWarn, "redis: undecodable event dropped", slog.String("channel", m.Channel))
				continue
			}
			b.hand(e)
		}
	}
}

// hand gives e to the hub unless the node has seen it (a catch-up and the
// live subscription overlap).
func (b *redisBroker) hand(e Entry) {
	if e.Epoch == b.epoch && e.Seq <= b.seq {
		return
	}
	b.epoch, b.seq = e.Epoch, e.Seq
	b.events.Add(1)
	b.deliver(e)
}

// catchUp delivers what the stream holds past the last event this node
// saw: what was published while it was away. On the first connection it
// only notes where the stream is.
func (b *redisBroker) catchUp() error {
	ctx, cancel := context.WithTimeout(b.ctx, 10*b.opts.opTimeout)
	defer cancel()
	epoch, err := b.rdb.Get(ctx, b.keys.epoch).Result()
	if errors.Is(err, redis.Nil) {
		// Empty Redis: the next event starts a new epoch.
		b.epoch, b.seq = "", 0
		return nil
	}
	if err != nil {
		return err
	}
	if b.epoch == "" && b.seq == 0 && !b.everUp() {
		seq, err := b.rdb.Get(ctx, b.keys.seq).Uint64()
		if err != nil && !errors.Is(err, redis.Nil) {
			return err
		}
		b.epoch, b.seq = epoch, seq
		return nil
	}
	start := "-"
	if epoch == b.epoch {
		start = "(" + strconv.FormatUint(b.seq, 10) + "-0"
	}
	return b.scan(ctx, start, func(e Entry) error {
		if e.Epoch == epoch && (e.Epoch != b.epoch || e.Seq > b.seq) {
			b.caughtUp.Add(1)
			b.hand(e)
		}
		return nil
	})
}

// everUp reports whether the node has been up before (upCh is closed).
func (b *redisBroker) everUp() bool {
	select {
	case <-b.upCh:
		return true
	default:
		return false
	}
}

// scan reads the stream from start (an XRANGE start), a page at a time.
func (b *redisBroker) scan(ctx context.Context, start string, fn func(Entry) error) error {
	for {
		msgs, err := b.rdb.XRangeN(ctx, b.keys.stream, start, "+", 1000).Result()
		if err != nil {
			return err
		}
		for _, m := range msgs {
			p, _ := m.Values["e"].(string)
			e, err := decodePayload(p)
			if err != nil {
				return err
			}
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(msgs) < 1000 {
			return nil
		}
		start = "(" + msgs[len(msgs)-1].ID
	}
}

// Since resolves cursor against Redis and reads the events after it.
// Clients that reconnect together with the same cursor (a deploy, a
// node lost) share one read.
func (b *redisBroker) Since(ctx context.Context, cursor string) (Replay, error) {
	if b.closed.Load() {
		return Replay{}, ErrClosed
	}
	return b.sf.do(cursor, func() (Replay, error) { return b.since(ctx, cursor) })
}

// errStale ends a scan whose events belong to another epoch than the cursor's.
var errStale = errors.New("epoch changed")

func (b *redisBroker) since(ctx context.Context, cursor string) (Replay, error) {
	ctx, cancel := context.WithTimeout(ctx, 5*b.opts.opTimeout)
	defer cancel()
	pipe := b.rdb.Pipeline()
	epochCmd := pipe.Get(ctx, b.keys.epoch)
	seqCmd := pipe.Get(ctx, b.keys.seq)
	var idCmd *redis.FloatCmd
	if len(cursor) <= maxCursor {
		idCmd = pipe.ZScore(ctx, b.keys.ids, cursor)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return Replay{}, b.down(err)
	}
	current := epochCmd.Val()
	last, _ := seqCmd.Uint64()
	var seq uint64
	if idCmd != nil && idCmd.Err() == nil && current != "" {
		seq = uint64(idCmd.Val())
	} else {
		epoch, n, ok := parseCursor(cursor)
		switch {
		case !ok:
			return Replay{Reset: resetMalformed}, nil
		case epoch != current:
			return Replay{Reset: resetEpoch}, nil
		case n > last:
			return Replay{Reset: resetUnknown}, nil
		}
		seq = n
	}
	rp := Replay{Epoch: current, Seq: seq}
	cutoff := time.Now().Add(-b.opts.maxAge)
	seen := false
	err := b.scan(ctx, strconv.FormatUint(max(seq, 1), 10)+"-0", func(e Entry) error {
		if e.Epoch != current {
			return errStale
		}
		if !seen {
			seen = true
			// The event just after the cursor must still be kept (the
			// cursor's own event may have gone: nothing is missing then).
			if e.Seq > seq+1 || (b.opts.maxAge > 0 && e.Seq > seq && e.At.Before(cutoff)) {
				rp.Reset = resetTooOld
				return errStale
			}
		}
		if e.Seq > seq {
			rp.Entries = append(rp.Entries, e)
		}
		return nil
	})
	switch {
	case errors.Is(err, errStale) && rp.Reset != "":
		return Replay{Reset: rp.Reset}, nil
	case errors.Is(err, errStale):
		return Replay{Reset: resetEpoch}, nil
	case err != nil:
		return Replay{}, b.down(err)
	case !seen && seq < last:
		return Replay{Reset: resetTooOld}, nil
	}
	return rp, nil
}

// presenceScript sets this node's count in each presence key (field =
// node, value = "expiry-ms:count", expiry from Redis's clock), or removes
// it at 0, and prunes the fields of nodes that stopped refreshing.
var presenceScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
local exp = string.format('%d', now + ttl)
for i, k in ipairs(KEYS) do
  local n = tonumber(ARGV[i + 2])
  if n > 0 then
    redis.call('HSET', k, ARGV[1], exp .. ':' .. n)
    redis.call('PEXPIRE', k, 2 * ttl)
    if redis.call('HLEN', k) > 1 then
      local p = redis.call('HGETALL', k)
      for j = 1, #p, 2 do
        local e = string.match(p[j + 1], '^(%d+):')
        if not e or tonumber(e) < now then redis.call('HDEL', k, p[j]) end
      end
    end
  else
    redis.call('HDEL', k, ARGV[1])
  end
end
return 0
`)

// Hold counts one more local stream of clientID (and its topics) and has
// Redis know it before it returns.
func (b *redisBroker) Hold(ctx context.Context, clientID string, topics []string) error {
	keys := b.presenceKeys(clientID, topics)
	b.pwMu.Lock()
	defer b.pwMu.Unlock()
	b.pMu.Lock()
	for _, k := range keys {
		b.held[k]++
	}
	counts := b.countsLocked(keys)
	b.pMu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, b.opts.opTimeout)
	defer cancel()
	if err := b.writePresence(ctx, keys, counts); err != nil {
		b.pMu.Lock()
		for _, k := range keys {
			if b.held[k]--; b.held[k] <= 0 {
				delete(b.held, k)
			}
		}
		b.pMu.Unlock()
		return b.down(err)
	}
	return nil
}

// Release counts one local stream less; Redis learns it shortly after
// (until then the node gets a few events it drops).
func (b *redisBroker) Release(clientID string, topics []string) {
	b.pMu.Lock()
	for _, k := range b.presenceKeys(clientID, topics) {
		if b.held[k]--; b.held[k] <= 0 {
			delete(b.held, k)
		}
		b.dirty[k] = true
	}
	b.pMu.Unlock()
	select {
	case b.flushCh <- struct{}{}:
	default:
	}
}

func (b *redisBroker) presenceKeys(clientID string, topics []string) []string {
	keys := make([]string, 0, 2+len(topics))
	keys = append(keys, b.keys.of(target{kind: toClient, name: clientID}), b.keys.all)
	for _, t := range topics {
		keys = append(keys, b.keys.of(target{kind: toTopic, name: t}))
	}
	return keys
}

func (b *redisBroker) countsLocked(keys []string) []any {
	counts := make([]any, len(keys))
	for i, k := range keys {
		counts[i] = b.held[k]
	}
	return counts
}

// writePresence runs the presence script over keys in chunks.
func (b *redisBroker) writePresence(ctx context.Context, keys []string, counts []any) error {
	const chunk = 500
	for len(keys) > 0 {
		n := min(chunk, len(keys))
		args := append([]any{b.opts.node, b.opts.presenceTTL.Milliseconds()}, counts[:n]...)
		if err := presenceScript.Run(ctx, b.rdb, keys[:n], args...).Err(); err != nil {
			return err
		}
		keys, counts = keys[n:], counts[n:]
	}
	return nil
}

// refreshAll writes every presence count this node holds: on each
// (re)connection, so a Redis that came back empty knows at once, and
// periodically, before the counts lapse.
func (b *redisBroker) refreshAll() error {
	b.pwMu.Lock()
	defer b.pwMu.Unlock()
	b.pMu.Lock()
	keys := make([]string, 0, len(b.held)+1)
	for k := range b.held {
		keys = append(keys, k)
	}
	for k := range b.dirty {
		if b.held[k] == 0 {
			keys = append(keys, k)
		}
	}
	clear(b.dirty)
	counts := b.countsLocked(keys)
	b.pMu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 10*b.opts.opTimeout)
	defer cancel()
	return b.writePresence(ctx, keys, counts)
}

// flushDirty writes the counts that changed since the last write.
func (b *redisBroker) flushDirty() error {
	b.pwMu.Lock()
	defer b.pwMu.Unlock()
	b.pMu.Lock()
	keys := make([]string, 0, len(b.dirty))
	for k := range b.dirty {
		keys = append(keys, k)
	}
	clear(b.dirty)
	counts := b.countsLocked(keys)
	b.pMu.Unlock()
	ctx, cancel := context.WithTimeout(b.ctx, 10*b.opts.opTimeout)
	defer cancel()
	if err := b.writePresence(ctx, keys, counts); err != nil {
		b.pMu.Lock()
		for _, k := range keys {
			b.dirty[k] = true
		}
		b.pMu.Unlock()
		return err
	}
	return nil
}

// presence refreshes the node's presence a few times per TTL and writes
// releases soon after they happen.
func (b *redisBroker) presence() {
	defer b.done.Done()
	t := time.NewTicker(b.opts.presenceTTL / 3)
	defer t.Stop()
	for {
		var err error
		select {
		case <-b.ctx.Done():
			return
		case <-t.C:
			if b.up.Load() {
				err = b.refreshAll()
			}
		case <-b.flushCh:
			if b.up.Load() {
				err = b.flushDirty()
			}
		}
		if err != nil && b.ctx.Err() == nil {
			b.log.LogAttrs(b.ctx, slog.LevelWarn, "redis presence refresh failed", slog.String("error", err.Error()))
		}
	}
}

// Close stops the loops, removes this node's presence and closes the
// connections.
func (b *redisBroker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	if b.up.Load() {
		b.pMu.Lock()
		for k := range b.held {
			b.held[k] = 0
			b.dirty[k] = true
		}
		clear(b.held)
		b.pMu.Unlock()
		_ = b.flushDirty()
	}
	b.cancel()
	b.psMu.Lock()
	if b.ps != nil {
		_ = b.ps.Close()
	}
	b.psMu.Unlock()
	b.done.Wait()
	return b.rdb.Close()
}

// redisTraffic is what a node exchanged with Redis since it started.
type redisTraffic struct {
	BytesIn, BytesOut, Commands, Reconnects uint64
	Events                                  uint64 // events the node took from Redis
}

func (b *redisBroker) traffic() redisTraffic {
	return redisTraffic{b.bytesIn.Load(), b.bytesOut.Load(), b.commands.Load(), b.reconnects.Load(), b.events.Load()}
}

// quietRedis silences go-redis's own log lines (dial retries and the
// like): the broker logs the outages itself, once, through slog.
var quietRedis sync.Once

type discardLogger struct{}

func (discardLogger) Printf(context.Context, string, ...any) {}

// countingConn counts the bytes of one connection to Redis.
type countingConn struct {
	net.Conn
	in, out *atomic.Uint64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(uint64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(uint64(n))
	return n, err
}

// commandCounter counts the commands sent to Redis, pipelined ones each.
type commandCounter struct{ n *atomic.Uint64 }

func (h commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}

func (h commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(uint64(len(cmds)))
		return next(ctx, cmds)
	}
}

// singleflight runs one call per key at a time; callers that arrive while
// it runs share its result.
type singleflight struct {
	mu     sync.Mutex
	calls  map[string]*flight
	shared atomic.Uint64 // callers that took another's result
}

type flight struct {
	done chan struct{}
	rp   Replay
	err  error
}

func (s *singleflight) do(key string, fn func() (Replay, error)) (Replay, error) {
	s.mu.Lock()
	if f, ok := s.calls[key]; ok {
		s.mu.Unlock()
		s.shared.Add(1)
		<-f.done
		return f.rp, f.err
	}
	if s.calls == nil {
		s.calls = make(map[string]*flight)
	}
	f := &flight{done: make(chan struct{})}
	s.calls[key] = f
	s.mu.Unlock()
	f.rp, f.err = fn()
	s.mu.Lock()
	delete(s.calls, key)
	s.mu.Unlock()
	close(f.done)
	return f.rp, f.err
}
