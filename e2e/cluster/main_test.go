package cluster

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/ssekit/ssekit/e2e"
)

var (
	// browser is the one Chromium of this test binary; each test opens a tab.
	browser context.Context
	// serverBin is the ssekit-server binary under test, built with -race.
	serverBin string
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	dir, err := os.MkdirTemp("", "ssekit-cluster-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if serverBin, err = BuildServer(dir, true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, cancel, err := e2e.NewBrowser(context.Background())
	if err != nil {
		// Fail, never skip: the suite exists to prove the browser path.
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer cancel()
	browser = ctx
	return m.Run()
}
