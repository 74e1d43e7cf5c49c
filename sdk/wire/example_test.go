package wire_test

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ssekit/ssekit/sdk/wire"
)

func ExampleAppendEvent() {
	frame, err := wire.AppendEvent(nil, wire.Event{
		ID:    "42",
		Type:  "payment",
		Data:  "用户支付成功\nthank you",
		Retry: 3 * time.Second,
	})
	if err != nil {
		panic(err)
	}
	os.Stdout.Write(frame)

	_, err = wire.AppendEvent(nil, wire.Event{ID: "42\ndata: forged"})
	fmt.Println(errors.Is(err, wire.ErrInvalidID))
	// Output:
	// id: 42
	// event: payment
	// retry: 3000
	// data: 用户支付成功
	// data: thank you
	//
	// true
}

func ExampleAppendComment() {
	os.Stdout.Write(wire.AppendComment(nil, "ping"))
	// Output:
	// : ping
}

func ExampleParser() {
	stream := ": welcome\r\n" +
		"retry: 1000\n" +
		"id: 1\nevent: order\ndata: {\"id\":1,\ndata: \"status\":\"paid\"}\n\n" +
		"data: no id field: the last event ID persists\n\n" +
		"data: unfinished events are discarded at EOF\n"
	p := wire.NewParser(strings.NewReader(stream))
	for {
		ev, err := p.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("type=%s id=%s retry=%v comment=%q data=%q\n", ev.Type, ev.ID, ev.Retry, ev.Comment, ev.Data)
	}
	retry, _ := p.Retry()
	fmt.Println("last event ID:", p.LastEventID(), "retry:", retry)
	// Output:
	// type=order id=1 retry=1s comment="welcome" data="{\"id\":1,\n\"status\":\"paid\"}"
	// type=message id=1 retry=0s comment="" data="no id field: the last event ID persists"
	// last event ID: 1 retry: 1s
}

func ExampleEncoder() {
	enc := wire.NewEncoder(os.Stdout)
	if err := enc.Encode(wire.Event{Type: "word", Data: "hello"}); err != nil {
		panic(err)
	}
	if err := enc.Encode(wire.Event{Type: "end", Data: `{"reason":"done"}`}); err != nil {
		panic(err)
	}
	// Output:
	// event: word
	// data: hello
	//
	// event: end
	// data: {"reason":"done"}
}
