package e2e

import (
	"context"
	"fmt"
	"os"
	"testing"
)

// browser is the one Chromium of this test binary; each test opens a tab.
var browser context.Context

func TestMain(m *testing.M) {
	ctx, cancel, err := NewBrowser(context.Background())
	if err != nil {
		// Fail, never skip: the suite exists to prove the browser path.
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	browser = ctx
	code := m.Run()
	cancel()
	os.Exit(code)
}
