package sdk

import (
	"errors"
	"testing"
)

func TestParseBindOptions(t *testing.T) {
	t.Parallel()
	cases := []struct {
		mode, insert string
		max          float64
		want         BindOptions
		err          error
	}{
		{"", "", 0, BindOptions{Mode: ModeText, Insert: InsertAppend}, nil},
		{"text", "prepend", 5, BindOptions{Mode: ModeText, Insert: InsertPrepend, Max: 5}, nil},
		{"sanitized-html", "replace", 0, BindOptions{Mode: ModeSanitizedHTML, Insert: InsertReplace}, nil},
		{"html", "", 0, BindOptions{}, ErrBadMode},
		{"Sanitized-HTML", "", 0, BindOptions{}, ErrBadMode},
		{"", "before", 0, BindOptions{}, ErrBadInsert},
		{"", "", -1, BindOptions{}, ErrBadMax},
		{"", "", 1.5, BindOptions{}, ErrBadMax},
		{"", "", 1 << 40, BindOptions{}, ErrBadMax},
	}
	for _, c := range cases {
		t.Run(c.mode+"/"+c.insert, func(t *testing.T) {
			t.Parallel()
			got, err := ParseBindOptions(c.mode, c.insert, c.max)
			if !errors.Is(err, c.err) || got != c.want {
				t.Fatalf("ParseBindOptions(%q, %q, %v) = %+v, %v; want %+v, %v", c.mode, c.insert, c.max, got, err, c.want, c.err)
			}
		})
	}
}

func TestWrapperTag(t *testing.T) {
	t.Parallel()
	cases := map[string]string{"UL": "li", "ol": "li", "DIV": "div", "section": "div", "P": "span", "span": "span", "tbody": "", "TR": ""}
	for in, want := range cases {
		if got := wrapperTag(in); got != want {
			t.Errorf("wrapperTag(%q) = %q, want %q", in, got, want)
		}
	}
}
