package server

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// boltBroker keeps history on local disk in a bbolt file (-data-dir), so a
// restarted node replays what its clients missed. The epoch and the last
// seq live in the file: ids go on where they stopped.
//
// Publishes are group-committed: one writer goroutine takes every publish
// waiting, writes them in one transaction (one fsync), then delivers them in
// seq order. Old events are deleted by a separate cleaner in small
// transactions, so a publish waits for one small batch at most.
type boltBroker struct {
	db      *bolt.DB
	path    string
	log     *slog.Logger
	epoch   string
	bounds  boltBounds
	deliver func(Entry) int

	reqs   chan *boltReq
	kick   chan struct{} // wakes the cleaner when a write went over a bound
	quit   chan struct{}
	done   sync.WaitGroup
	closed atomic.Bool

	// fault, when set, fails every write transaction: tests use it to
	// reproduce a full or failing disk.
	fault atomic.Pointer[error]

	mu    sync.Mutex // guards the figures below, mirrors of the file
	first uint64     // oldest kept seq (last+1 when empty)
	last  uint64
	size  int64 // bytes of kept records
}

// boltBounds bound the kept history: a count, a total size of records and
// an age (0: no bound).
type boltBounds struct {
	count    int
	maxBytes int64
	maxAge   time.Duration
	batch    int           // records deleted per cleanup transaction
	every    time.Duration // cleanup interval when nothing kicks it
}

type boltReq struct {
	m    Message
	done chan boltRes
}

type boltRes struct {
	r   Receipt
	err error
}

// The file's buckets. events: 8-byte big-endian seq → record. ids:
// publisher id → seq. meta: epoch, last, size.
var (
	bucketEvents = []byte("events")
	bucketIDs    = []byte("ids")
	bucketMeta   = []byte("meta")
	keyEpoch     = []byte("epoch")
	keyLast      = []byte("last")
	keySize      = []byte("size")
)

// boltFile is the file name inside -data-dir.
const boltFile = "ssekit-history.db"

// openBolt opens (or creates) the history in dir. A second process on the
// same dir fails within lockWait with a clear message.
func openBolt(dir string, bounds boltBounds, log *slog.Logger, lockWait time.Duration) (*boltBroker, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("ssekit/server: data dir: %w", err)
	}
	path := filepath.Join(dir, boltFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockWait, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("ssekit/server: data dir %s is in use by another ssekit-server (%s is locked); "+
			"each process needs a data dir of its own", dir, path)
	}
	if err != nil {
		return nil, fmt.Errorf("ssekit/server: opening %s: %w", path, err)
	}
	if bounds.batch <= 0 {
		bounds.batch = 256
	}
	if bounds.every <= 0 {
		bounds.every = time.Second
	}
	b := &boltBroker{
		db: db, path: path, log: log, bounds: bounds,
		deliver: func(Entry) int { return 0 },
		reqs:    make(chan *boltReq, 1024),
		kick:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
	}
	if err := db.Update(b.load); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("ssekit/server: reading %s: %w", path, err)
	}
	return b, nil
}

// load creates the buckets and the epoch on first use, and reads the
// figures back otherwise.
func (b *boltBroker) load(tx *bolt.Tx) error {
	for _, name := range [][]byte{bucketEvents, bucketIDs, bucketMeta} {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return err
		}
	}
	meta := tx.Bucket(bucketMeta)
	if e := meta.Get(keyEpoch); e != nil {
		b.epoch = string(e)
	} else {
		b.epoch = newEpoch(time.Now())
		if err := meta.Put(keyEpoch, []byte(b.epoch)); err != nil {
			return err
		}
	}
	b.last = getUint(meta.Get(keyLast))
	b.size = int64(getUint(meta.Get(keySize)))
	b.first = b.last + 1
	if k, _ := tx.Bucket(bucketEvents).Cursor().First(); k != nil {
		b.first = binary.BigEndian.Uint64(k)
	}
	return nil
}

