package sdk

import (
	"strconv"
	"testing"
)

func TestDedup_check(t *testing.T) {
	t.Parallel()
	d := newDedup(3)
	steps := []struct {
		id  string
		dup bool
	}{
		{"a", false}, {"a", true}, {"", false}, {"", false},
		{"b", false}, {"c", false}, {"b", true},
		{"d", false}, // evicts a
		{"a", false}, // forgotten, so new again; evicts b
		{"c", true}, {"b", false},
	}
	for i, s := range steps {
		if got := d.check(s.id); got != s.dup {
			t.Fatalf("step %d: check(%q) = %v, want %v", i, s.id, got, s.dup)
		}
	}
	if d.len() != 3 {
		t.Fatalf("len = %d, want the window of 3", d.len())
	}
}

func TestDedup_boundedAndClear(t *testing.T) {
	t.Parallel()
	d := newDedup(0) // default window
	for i := range 10 * DefaultDedupWindow {
		if d.check(strconv.Itoa(i)) {
			t.Fatalf("id %d reported as a duplicate", i)
		}
	}
	if d.len() != DefaultDedupWindow || len(d.ring) != DefaultDedupWindow {
		t.Fatalf("remembers %d ids in a ring of %d, want %d", d.len(), len(d.ring), DefaultDedupWindow)
	}
	last := strconv.Itoa(10*DefaultDedupWindow - 1)
	if !d.check(last) {
		t.Fatal("the newest id was forgotten")
	}
	d.clear()
	if d.len() != 0 || d.check(last) {
		t.Fatal("clear kept ids")
	}
}
