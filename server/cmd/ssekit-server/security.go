package main

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"github.com/ssekit/ssekit/server"
)

// checkExposure refuses to serve beyond loopback without subscriber and
// publisher auth: an open hub on a network lets anyone read anyone's
// events and publish in their name.
func checkExposure(f *flags) error {
	if isLoopback(f.addr) {
		return nil
	}
	var missing []string
	if f.authSecret == "" {
		missing = append(missing, "-auth-secret")
	}
	if f.publishKey == "" {
		missing = append(missing, "-publish-key")
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s, which is not a loopback address, without %s: set them, or listen on 127.0.0.1",
		f.addr, strings.Join(missing, " and "))
}

// isLoopback reports whether addr listens on loopback only: localhost or
// a loopback IP. An empty host (":8844") means every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

// loadTLS reads the certificate and key, so a bad pair fails at start and
// not at the first handshake. nil: plain HTTP.
func loadTLS(certFile, keyFile string) (*tls.Config, error) {
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("-tls-cert and -tls-key go together")
	}
	if certFile == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}, nil
}

// securityOptions turns the auth, cookie and address flags into options.
// Errors name the flag, never a value.
func securityOptions(f *flags) ([]server.Option, error) {
	sameSite, err := server.ParseSameSite(f.cookieSameSite)
	if err != nil {
		return nil, fmt.Errorf("-cookie-samesite: must be strict, lax or none")
	}
	opts := []server.Option{
		server.WithAuthLeeway(f.authLeeway),
		server.WithCookieSameSite(sameSite),
		server.WithMaxConnsPerIP(f.maxConnsPerIP),
		server.WithTrustedProxies(splitCSV(f.trustedProxies)...),
	}
	if f.authSecret != "" {
		opts = append(opts, server.WithAuthSecrets(secrets(f.authSecret)...))
	}
	if f.publishKey != "" {
		opts = append(opts, server.WithPublishKeys(secrets(f.publishKey)...))
	}
	return opts, nil
}

func secrets(csv string) []server.Secret {
	var out []server.Secret
	for _, s := range splitCSV(csv) {
		out = append(out, server.Secret(s))
	}
	return out
}
