package sdk

import "testing"

func fields(m map[string]string) Lookup {
	return func(name string) (string, bool) { v, ok := m[name]; return v, ok }
}

func TestTemplate_Render(t *testing.T) {
	t.Parallel()
	evil := map[string]string{
		"name":    `<img src=x onerror=alert(1)>`,
		"url":     `javascript:alert(1)`,
		"good":    `https://example.com/a b`,
		"q":       `a&b=c#d`,
		"cls":     `ok" onclick="x`,
		"nest":    `{{name}}`,
		"user.id": "42",
	}
	cases := []struct{ name, tmpl, want string }{
		{"text placeholder", `<li><b>{{name}}</b>: {{ user.id }}</li>`, `<li><b>&lt;img src=x onerror=alert(1)&gt;</b>: 42</li>`},
		{"missing field renders nothing", `<span>[{{nope}}]</span>`, `<span>[]</span>`},
		{"not expanded twice", `<span>{{nest}}</span>`, `<span>{{name}}</span>`},
		{"not a placeholder", `<span>{{ a b }} {{}}</span>`, `<span>{{ a b }} {{}}</span>`},
		{"unsafe href from a field dropped", `<a href="{{url}}">x</a>`, `<a>x</a>`},
		{"whole-href field kept as is", `<a href="{{good}}">x</a>`, `<a href="https://example.com/a b">x</a>`},
		{"field inside a URL is one component", `<a href="https://s.example/?q={{q}}">x</a>`, `<a href="https://s.example/?q=a%26b%3Dc%23d">x</a>`},
		{"field cannot make a scheme", `<a href="{{url}}{{q}}">x</a>`, `<a>x</a>`},
		{"class from a field filtered", `<span class="row {{cls}}">x</span>`, `<span class="row">x</span>`},
		{"title from a field is text", `<span title="{{name}}">x</span>`, `<span title="&lt;img src=x onerror=alert(1)&gt;">x</span>`},
		{"template markup sanitized", `<div onclick="x()"><script>{{name}}</script><b style=x>{{q}}</b></div>`, `<b>a&amp;b=c#d</b>`},
		{"static unsafe href dropped", `<a href="javascript:{{q}}">x</a>`, `<a>x</a>`},
		{"surrounding whitespace trimmed", "\n  <li>{{q}}</li>\n", `<li>a&amp;b=c#d</li>`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			got := render(ParseTemplate(c.tmpl).Render(fields(evil)))
			if got != c.want {
				t.Fatalf("template %q\n got %s\nwant %s", c.tmpl, got, c.want)
			}
		})
	}
}

func TestTemplate_Render_freshTree(t *testing.T) {
	t.Parallel()
	tmpl := ParseTemplate(`<li class="{{c}}">{{v}}</li>`)
	a := tmpl.Render(fields(map[string]string{"v": "1", "c": "one"}))
	b := tmpl.Render(fields(map[string]string{"v": "2", "c": "two"}))
	if render(a) != `<li class="one">1</li>` || render(b) != `<li class="two">2</li>` {
		t.Fatalf("renders share state: %s %s", render(a), render(b))
	}
}

func TestEscapeURLComponent(t *testing.T) {
	t.Parallel()
	in := "a b/é?&=#-_.!~*'()"
	want := "a%20b%2F%C3%A9%3F%26%3D%23-_.!~*'()"
	if got := escapeURLComponent(in); got != want {
		t.Fatalf("got %s, want %s", got, want)
	}
}

func countElements(ns []*Node) int {
	n := 0
	for _, x := range ns {
		if x.Tag != "" {
			n += 1 + countElements(x.Children)
		}
	}
	return n
}

func FuzzTemplate(f *testing.F) {
	f.Add(`<a href="{{u}}" class="{{c}}" title="{{t}}">{{t}}</a>`, "javascript:alert(1)", "x y", "<b>")
	f.Add(`<li>{{t}}</li>`, "https://x/", "a", "&lt;")
	f.Fuzz(func(t *testing.T, tmpl, u, c, title string) {
		parsed := ParseTemplate(tmpl)
		out := parsed.Render(fields(map[string]string{"u": u, "c": c, "t": title}))
		checkTree(t, tmpl, out)
		// Field values never create elements: the tree has the template's
		// elements whatever the fields hold.
		if got, want := countElements(out), countElements(parsed.Render(fields(nil))); got != want {
			t.Fatalf("%d elements with fields, %d without: %s", got, want, render(out))
		}
	})
}
