//go:build !(js && wasm && ssekit_jsapi)

package sdk

import (
	"errors"
	"testing"
	"time"
)

func TestParseOptionsJSON(t *testing.T) {
	t.Parallel()
	ms := time.Millisecond
	cases := []struct {
		in   string
		want Options
	}{
		{``, Options{}},
		{`{}`, Options{}},
		{`null`, Options{}},
		{`{"backoff":{"initialMs":50,"maxMs":1600,"factor":1.5,"resetAfterMs":2000.5}}`,
			Options{Backoff: Backoff{Initial: 50 * ms, Max: 1600 * ms, Factor: 1.5, ResetAfter: 2000*ms + 500*time.Microsecond}}},
		{`{"backoff":{"initialMs":null},"maxRetries":null}`, Options{}}, // null: Infinity or absent
		{`{"maxRetries":0}`, Options{MaxRetries: -1}},
		{`{"maxRetries":5}`, Options{MaxRetries: 5}},
		{`{"maxRetries":5.0}`, Options{MaxRetries: 5}},
		{`{"maxRetries":99999999999}`, Options{MaxRetries: 1<<31 - 1}},
		{`{"withCredentials":true,"pauseWhenHidden":true}`, Options{WithCredentials: true, PauseWhenHidden: true}},
		{`{"persist":"session"}`, Options{Persist: PersistSession}},
		{`{"persist":"none"}`, Options{Persist: PersistNone}},
		{`{"dedupWindow":64}`, Options{DedupWindow: 64}},
		{`{"somethingElse":[1,2]}`, Options{}},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, err := ParseOptionsJSON(c.in)
			if err != nil || got != c.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, c.want)
			}
		})
	}
}

func TestParseOptionsJSON_bad(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		`[]`, `"x"`, `{`,
		`{"backoff":5}`,
		`{"backoff":{"initialMs":-1}}`,
		`{"backoff":{"initialMs":0}}`,
		`{"backoff":{"initialMs":"10"}}`,
		`{"backoff":{"maxMs":1e21}}`,
		`{"backoff":{"maxMs":86400001}}`,
		`{"backoff":{"factor":0.5}}`,
		`{"backoff":{"factor":101}}`,
		`{"maxRetries":-1}`,
		`{"maxRetries":1.5}`,
		`{"maxRetries":"3"}`,
		`{"withCredentials":"yes"}`,
		`{"persist":"local"}`,
		`{"persist":1}`,
		`{"dedupWindow":0}`,
		`{"dedupWindow":2000000}`,
	} {
		if _, err := ParseOptionsJSON(in); !errors.Is(err, ErrBadOption) {
			t.Errorf("ParseOptionsJSON(%s) err = %v, want ErrBadOption", in, err)
		}
	}
}

func TestParseSchemaJSON(t *testing.T) {
	t.Parallel()
	s, err := ParseSchemaJSON(`{"sku":"string","qty":"integer?"}`)
	if err != nil || s.Check(`{"sku":"a"}`) != nil || s.Check(`{"qty":1}`) == nil {
		t.Fatalf("schema %+v, %v", s, err)
	}
	for _, in := range []string{`[]`, `{"a":1}`, `{"a":"float"}`, `{`} {
		if _, err := ParseSchemaJSON(in); !errors.Is(err, ErrBadSchema) {
			t.Errorf("ParseSchemaJSON(%s) err = %v, want ErrBadSchema", in, err)
		}
	}
}
