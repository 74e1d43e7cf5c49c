// Command ssekit-server runs the ssekit SSE hub: the HTTP API, the demos
// and the static files of www/, over HTTP or HTTPS with HTTP/2.
//
//	ssekit-server [flags]              serve (ssekit-server -h lists the flags)
//	ssekit-server token -sub ID [...]  print a subscriber token signed with $SSEKIT_AUTH_SECRET
//	ssekit-server cert [-dir DIR]      write a self-signed cert.pem and key.pem for local HTTPS
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ssekit/ssekit/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	args := os.Args[1:]
	var err error
	switch {
	case len(args) > 0 && args[0] == "token":
		err = mintCommand(args[1:], os.LookupEnv, os.Stdout, os.Stderr)
	case len(args) > 0 && args[0] == "cert":
		err = certCommand(args[1:], os.Stderr)
	default:
		err = run(ctx, args, os.LookupEnv, os.Stderr, nil)
	}
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "ssekit-server:", err)
		os.Exit(1)
	}
}

// flags are the command line; every flag also reads SSEKIT_<NAME>.
type flags struct {
	addr, www, corsOrigins, logLevel        string
	authSecret, publishKey, cookieSameSite  string
	trustedProxies, tlsCert, tlsKey         string
	authLeeway                              time.Duration
	maxConnsPerIP                           int
	heartbeat, retry, writeTimeout          time.Duration
	writeDelay, flushInterval               time.Duration
	historyTTL, maxStreamDur, wordsInterval time.Duration
	drainTimeout                            time.Duration
	queueSize, maxTopics, maxConns          int
	maxConnsPerClient, historySize          int
	maxBody                                 int64
	dataDir, redisURL                       string
	historyMaxBytes                         int64
	redisPresence                           bool
}

// newFlags defines the flags on a FlagSet whose -h output goes to out.
func newFlags(out io.Writer) (*flags, *flag.FlagSet) {
	f := &flags{}
	fs := flag.NewFlagSet("ssekit-server", flag.ContinueOnError)
	fs.SetOutput(out)
	str := func(p *string, name, def, usage string) { fs.StringVar(p, name, def, usage) }
	dur := func(p *time.Duration, name string, def time.Duration, usage string) {
		fs.DurationVar(p, name, def, usage)
	}
	num := func(p *int, name string, def int, usage string) { fs.IntVar(p, name, def, usage) }
	str(&f.addr, "addr", "127.0.0.1:8844", "listen address")
	str(&f.www, "www", "./www", "directory of static files (demo pages, SDK); empty = none")
	str(&f.corsOrigins, "cors-origins", "", "comma-separated origins allowed cross-origin; empty = same origin only")
	str(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	dur(&f.heartbeat, "heartbeat", 15*time.Second, "interval of the comment heartbeat on every stream")
	dur(&f.retry, "retry", 3*time.Second, "reconnection delay announced to clients (retry: field)")
	dur(&f.writeTimeout, "write-timeout", 10*time.Second, "deadline of each write to a stream")
	dur(&f.writeDelay, "write-delay", 0, "wait this long (0..100ms) before writing, so events published close together share one write")
	dur(&f.flushInterval, "flush-interval", 5*time.Millisecond, "start a round of writes to HTTP/1.x streams at most this often (0..100ms; rounds also begin at most every 1.5x the last round's length); a frame after a quiet spell goes out at once, frames under load share one write per stream and round")
	dur(&f.historyTTL, "history-ttl", 0, "age after which history is dropped; 0 = no age limit")
	dur(&f.maxStreamDur, "max-stream-duration", 0, "end streams after this long with a reconnect event; 0 = never")
	dur(&f.wordsInterval, "words-interval", time.Second, "pace of the /sse/words demo")
	dur(&f.drainTimeout, "drain-timeout", 5*time.Second, "how long shutdown waits for streams to end")
	num(&f.queueSize, "queue-size", 1024, "frames queued per stream before it is dropped as slow")
	num(&f.maxTopics, "max-topics", 64, "topics per stream (400 beyond)")
	num(&f.maxConns, "max-conns", 10000, "open streams in total (503 beyond)")
	num(&f.maxConnsPerClient, "max-conns-per-client", 16, "open streams per client id (429 beyond)")
	num(&f.historySize, "history-size", 10000, "events kept for Last-Event-ID replay")
	str(&f.dataDir, "data-dir", "", "keep history on disk in this directory, so a restart replays what clients missed; empty = in memory")
	fs.Int64Var(&f.historyMaxBytes, "history-max-bytes", 0, "with -data-dir: bound the history's size on disk in bytes; 0 = by count and age only")
	str(&f.redisURL, "redis-url", "", "share history and fan-out with other nodes through Redis, e.g. redis://127.0.0.1:6379/0; empty = this process alone")
	fs.BoolVar(&f.redisPresence, "redis-presence", true, "with -redis-url, `true|false`: send an event for one client only to the nodes holding it")
	fs.Int64Var(&f.maxBody, "max-body", 64<<10, "publish body limit in bytes (413 beyond)")
	str(&f.authSecret, "auth-secret", "", "comma-separated HS256 secrets (32+ bytes each) for subscriber tokens; empty = streams open to all")
	dur(&f.authLeeway, "auth-leeway", 0, "clock skew tolerated when checking a token's exp and nbf")
	str(&f.publishKey, "publish-key", "", "comma-separated keys (32+ bytes each) that publishing and admin calls send as Bearer; empty = open")
	str(&f.cookieSameSite, "cookie-samesite", "strict", "SameSite of the session cookie: strict, lax or none (none: always Secure)")
	num(&f.maxConnsPerIP, "max-conns-per-ip", 0, "open streams per client address, IPv6 per /64 (429 beyond); 0 = no limit")
	str(&f.trustedProxies, "trusted-proxies", "", "comma-separated CIDRs of proxies whose X-Forwarded-For/-Proto/-Host are believed")
	str(&f.tlsCert, "tls-cert", "", "PEM certificate (chain): serve HTTPS with HTTP/2; needs -tls-key")
	str(&f.tlsKey, "tls-key", "", "PEM private key of -tls-cert")

	fs.VisitAll(func(fl *flag.Flag) { fl.Usage += fmt.Sprintf(" [$%s]", envName(fl.Name)) })
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: ssekit-server [flags]\nEvery flag can also be set by the environment variable shown in brackets.")
		fs.PrintDefaults()
	}
	return f, fs
}