func getUint(v []byte) uint64 {
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

func putUint(n uint64) []byte { return binary.BigEndian.AppendUint64(nil, n) }

func (b *boltBroker) Subscribe(deliver func(Entry) int) error {
	b.deliver = deliver
	b.done.Add(2)
	go b.writer()
	go b.cleaner()
	return nil
}

// Publish queues m for the writer and waits for it to be on disk and
// delivered.
func (b *boltBroker) Publish(ctx context.Context, m Message) (Receipt, error) {
	if b.closed.Load() {
		return Receipt{}, ErrClosed
	}
	req := &boltReq{m: m, done: make(chan boltRes, 1)}
	select {
	case b.reqs <- req:
	case <-b.quit:
		return Receipt{}, ErrClosed
	case <-ctx.Done():
		return Receipt{}, ctx.Err()
	}
	res := <-req.done // the writer always answers, also when closing
	return res.r, res.err
}

// writer group-commits publishes: everything waiting goes in one
// transaction, then is delivered in seq order.
func (b *boltBroker) writer() {
	defer b.done.Done()
	batch := make([]*boltReq, 0, 256)
	for {
		select {
		case <-b.quit:
			b.refuseWaiting()
			return
		case req := <-b.reqs:
			batch = append(batch[:0], req)
		}
	more:
		for len(batch) < cap(batch) {
			select {
			case req := <-b.reqs:
				batch = append(batch, req)
			default:
				break more
			}
		}
		b.write(batch)
	}
}

func (b *boltBroker) refuseWaiting() {
	for {
		select {
		case req := <-b.reqs:
			req.done <- boltRes{err: ErrClosed}
		default:
			return
		}
	}
}

func (b *boltBroker) write(batch []*boltReq) {
	b.mu.Lock()
	next := b.last + 1
	b.mu.Unlock()
	entries := make([]Entry, len(batch))
	added := int64(0)
	err := b.db.Update(func(tx *bolt.Tx) error {
		if f := b.fault.Load(); f != nil {
			return *f
		}
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		for i, req := range batch {
			seq := next + uint64(i)
			id := req.m.ID
			if id == "" {
				id = b.epoch + "-" + strconv.FormatUint(seq, 10)
			} else if err := ids.Put([]byte(id), putUint(seq)); err != nil {
				return err
			}
			e := Entry{Epoch: b.epoch, Seq: seq, ID: id, At: req.m.At, to: req.m.to, Frame: frameOf(id, req.m.Body)}
			rec := encodeRecord(&e)
			if err := events.Put(putUint(seq), rec); err != nil {
				return err
			}
			added += int64(len(rec))
			entries[i] = e
		}
		size := int64(getUint(meta.Get(keySize))) + added
		if err := meta.Put(keySize, putUint(uint64(size))); err != nil {
			return err
		}
		return meta.Put(keyLast, putUint(next+uint64(len(batch))-1))
	})
	if err != nil {
		b.log.LogAttrs(context.Background(), slog.LevelError, "history store write failed",
			slog.String("file", b.path), slog.Int("events", len(batch)), slog.String("error", err.Error()))
		err = fmt.Errorf("%w: %v", ErrStoreFull, err)
		for _, req := range batch {
			req.done <- boltRes{err: err}
		}
		return
	}
	b.mu.Lock()
	b.last += uint64(len(batch))
	b.size += added
	over := b.overLocked()
	b.mu.Unlock()
	if over {
		select {
		case b.kick <- struct{}{}:
		default:
		}
	}
	for i, req := range batch {
		n := b.deliver(entries[i])
		req.done <- boltRes{r: Receipt{ID: entries[i].ID, Delivered: n}}
	}
}

// overLocked reports whether the kept history exceeds its count or size.
// The age is checked by the cleaner itself, on its ticker.
func (b *boltBroker) overLocked() bool {
	n := b.last + 1 - b.first
	return (b.bounds.count > 0 && n > uint64(b.bounds.count)) || (b.bounds.maxBytes > 0 && b.size > b.bounds.maxBytes)
}

// cleaner deletes the oldest events while a bound is exceeded, a small
// batch per transaction, so publishes interleave with it.
func (b *boltBroker) cleaner() {
	defer b.done.Done()
	t := time.NewTicker(b.bounds.every)
	defer t.Stop()
	for {
		select {
		case <-b.quit:
			return
		case <-t.C:
		case <-b.kick:
		}
		for {
			n, err := b.cleanOnce(time.Now())
			if err != nil {
				b.log.LogAttrs(context.Background(), slog.LevelWarn, "history cleanup failed",
					slog.String("file", b.path), slog.String("error", err.Error()))
				break
			}
			if n == 0 {
				break
			}
			select {
			case <-b.quit:
				return
			default:
			}
		}
	}
}

// cleanOnce deletes up to one batch of the oldest events that exceed a
// bound, and says how many.
func (b *boltBroker) cleanOnce(now time.Time) (int, error) {
	deleted, freed := 0, int64(0)
	var newFirst uint64
	err := b.db.Update(func(tx *bolt.Tx) error {
		if f := b.fault.Load(); f != nil {
			return *f
		}
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		last := getUint(meta.Get(keyLast))
		size := int64(getUint(meta.Get(keySize)))
		c := events.Cursor()
		var doomed [][]byte
		k, v := c.First()
		for ; k != nil && len(doomed) < b.bounds.batch; k, v = c.Next() {
			seq := binary.BigEndian.Uint64(k)
			kept := last - seq + 1
			e, err := decodeRecord(b.epoch, seq, v)
			if err != nil {
				return err
			}
			tooMany := b.bounds.count > 0 && kept > uint64(b.bounds.count)
			tooBig := b.bounds.maxBytes > 0 && size-freed > b.bounds.maxBytes
			tooOld := b.bounds.maxAge > 0 && now.Sub(e.At) > b.bounds.maxAge
			if !tooMany && !tooBig && !tooOld {
				break
			}
			doomed = append(doomed, k)
			freed += int64(len(v))
			if !isSeqID(b.epoch, e.ID, seq) {
				if got := ids.Get([]byte(e.ID)); getUint(got) == seq {
					if err := ids.Delete([]byte(e.ID)); err != nil {
						return err
					}
				}
			}
		}
		newFirst = last + 1
		if k != nil {
			newFirst = binary.BigEndian.Uint64(k)
		}
		for _, k := range doomed {
			if err := events.Delete(k); err != nil {
				return err
			}
		}
		deleted = len(doomed)
		if deleted == 0 {
			return nil
		}
		return meta.Put(keySize, putUint(uint64(size-freed)))
	})
	if err != nil || deleted == 0 {
		return 0, err
	}
	b.mu.Lock()
	b.first = newFirst
	b.size -= freed
	b.mu.Unlock()
	return deleted, nil
}

func isSeqID(epoch, id string, seq uint64) bool {
	return id == epoch+"-"+strconv.FormatUint(seq, 10)
}

// Since resolves cursor against the file and reads the events after it.
func (b *boltBroker) Since(_ context.Context, cursor string) (Replay, error) {
	if b.closed.Load() {
		return Replay{}, ErrClosed
	}
	var rp Replay
	err := b.db.View(func(tx *bolt.Tx) error {
		events, ids, meta := tx.Bucket(bucketEvents), tx.Bucket(bucketIDs), tx.Bucket(bucketMeta)
		last := getUint(meta.Get(keyLast))
		seq, reset := uint64(0), ""
		if v := ids.Get([]byte(cursor)); v != nil && len(cursor) <= maxCursor {
			seq = getUint(v)
		} else if epoch, n, ok := parseCursor(cursor); !ok {
			reset = resetMalformed
		} else if seq = n; epoch != b.epoch {
			reset = resetEpoch
		} else if seq > last {
			reset = resetUnknown
		}
		if reset != "" {
			rp.Reset = reset
			return nil
		}
		// The oldest event still within the age bound: the cleaner may not
		// have deleted the older ones yet.
		c := events.Cursor()
		first := last + 1
		cutoff := time.Now().Add(-b.bounds.maxAge)
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if b.bounds.maxAge > 0 && time.Unix(0, int64(binary.BigEndian.Uint64(v))).Before(cutoff) {
				continue
			}
			first = binary.BigEndian.Uint64(k)
			break
		}
		if seq+1 < first {
			rp.Reset = resetTooOld
			return nil
		}
		rp.Epoch, rp.Seq = b.epoch, seq
		for k, v := c.Seek(putUint(max(seq+1, first))); k != nil; k, v = c.Next() {
			e, err := decodeRecord(b.epoch, binary.BigEndian.Uint64(k), v)
			if err != nil {
				return err
			}
			rp.Entries = append(rp.Entries, e)
		}
		return nil
	})
	if err != nil {
		return Replay{}, fmt.Errorf("ssekit/server: reading history: %w", err)
	}
	return rp, nil
}

