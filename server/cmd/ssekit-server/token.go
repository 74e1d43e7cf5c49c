package main

import (
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/ssekit/ssekit/server"
)

// mintCommand prints a subscriber token signed with the first secret of
// $SSEKIT_AUTH_SECRET (or -secret): for trying the hub out and for shell
// scripts. Back ends mint their own with any HS256 JWT library, or with
// server.MintToken in Go.
func mintCommand(args []string, lookupEnv func(string) (string, bool), stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("ssekit-server token", flag.ContinueOnError)
	fs.SetOutput(stderr)
	sub := fs.String("sub", "", "the client id the token is for (required)")
	topics := fs.String("topics", "", `comma-separated topics it may subscribe to; "*" = any; empty = none`)
	ttl := fs.Duration("ttl", time.Hour, "lifetime: exp is now + ttl")
	secret := fs.String("secret", "", "signing secret; default: the first of $"+envName("auth-secret")+" (prefer the variable: arguments show in ps)")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "Usage: ssekit-server token -sub ID [-topics a,b] [-ttl 1h]\nPrints an HS256 subscriber token.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("token: unexpected arguments: %v", fs.Args())
	}
	key := *secret
	if key == "" {
		env, _ := lookupEnv(envName("auth-secret"))
		if list := splitCSV(env); len(list) > 0 {
			key = list[0]
		}
	}
	if key == "" {
		return fmt.Errorf("token: no secret: set $%s or -secret", envName("auth-secret"))
	}
	if *ttl <= 0 {
		return fmt.Errorf("token: -ttl must be > 0")
	}
	tok, err := server.MintToken(server.Secret(key), server.Claims{
		Subject: *sub,
		Topics:  splitCSV(*topics),
		Expiry:  time.Now().Add(*ttl).Truncate(time.Second),
	})
	if err != nil {
		return fmt.Errorf("token: %w", err)
	}
	_, err = fmt.Fprintln(stdout, tok)
	return err
}
