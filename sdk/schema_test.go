package sdk

import (
	"errors"
	"testing"
)

func TestParseSchema_bad(t *testing.T) {
	t.Parallel()
	for _, spec := range []map[string]string{
		{"a": "str"},
		{"a": ""},
		{"a": "string|"},
		{"a": "?"},
		{"a": "number??"},
	} {
		if _, err := ParseSchema(spec); !errors.Is(err, ErrBadSchema) {
			t.Errorf("ParseSchema(%v) err = %v, want ErrBadSchema", spec, err)
		}
	}
}

func TestSchema_Check(t *testing.T) {
	t.Parallel()
	s, err := ParseSchema(map[string]string{
		"sku": "string", "qty": "integer", "price": "number", "note": "string?",
		"ref": "string|null", "tags": "array", "meta": "object?", "ok": "boolean", "x": "any",
	})
	if err != nil {
		t.Fatal(err)
	}
	good := `{"sku":"A1","qty":2,"price":9.5,"ref":null,"tags":[],"ok":true,"x":{}}`
	cases := []struct {
		name  string
		data  string
		field string // "" with got set: whole payload
		got   string
		json  bool // a syntax error
	}{
		{"valid", good, "", "", false},
		{"optional present and right", `{"sku":"A1","qty":2.0,"price":1,"note":"n","ref":"r","tags":[1],"meta":{},"ok":false,"x":1}`, "", "", false},
		{"missing required", `{"qty":2,"price":1,"ref":null,"tags":[],"ok":true,"x":1}`, "sku", "missing", false},
		{"wrong type", `{"sku":1,"qty":2,"price":1,"ref":null,"tags":[],"ok":true,"x":1}`, "sku", "number", false},
		{"integer with a fraction", `{"sku":"a","qty":2.5,"price":1,"ref":null,"tags":[],"ok":true,"x":1}`, "qty", "number", false},
		{"optional present and wrong", `{"sku":"a","qty":2,"price":1,"note":5,"ref":null,"tags":[],"ok":true,"x":1}`, "note", "number", false},
		{"union refuses others", `{"sku":"a","qty":2,"price":1,"ref":5,"tags":[],"ok":true,"x":1}`, "ref", "number", false},
		{"any needs presence", `{"sku":"a","qty":2,"price":1,"ref":null,"tags":[],"ok":true}`, "x", "missing", false},
		{"array payload", `[1]`, "", "array", false},
		{"string payload", `"hi"`, "", "string", false},
		{"not json", `{"sku":`, "", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			err := s.Check(c.data)
			var se *SchemaError
			switch {
			case c.json:
				if !errors.Is(err, ErrJSONSyntax) {
					t.Fatalf("err = %v, want ErrJSONSyntax", err)
				}
			case c.got == "":
				if err != nil {
					t.Fatalf("err = %v, want none", err)
				}
			case !errors.As(err, &se) || se.Field != c.field || se.Got != c.got:
				t.Fatalf("err = %#v, want field %q got %q", err, c.field, c.got)
			case se.Error() == "":
				t.Fatal("empty message")
			}
		})
	}
}