// Close stops the writer and the cleaner and closes the file, which
// releases its lock.
func (b *boltBroker) Close() error {
	if b.closed.Swap(true) {
		return nil
	}
	close(b.quit)
	b.done.Wait()
	b.refuseWaiting()
	return b.db.Close()
}

// failWrites makes every write fail with err (nil: writes succeed again).
func (b *boltBroker) failWrites(err error) {
	if err == nil {
		b.fault.Store(nil)
		return
	}
	b.fault.Store(&err)
}

// A record: at (8 bytes, unix ns), target kind (1), name length (2), name,
// id length (2), id, frame. Names and ids are at most 256 bytes.
func encodeRecord(e *Entry) []byte {
	rec := make([]byte, 0, 13+len(e.to.name)+len(e.ID)+len(e.Frame))
	rec = binary.BigEndian.AppendUint64(rec, uint64(e.At.UnixNano()))
	rec = append(rec, byte(e.to.kind))
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(e.to.name)))
	rec = append(rec, e.to.name...)
	rec = binary.BigEndian.AppendUint16(rec, uint16(len(e.ID)))
	rec = append(rec, e.ID...)
	return append(rec, e.Frame...)
}

var errBadRecord = errors.New("ssekit/server: corrupt history record")

// decodeRecord copies what it keeps: bbolt's values live only as long as
// their transaction.
func decodeRecord(epoch string, seq uint64, rec []byte) (Entry, error) {
	if len(rec) < 13 {
		return Entry{}, errBadRecord
	}
	e := Entry{Epoch: epoch, Seq: seq, At: time.Unix(0, int64(binary.BigEndian.Uint64(rec)))}
	e.to.kind = targetKind(rec[8])
	rest := rec[9:]
	n := int(binary.BigEndian.Uint16(rest))
	if len(rest) < 2+n+2 {
		return Entry{}, errBadRecord
	}
	e.to.name = string(rest[2 : 2+n])
	rest = rest[2+n:]
	n = int(binary.BigEndian.Uint16(rest))
	if len(rest) < 2+n {
		return Entry{}, errBadRecord
	}
	e.ID = string(rest[2 : 2+n])
	e.Frame = bytes.Clone(rest[2+n:])
	return e, nil
}
