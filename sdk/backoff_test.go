//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"testing"
	"time"
)

func TestBackoff_Cap(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		name string
		b    Backoff
		n    int
		want time.Duration
	}{
		{"defaults first", Backoff{}, 1, 500 * ms},
		{"defaults second", Backoff{}, 2, time.Second},
		{"defaults capped", Backoff{}, 7, 30 * time.Second},
		{"defaults far", Backoff{}, 1000, 30 * time.Second},
		{"attempt 0 is the first", Backoff{Initial: 10 * ms}, 0, 10 * ms},
		{"factor 3", Backoff{Initial: 10 * ms, Factor: 3, Max: time.Second}, 3, 90 * ms},
		{"factor 1 stays", Backoff{Initial: 10 * ms, Factor: 1}, 50, 10 * ms},
		{"factor below 1 is the default", Backoff{Initial: 10 * ms, Factor: 0.5}, 2, 20 * ms},
		{"max below initial", Backoff{Initial: 100 * ms, Max: 10 * ms}, 3, 100 * ms},
		{"max above a day", Backoff{Initial: time.Hour, Max: 1000 * time.Hour}, 40, 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := c.b.Cap(c.n); got != c.want {
				t.Fatalf("Cap(%d) = %v, want %v", c.n, got, c.want)
			}
		})
	}
}

func TestBackoff_Delay(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	b := Backoff{Initial: 100 * ms, Max: time.Second}
	cases := []struct {
		name  string
		n     int
		floor time.Duration
		rnd   float64
		want  time.Duration
	}{
		{"low end of full jitter", 1, 0, 0, 0},
		{"middle", 2, 0, 0.5, 100 * ms},
		{"high end reaches the cap", 3, 0, 0.9999999999, 400 * ms},
		{"floor raises a short delay", 1, 250 * ms, 0.1, 250 * ms},
		{"floor below the delay changes nothing", 4, 10 * ms, 0.5, 400 * ms},
		{"out of range rnd counts as 0", 2, 0, 1.5, 0},
		{"huge floor is clamped", 1, 1000 * time.Hour, 0, 24 * time.Hour},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := b.Delay(c.n, c.floor, c.rnd)
			if diff := got - c.want; diff < -time.Microsecond || diff > time.Microsecond {
				t.Fatalf("Delay(%d, %v, %v) = %v, want %v", c.n, c.floor, c.rnd, got, c.want)
			}
		})
	}
}

func TestBackoff_Delay_withinCap(t *testing.T) {
	t.Parallel()
	b := Backoff{Initial: 10 * time.Millisecond, Max: 300 * time.Millisecond}
	for n := 1; n < 10; n++ {
		for i := range 100 {
			rnd := float64(i) / 100
			if d := b.Delay(n, 0, rnd); d < 0 || d > b.Cap(n) {
				t.Fatalf("Delay(%d, 0, %v) = %v, outside [0, %v]", n, rnd, d, b.Cap(n))
			}
		}
	}
}
