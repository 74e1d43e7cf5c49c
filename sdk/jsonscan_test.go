package sdk

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestObjectFields(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		in    string
		kinds map[string]Kind
		kind  Kind // for a valid non-object
		bad   bool
	}{
		{"empty object", `{}`, map[string]Kind{}, "", false},
		{"every kind", ` {"s":"x","n":-1.5e3,"t":true,"f":false,"z":null,"o":{"a":[1]},"a":[{},[]]} `,
			map[string]Kind{"s": KindString, "n": KindNumber, "t": KindBoolean, "f": KindBoolean, "z": KindNull, "o": KindObject, "a": KindArray}, "", false},
		{"escaped name", `{"a\"b\u0041":1}`, map[string]Kind{`a"bA`: KindNumber}, "", false},
		{"last duplicate wins", `{"a":1,"a":"x"}`, map[string]Kind{"a": KindString}, "", false},
		{"array", `[1,2]`, nil, KindArray, false},
		{"string", `"x"`, nil, KindString, false},
		{"number", `0`, nil, KindNumber, false},
		{"empty", ``, nil, "", true},
		{"trailing comma", `{"a":1,}`, nil, "", true},
		{"single quotes", `{'a':1}`, nil, "", true},
		{"bare word", `{"a":nope}`, nil, "", true},
		{"text after", `{} x`, nil, "", true},
		{"leading zero", `{"a":01}`, nil, "", true},
		{"bad escape", `{"a":"\x"}`, nil, "", true},
		{"short unicode escape", `{"a":"\u12"}`, nil, "", true},
		{"raw newline in string", "{\"a\":\"x\ny\"}", nil, "", true},
		{"unterminated", `{"a":"x`, nil, "", true},
		{"missing colon", `{"a" 1}`, nil, "", true},
		{"dot without digits", `{"a":1.}`, nil, "", true},
		{"too deep", strings.Repeat("[", 600) + strings.Repeat("]", 600), nil, "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			fields, kind, err := objectFields(c.in)
			switch {
			case c.bad:
				if !errors.Is(err, ErrJSONSyntax) {
					t.Fatalf("err = %v, want ErrJSONSyntax", err)
				}
			case c.kinds == nil:
				if !errors.Is(err, errNotObject) || kind != c.kind {
					t.Fatalf("got %v, %v; want errNotObject, %v", kind, err, c.kind)
				}
			default:
				if err != nil || len(fields) != len(c.kinds) {
					t.Fatalf("fields %v, err %v; want %v", fields, err, c.kinds)
				}
				for name, k := range c.kinds {
					if fields[name].kind != k {
						t.Errorf("field %q: kind %v, want %v", name, fields[name].kind, k)
					}
				}
			}
		})
	}
}

func TestFieldStringAndInt(t *testing.T) {
	t.Parallel()
	fields, _, err := objectFields(`{"id":"caf\u00e9 \ud83d\ude00 \n\t\\\/","lone":"\ud800x","retry":3000,"neg":-12,"whole":5.00,"frac":2.5,"exp":1e3,"big":12345678901234567890,"str":"7"}`)
	if err != nil {
		t.Fatal(err)
	}
	if s, ok := fieldString(fields, "id"); !ok || s != "café 😀 \n\t\\/" {
		t.Errorf("id = %q, %v", s, ok)
	}
	if s, _ := fieldString(fields, "lone"); s != "\uFFFDx" {
		t.Errorf("lone surrogate = %q, want U+FFFD then x", s)
	}
	if _, ok := fieldString(fields, "retry"); ok {
		t.Error("a number read as a string")
	}
	ints := []struct {
		name string
		want int64
		ok   bool
	}{
		{"retry", 3000, true}, {"neg", -12, true}, {"whole", 5, true},
		{"frac", 0, false}, {"exp", 0, false}, {"big", 0, false}, {"str", 0, false}, {"missing", 0, false},
	}
	for _, c := range ints {
		if got, ok := fieldInt(fields, c.name); got != c.want || ok != c.ok {
			t.Errorf("fieldInt(%q) = %d, %v; want %d, %v", c.name, got, ok, c.want, c.ok)
		}
	}
}

// FuzzObjectFields holds the scanner to encoding/json: it accepts exactly
// the valid JSON texts, and the members it reads from an object are the
// ones encoding/json decodes, with the same string values.
func FuzzObjectFields(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1}`, `{"a":"\u00e9\n","b":[1,{"c":null}],"a":true}`, `[1]`, `"x"`, `{"a":1,}`, `{"a":"\ud800"}`, ` {"a" : -0.5E+2 } `, `{"\u0000":"x"}`, `{"" :1000E700}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fields, _, err := objectFields(s)
		valid := json.Valid([]byte(s))
		if valid != (err == nil || errors.Is(err, errNotObject)) {
			if !(strings.Count(s, "[")+strings.Count(s, "{") > maxJSONDepth) {
				t.Fatalf("json.Valid = %v but scanner err = %v for %q", valid, err, s)
			}
		}
		if err != nil {
			return
		}
		// UseNumber: a number beyond float64 (1e700) is valid JSON, and
		// JSON.parse reads it (as Infinity); only decoding it into a
		// float64 fails.
		var ref map[string]any
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber()
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("scanner read an object encoding/json rejects: %q: %v", s, err)
		}
		if len(ref) != len(fields) {
			t.Fatalf("%d members, encoding/json has %d, in %q", len(fields), len(ref), s)
		}
		for name, v := range ref {
			f, ok := fields[name]
			if !ok {
				t.Fatalf("member %q missing in %q", name, s)
			}
			if str, isStr := v.(string); isStr {
				if got, _ := fieldString(fields, name); got != str {
					t.Fatalf("member %q = %q, encoding/json says %q", name, got, str)
				}
			} else if f.kind == KindString {
				t.Fatalf("member %q is a string to the scanner only", name)
			}
		}
	})
}
