package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// server is one contender of the side-by-side runs.
type server struct {
	name  string   // label in the report
	bin   string   // binary in the work directory
	args  []string // arguments; {addr} is the port loadtest picks
	about string   // what it is, for the report
}

// addrOnly is the command line of a peer: it needs nothing but its address.
var addrOnly = []string{"-addr", "{addr}"}

// servers in their default order. The ssekit hub runs with the limits
// raised so the load fits (distinct client ids make the per-client limit
// irrelevant); everything else is its default, the queue size included.
var allServers = []server{
	{
		name:  "ssekit",
		bin:   "ssekit-server",
		args:  []string{"-addr", "{addr}", "-www=", "-max-conns", "100000", "-log-level", "warn"},
		about: "this repository's hub, `server/cmd/ssekit-server`",
	},
	{
		name:  "handwritten",
		bin:   "handwritten",
		args:  addrOnly,
		about: "`e2e/peers/cmd/handwritten`, the floor: a map of channels, a goroutine per stream, one Write and Flush per event",
	},
	{
		name:  "go-sse",
		bin:   "gosse",
		args:  addrOnly,
		about: "`e2e/peers/cmd/gosse`: github.com/tmaxmax/go-sse %s, its default provider (Joe)",
	},
	{
		name:  "r3labs",
		bin:   "r3labs",
		args:  addrOnly,
		about: "`e2e/peers/cmd/r3labs`: github.com/r3labs/sse/v2 %s, one stream for everyone, AutoReplay off",
	},
}

func serverNames() []string {
	names := make([]string, len(allServers))
	for i, s := range allServers {
		names[i] = s.name
	}
	return names
}

// pickServers resolves a comma-separated list of server names.
func pickServers(list string) ([]server, error) {
	var out []server
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, s := range allServers {
			if s.name == name && !seen[name] {
				out, seen[name], found = append(out, s), true, true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown or repeated server %q (known: %s)", name, strings.Join(serverNames(), ", "))
		}
	}
	return out, nil
}

// binaries are the built programs.
type binaries struct {
	dir      string
	loadtest string
	versions map[string]string // peer library module path → version
	extra    []string          // arguments the ssekit server of this tree needs on top
}

func (b *binaries) path(s server) string { return filepath.Join(b.dir, s.bin) }

// argv is the command line loadtest starts for s.
func (b *binaries) argv(s server) []string {
	argv := append([]string{b.path(s)}, s.args...)
	if s.name == "ssekit" {
		argv = append(argv, b.extra...)
	}
	return argv
}

// display is the command line of s for the report, without the work dir.
func (s server) display(b *binaries) string {
	argv := b.argv(s)
	argv[0] = s.bin
	return strings.Join(argv, " ")
}

// describe fills the library versions into about.
func (s server) describe(b *binaries) string {
	switch s.name {
	case "go-sse":
		return fmt.Sprintf(s.about, b.versions["github.com/tmaxmax/go-sse"])
	case "r3labs":
		return fmt.Sprintf(s.about, b.versions["github.com/r3labs/sse/v2"])
	}
	return s.about
}

// build compiles ssekit-server and loadtest from the main module and the
// peers from their nested module, into dir.
func build(ctx context.Context, dir string) (*binaries, error) {
	b := &binaries{dir: dir, loadtest: filepath.Join(dir, "loadtest"), versions: map[string]string{}}
	steps := [][]string{
		{"go", "build", "-o", filepath.Join(dir, "ssekit-server"), "./server/cmd/ssekit-server"},
		{"go", "build", "-o", b.loadtest, "./e2e/loadtest"},
		{"go", "build", "-C", "e2e/peers", "-o", dir + "/", "./cmd/..."},
	}
	for _, argv := range steps {
		if _, err := command(ctx, argv...); err != nil {
			return nil, err
		}
	}
	for _, mod := range []string{"github.com/tmaxmax/go-sse", "github.com/r3labs/sse/v2"} {
		v, err := command(ctx, "go", "list", "-C", "e2e/peers", "-m", "-f", "{{.Version}}", mod)
		if err != nil {
			return nil, err
		}
		b.versions[mod] = strings.TrimSpace(v)
	}
	// A per-address connection limit, where the hub has one, would refuse
	// a load client that opens every stream from 127.0.0.1.
	help, _ := exec.CommandContext(ctx, filepath.Join(dir, "ssekit-server"), "-h").CombinedOutput()
	if bytes.Contains(help, []byte("-max-conns-per-ip")) {
		b.extra = append(b.extra, "-max-conns-per-ip", "100000")
	}
	return b, nil
}

// command runs argv and returns its output; a failure carries the output.
func command(ctx context.Context, argv ...string) (string, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), "GOWORK=off")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, stderr.String())
	}
	return stdout.String(), nil
}
