package sdk

import (
	"errors"
)

// The JS API hands its option objects to Go as JSON text (JSON.stringify),
// read here with the package's own scanner: one JS call instead of one per
// property, and plain Go that is tested natively.

// ErrBadOption is returned for an option the SDK cannot use.
var ErrBadOption = errors.New("ssekit/sdk: bad option")

func badOption(what string) error {
	return join(ErrBadOption, errors.New("ssekit/sdk: "+what))
}

// ParseOptionsJSON reads the options of SSEKit.connect:
//
//	{backoff: {initialMs, maxMs, factor, resetAfterMs}, maxRetries,
//	 withCredentials, persist, pauseWhenHidden, dedupWindow}
//
// Absent or null fields take their defaults. maxRetries is a whole number
// >= 0 (0: never reconnect) or null (JSON for Infinity): unlimited.
// Unknown fields are ignored, as JS options objects usually are.
func ParseOptionsJSON(s string) (Options, error) {
	var opts Options
	if s == "" || s == "null" {
		return opts, nil
	}
	f, kind, err := objectFields(s)
	if err != nil {
		return opts, badOption("options must be an object, got " + string(kind))
	}
	if raw, ok := present(f, "backoff"); ok {
		b, kind, err := objectFields(raw.raw)
		if err != nil {
			return opts, badOption("backoff must be an object, got " + string(kind))
		}
		if opts.Backoff.Initial, err = millisField(b, "backoff.initialMs", "initialMs"); err != nil {
			return opts, err
		}
		if opts.Backoff.Max, err = millisField(b, "backoff.maxMs", "maxMs"); err != nil {
			return opts, err
		}
		if opts.Backoff.ResetAfter, err = millisField(b, "backoff.resetAfterMs", "resetAfterMs"); err != nil {
			return opts, err
		}
		if v, ok := present(b, "factor"); ok {
			x, ok := decimal(v)
			if !ok || x < 1 || x > 100 {
				return opts, badOption("backoff.factor must be a number in [1, 100]")
			}
			opts.Backoff.Factor = x
		}
	}
	if v, ok := present(f, "maxRetries"); ok {
		n, ok := integral(v.raw)
		switch {
		case v.kind != KindNumber || !ok || n < 0:
			return opts, badOption("maxRetries must be a whole number >= 0 or Infinity")
		case n == 0:
			opts.MaxRetries = -1
		default:
			opts.MaxRetries = int(min(n, 1<<31-1))
		}
	}
	if opts.WithCredentials, err = boolField(f, "withCredentials"); err != nil {
		return opts, err
	}
	if opts.PauseWhenHidden, err = boolField(f, "pauseWhenHidden"); err != nil {
		return opts, err
	}
	if v, ok := present(f, "persist"); ok {
		p, ok := fieldString(f, "persist")
		if opts.Persist, ok = ParsePersist(p); !ok || v.kind != KindString {
			return opts, badOption("persist must be 'none' or 'session'")
		}
	}
	if v, ok := present(f, "dedupWindow"); ok {
		n, ok := integral(v.raw)
		if v.kind != KindNumber || !ok || n < 1 || n > 1<<20 {
			return opts, badOption("dedupWindow must be a whole number in [1, 1048576]")
		}
		opts.DedupWindow = int(n)
	}
	return opts, nil
}

// ParseSchemaJSON reads a schema option, {field: "type", ...} as JSON.
func ParseSchemaJSON(s string) (Schema, error) {
	f, kind, err := objectFields(s)
	if err != nil {
		return Schema{}, join(ErrBadSchema, errors.New("ssekit/sdk: schema must be an object of field name -> type, got "+string(kind)))
	}
	spec := make(map[string]string, len(f))
	for name := range f {
		t, ok := fieldString(f, name)
		if !ok {
			return Schema{}, join(ErrBadSchema, errors.New("ssekit/sdk: schema field "+quote(name)+" must be a type name"))
		}
		spec[name] = t
	}
	return ParseSchema(spec)
}

// present returns a member that is there and not null.
func present(f map[string]jsonField, name string) (jsonField, bool) {
	v, ok := f[name]
	return v, ok && v.kind != KindNull
}

func boolField(f map[string]jsonField, name string) (bool, error) {
	v, ok := present(f, name)
	if !ok {
		return false, nil
	}
	if v.kind != KindBoolean {
		return false, badOption(name + " must be true or false")
	}
	return v.raw == "true", nil
}

// millisField reads a positive duration in milliseconds (at most a day).
func millisField(f map[string]jsonField, label, name string) (Duration, error) {
	v, ok := present(f, name)
	if !ok {
		return 0, nil
	}
	x, ok := decimal(v)
	if !ok || x <= 0 || x > float64(maxDelay/millisecond) {
		return 0, badOption(label + " must be a positive number of milliseconds, at most a day")
	}
	return Duration(x * float64(millisecond)), nil
}

// decimal reads a JSON number without an exponent, like 2, 1.5 or -0.25
// (JSON.stringify writes every option-sized number that way). By hand:
// strconv.ParseFloat would add its tables to the wasm.
func decimal(v jsonField) (float64, bool) {
	s := v.raw
	if v.kind != KindNumber || len(s) > 20 {
		return 0, false
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var mant int64
	scale := 1.0
	seenDot := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '.' && !seenDot:
			seenDot = true
		case '0' <= c && c <= '9':
			mant = mant*10 + int64(c-'0')
			if seenDot {
				scale *= 10
			}
		default: // an exponent
			return 0, false
		}
	}
	x := float64(mant) / scale
	if neg {
		x = -x
	}
	return x, true
}
