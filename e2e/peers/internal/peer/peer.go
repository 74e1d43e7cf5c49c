// Package peer is what the peer servers share: flags, the HTTP server, the
// publish request and a clean stop on SIGINT/SIGTERM.
package peer

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// Routes are what a peer serves, on the ssekit hub's paths.
type Routes struct {
	// Connect serves GET /api/sse/connect/{clientId}: it registers the
	// stream before it writes the response headers, then streams events.
	Connect http.HandlerFunc
	// Publish sends data to every stream and returns how many streams it
	// went to, or -1 when the library does not say.
	Publish func(data string) (int, error)
}

// Main parses -addr, serves routes there until SIGINT or SIGTERM, and
// exits: 0 after a stop by signal, 1 on any other error.
func Main(name string, routes Routes) {
	fs := flag.NewFlagSet(name, flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:8845", "listen address")
	_ = fs.Parse(os.Args[1:])
	if err := serve(name, *addr, routes); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		os.Exit(1)
	}
}

func serve(name, addr string, routes Routes) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/sse/connect/{clientId}", routes.Connect)
	mux.HandleFunc("POST /api/sse/sendAll", func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
		if err := r.ParseForm(); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
			return
		}
		if _, ok := r.Form["message"]; !ok {
			reply(w, http.StatusBadRequest, map[string]string{"error": "message is required"})
			return
		}
		n, err := routes.Publish(r.Form.Get("message"))
		if err != nil {
			reply(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
			return
		}
		reply(w, http.StatusAccepted, map[string]int{"delivered": n})
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(os.Stderr, name+": ", 0),
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(os.Stderr, "%s: listening on %s\n", name, ln.Addr())
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	// Streams never end by themselves: close them rather than wait.
	if err := srv.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
