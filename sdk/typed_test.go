//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"errors"
	"testing"
)

func TestOn_typed(t *testing.T) {
	t.Parallel()
	type order struct {
		SKU string `json:"sku"`
		Qty int    `json:"qty"`
	}
	ft := newFake()
	c := newClient("http://h/s", Options{}, ft)
	r := record(c)
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var orders []order
	var raws []string
	var nums []float64
	if _, err := On(c, "order", func(o order) { orders = append(orders, o) }); err != nil {
		t.Fatal(err)
	}
	if _, err := On(c, "order", func(s string) { raws = append(raws, s) }); err != nil {
		t.Fatal(err)
	}
	remove, err := On(c, "num", func(n float64) { nums = append(nums, n) })
	if err != nil {
		t.Fatal(err)
	}
	s := ft.last(t).s
	s.opened()
	s.event(Event{Type: "order", ID: "1", Data: `{"sku":"A1","qty":2}`})
	s.event(Event{Type: "order", ID: "2", Data: `{"sku":"B2","qty":"two"}`})
	s.event(Event{Type: "order", ID: "3", Data: `not json`})
	s.event(Event{Type: "num", ID: "4", Data: `4.5`})
	remove()
	s.event(Event{Type: "num", ID: "5", Data: `5`})

	if len(orders) != 1 || orders[0] != (order{"A1", 2}) {
		t.Errorf("orders %+v, want only the valid one", orders)
	}
	if len(raws) != 3 || raws[2] != "not json" {
		t.Errorf("string handler got %q, want every payload as is", raws)
	}
	if len(nums) != 1 || nums[0] != 4.5 {
		t.Errorf("nums %v, want [4.5] (the handler was removed before 5)", nums)
	}
	if len(r.errs) != 2 {
		t.Fatalf("errors %v, want the two decode failures", r.errs)
	}
	for i, id := range []string{"2", "3"} {
		var he *HandlerError
		var de *DecodeError
		if !errors.As(r.errs[i], &he) || !errors.As(r.errs[i], &de) || he.Event.ID != id || de.Type != "sdk.order" {
			t.Errorf("error %d: %v, want a HandlerError for event %s wrapping a DecodeError for sdk.order", i, r.errs[i], id)
		}
	}
}

func TestOn_typedClosed(t *testing.T) {
	t.Parallel()
	c := newClient("http://h/s", Options{}, newFake())
	if err := c.start(); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := On(c, "x", func(int) {}); !errors.Is(err, ErrClosed) {
		t.Fatalf("On on a closed client: %v, want ErrClosed", err)
	}
}