// parseFlags reads the environment (through lookupEnv) first and args
// second, so the command line wins. -h prints the flags to out and returns
// flag.ErrHelp.
func parseFlags(args []string, lookupEnv func(string) (string, bool), out io.Writer) (*flags, error) {
	f, fs := newFlags(out)
	if err := parseInto(fs, args, lookupEnv); err != nil {
		return nil, err
	}
	return f, nil
}

func parseInto(fs *flag.FlagSet, args []string, lookupEnv func(string) (string, bool)) error {
	var envErr error
	fs.VisitAll(func(fl *flag.Flag) {
		if v, ok := lookupEnv(envName(fl.Name)); ok && envErr == nil {
			if err := fl.Value.Set(v); err != nil {
				envErr = fmt.Errorf("$%s: %w", envName(fl.Name), err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return nil
}

func envName(flagName string) string {
	return "SSEKIT_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// run serves until ctx ends, then drains: new streams and publishes get
// 503, every stream gets a reconnect event (reason drain) with a short
// retry, and the server exits once they have closed or -drain-timeout has
// passed. ready, when not nil, gets the listening address.
func run(ctx context.Context, args []string, lookupEnv func(string) (string, bool), stderr io.Writer, ready func(addr string)) error {
	f, err := parseFlags(args, lookupEnv, stderr)
	if err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return fmt.Errorf("-log-level: %w", err)
	}
	if f.drainTimeout <= 0 {
		return fmt.Errorf("-drain-timeout must be > 0, got %v", f.drainTimeout)
	}
	if err := checkExposure(f); err != nil {
		return err
	}
	tlsConfig, err := loadTLS(f.tlsCert, f.tlsKey)
	if err != nil {
		return err
	}
	security, err := securityOptions(f)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	hub, err := server.New(append([]server.Option{
		server.WithLogger(logger),
		server.WithHeartbeat(f.heartbeat),
		server.WithRetry(f.retry),
		server.WithWriteTimeout(f.writeTimeout),
		server.WithWriteDelay(f.writeDelay),
		server.WithFlushInterval(f.flushInterval),
		server.WithQueueSize(f.queueSize),
		server.WithMaxTopics(f.maxTopics),
		server.WithMaxConns(f.maxConns),
		server.WithMaxConnsPerClient(f.maxConnsPerClient),
		server.WithHistory(f.historySize, f.historyTTL),
		server.WithDataDir(f.dataDir),
		server.WithHistoryMaxBytes(f.historyMaxBytes),
		server.WithRedis(f.redisURL),
		server.WithRedisPresence(f.redisPresence),
		server.WithMaxStreamDuration(f.maxStreamDur),
		server.WithWordsInterval(f.wordsInterval),
		server.WithMaxBody(f.maxBody),
		server.WithCORSOrigins(splitCSV(f.corsOrigins)),
		server.WithStatic(f.www),
	}, security...)...)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.addr)
	if err != nil {
		_ = hub.Close()
		return err
	}
	srv := &http.Server{
		Handler:           hub.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		TLSConfig:         tlsConfig,
	}
	errc := make(chan error, 1)
	scheme := "http"
	if tlsConfig != nil {
		// ServeTLS offers h2 by ALPN: every stream of a page shares one
		// connection, so the browsers' 6 connections per origin no longer apply.
		scheme = "https"
		go func() { errc <- srv.ServeTLS(ln, "", "") }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	addr := ln.Addr().String()
	logger.Info("ssekit-server listening", slog.String("addr", addr), slog.String("url", scheme+"://"+addr+"/"),
		slog.Bool("subscriber_auth", f.authSecret != ""), slog.Bool("publisher_auth", f.publishKey != ""))
	if ready != nil {
		ready(addr)
	}

	select {
	case err := <-errc:
		_ = hub.Close()
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down: draining streams", slog.Duration("timeout", f.drainTimeout))
	dctx, cancel := context.WithTimeout(context.Background(), f.drainTimeout)
	defer cancel()
	if err := hub.Drain(dctx); err != nil {
		logger.Warn("drain incomplete: closing the remaining streams", slog.String("error", err.Error()))
	}
	if err := srv.Shutdown(dctx); err != nil {
		logger.Warn("shutdown incomplete: closing the remaining connections", slog.String("error", err.Error()))
		_ = srv.Close()
	}
	logger.Info("stopped")
	return nil
}

// splitCSV splits a comma-separated flag value, dropping empty items.
func splitCSV(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
