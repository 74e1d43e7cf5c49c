package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net/netip"
	"os"
	"path/filepath"
	"time"
)

// certCommand writes a self-signed certificate and its key for local
// HTTPS (make run-tls). Browsers warn about it until it is trusted; for
// anything but local work use a real certificate.
func certCommand(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("ssekit-server cert", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".tls", "directory for cert.pem and key.pem")
	hosts := fs.String("hosts", "localhost,127.0.0.1,::1", "comma-separated names and addresses the certificate is for")
	valid := fs.Duration("valid", 30*24*time.Hour, "validity (browsers refuse more than 398 days)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("cert: unexpected arguments: %v", fs.Args())
	}
	certPEM, keyPEM, err := selfSigned(splitCSV(*hosts), time.Now(), *valid)
	if err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	certFile, keyFile := filepath.Join(*dir, "cert.pem"), filepath.Join(*dir, "key.pem")
	if err := os.WriteFile(keyFile, keyPEM, 0o600); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	if err := os.WriteFile(certFile, certPEM, 0o644); err != nil {
		return fmt.Errorf("cert: %w", err)
	}
	fmt.Fprintf(stderr, "wrote %s and %s for %s, valid %v\n", certFile, keyFile, *hosts, *valid)
	return nil
}

// selfSigned makes an ECDSA P-256 certificate for hosts, valid from now
// for valid, that is its own CA (so it can be trusted by hand).
func selfSigned(hosts []string, now time.Time, valid time.Duration) (certPEM, keyPEM []byte, err error) {
	if len(hosts) == 0 {
		return nil, nil, fmt.Errorf("no hosts")
	}
	if valid <= 0 {
		return nil, nil, fmt.Errorf("-valid must be > 0")
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"ssekit local"}, CommonName: hosts[0]},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(valid),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	for _, h := range hosts {
		if ip, err := netip.ParseAddr(h); err == nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip.AsSlice())
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}
