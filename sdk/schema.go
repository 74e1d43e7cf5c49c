package sdk

import (
	"errors"
)

// Schema is a per-type check of an event's JSON payload: which top-level
// fields an object must have and of which types. Events that fail it go to
// the error listeners instead of the handler.
type Schema struct {
	rules []fieldRule
}

type fieldRule struct {
	name     string
	kinds    []string // accepted type names, see ParseSchema
	optional bool
	spec     string
}

// schemaTypes are the type names a schema may use. "integer" is a number
// with no fractional part; "any" accepts every value.
const schemaTypes = "string number integer boolean object array null any"

// ErrBadSchema is returned by ParseSchema for a spec it cannot use.
var ErrBadSchema = errors.New("ssekit/sdk: bad schema")

// ParseSchema builds a Schema from field name -> type spec, e.g.
// {"sku": "string", "qty": "integer", "note": "string?", "ref": "string|null"}.
// A type is one of string, number, integer, boolean, object, array, null or
// any; "a|b" accepts either; a trailing "?" makes the field optional (when
// present it must still match).
func ParseSchema(spec map[string]string) (Schema, error) {
	names := make([]string, 0, len(spec))
	for name := range spec {
		names = append(names, name)
	}
	sortStrings(names)
	rules := make([]fieldRule, 0, len(names))
	for _, name := range names {
		s := trimSpace(spec[name])
		r := fieldRule{name: name, spec: s}
		if t, ok := cutSuffix(s, "?"); ok {
			r.optional, s = true, t
		}
		for _, k := range splitByte(s, '|') {
			k = trimSpace(k)
			if !inWords(schemaTypes, k) {
				return Schema{}, join(ErrBadSchema, errors.New("ssekit/sdk: field "+quote(name)+": unknown type "+quote(k)))
			}
			r.kinds = append(r.kinds, k)
		}
		rules = append(rules, r)
	}
	return Schema{rules: rules}, nil
}

// IsZero reports whether s checks nothing.
func (s Schema) IsZero() bool { return len(s.rules) == 0 }

// SchemaError says why a payload failed a schema.
type SchemaError struct {
	Field string // "" when the payload as a whole is wrong
	Want  string // the spec, e.g. "integer" or "object"
	Got   string // the kind found, or "missing"
}

func (e *SchemaError) Error() string {
	if e.Field == "" {
		return "ssekit/sdk: schema: payload is " + e.Got + ", want " + e.Want
	}
	if e.Got == "missing" {
		return "ssekit/sdk: schema: field " + quote(e.Field) + " is missing"
	}
	return "ssekit/sdk: schema: field " + quote(e.Field) + " is " + e.Got + ", want " + e.Want
}

// Check reports whether data, a JSON text, satisfies s: an object with
// every required field, each of an accepted type. The first failing field
// (in name order) is reported as a *SchemaError; invalid JSON as
// ErrJSONSyntax.
func (s Schema) Check(data string) error {
	fields, kind, err := objectFields(data)
	if err == errNotObject { // objectFields returns it as is
		return &SchemaError{Want: "object", Got: string(kind)}
	}
	if err != nil {
		return err
	}
	for _, r := range s.rules {
		f, ok := fields[r.name]
		if !ok {
			if r.optional {
				continue
			}
			return &SchemaError{Field: r.name, Want: r.spec, Got: "missing"}
		}
		if !r.accepts(f) {
			return &SchemaError{Field: r.name, Want: r.spec, Got: string(f.kind)}
		}
	}
	return nil
}

func (r fieldRule) accepts(f jsonField) bool {
	for _, k := range r.kinds {
		switch {
		case k == "any", k == string(f.kind):
			return true
		case k == "integer" && f.kind == KindNumber:
			if _, ok := integral(f.raw); ok {
				return true
			}
		}
	}
	return false
}
