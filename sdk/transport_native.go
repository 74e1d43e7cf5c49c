//go:build !(js && wasm)

package sdk

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"sync"

	"github.com/ssekit/ssekit/sdk/wire"
)

// Connect opens a stream to url. Outside the browser the client runs on
// net/http with the same policy (backoff, classification, resume,
// duplicates); Persist and PauseWhenHidden have no effect there.
func Connect(url string, opts Options) (*Client, error) {
	c := newClient(url, opts, &httpTransport{hc: http.DefaultClient})
	c.start()
	return c, nil
}

// maxEventBytes bounds one event read by the native transport.
const maxEventBytes = 1 << 20

// httpTransport is the native platform: GET with Accept:
// text/event-stream, parsed by sdk/wire the way a browser parses it.
type httpTransport struct {
	hc *http.Client
}

func (t *httpTransport) open(url string, _ []string, s sink) (stream, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	req = req.WithContext(ctx)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("Cache-Control", "no-cache")
	st := &httpStream{cancel: cancel}
	go st.run(t.hc, req, s)
	return st, nil
}

type httpStream struct {
	cancel context.CancelFunc
	once   sync.Once
}

func (st *httpStream) listen(string) error { return nil }

func (st *httpStream) close() { st.once.Do(st.cancel) }

// run reads the stream until it ends, reporting to s. Reports after close
// are ignored by the client, which has moved on to another step.
func (st *httpStream) run(hc *http.Client, req *http.Request, s sink) {
	defer st.close()
	resp, err := hc.Do(req)
	if err != nil {
		s.failed(Failure{Err: err}, false)
		return
	}
	defer resp.Body.Close()
	if f := failureOf(resp); resp.StatusCode != http.StatusOK || !isEventStream(f.ContentType) {
		s.failed(f, true)
		return
	}
	s.opened()
	p := wire.NewParser(resp.Body)
	p.MaxEventBytes = maxEventBytes
	for {
		ev, err := p.Next()
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			s.failed(Failure{Err: err}, false)
			return
		}
		s.event(Event{Type: ev.Type, ID: ev.ID, Data: ev.Data})
	}
}

func failureOf(resp *http.Response) Failure {
	return Failure{
		Status:      resp.StatusCode,
		RetryAfter:  resp.Header.Get("Retry-After"),
		ContentType: resp.Header.Get("Content-Type"),
	}
}

// probe asks with HEAD; a server that does not answer HEAD on the path (405,
// 501) gets a GET that is cancelled as soon as its headers arrive.
func (t *httpTransport) probe(url string, done func(Failure)) {
	go func() {
		f := t.ask(http.MethodHead, url)
		if f.Status == http.StatusMethodNotAllowed || f.Status == http.StatusNotImplemented {
			f = t.ask(http.MethodGet, url)
		}
		done(f)
	}()
}

func (t *httpTransport) ask(method, url string) Failure {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, nil)
	if err != nil {
		return Failure{Err: err}
	}
	req.Header.Set("Accept", "text/event-stream")
	resp, err := t.hc.Do(req)
	if err != nil {
		return Failure{Err: err}
	}
	cancel() // headers are all we wanted
	resp.Body.Close()
	return failureOf(resp)
}

func (t *httpTransport) online() bool                   { return true }
func (t *httpTransport) onOnline(func()) func()         { return func() {} }
func (t *httpTransport) hidden() bool                   { return false }
func (t *httpTransport) onVisibility(func(bool)) func() { return func() {} }
func (t *httpTransport) load(string) string             { return "" }
func (t *httpTransport) save(string, string)            {}

// logError is the last resort for errors nobody listens for.
func logError(err error) { log.Print("ssekit: " + err.Error()) }
