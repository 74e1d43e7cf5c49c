package sdk

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// render serialises a sanitized tree for comparisons: text is escaped, so
// the string shows exactly which elements and attributes exist.
func render(nodes []*Node) string {
	var b strings.Builder
	var walk func([]*Node)
	walk = func(ns []*Node) {
		for _, n := range ns {
			if n.Tag == "" {
				b.WriteString(escapeText(n.Text))
				continue
			}
			b.WriteString("<" + n.Tag)
			for _, a := range n.Attrs {
				b.WriteString(" " + a.Name + `="` + escapeText(a.Value) + `"`)
			}
			b.WriteString(">")
			if n.Tag == "br" {
				continue
			}
			walk(n.Children)
			b.WriteString("</" + n.Tag + ">")
		}
	}
	walk(nodes)
	return b.String()
}

func escapeText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"plain text", "hello", "hello"},
		{"allowed inline", "<b>bold</b> <i>it</i> <em>e</em> <strong>s</strong> <code>c</code>", "<b>bold</b> <i>it</i> <em>e</em> <strong>s</strong> <code>c</code>"},
		{"allowed blocks", "<p>a</p><pre>b</pre><blockquote>q</blockquote>", "<p>a</p><pre>b</pre><blockquote>q</blockquote>"},
		{"lists", "<ul><li>1<li>2</ul><ol><li>x</li></ol>", "<ul><li>1</li><li>2</li></ul><ol><li>x</li></ol>"},
		{"br forms", "a<br>b<br/>c</br>d", "a<br>b<br>c<br>d"},
		{"upper-case tags", "<B>x</B><SPAN CLASS=k>y</SPAN>", `<b>x</b><span class="k">y</span>`},
		{"link kept", `<a href="https://example.com/a?b=1&amp;c=2" title="t">x</a>`, `<a href="https://example.com/a?b=1&amp;c=2" title="t">x</a>`},
		{"mailto kept", `<a href=mailto:a@b.c>m</a>`, `<a href="mailto:a@b.c">m</a>`},
		{"spaces trimmed from href", `<a href="  http://x/  ">x</a>`, `<a href="http://x/">x</a>`},
		{"relative href dropped", `<a href="/path">x</a>`, `<a>x</a>`},
		{"href only on a", `<span href="https://x/">x</span>`, `<span>x</span>`},
		{"class names filtered", `<span class='ok bad"x 9no fine-one_2 a<b'>x</span>`, `<span class="ok fine-one_2">x</span>`},
		{"empty class dropped", `<span class="$$">x</span>`, `<span>x</span>`},
		{"first duplicate wins", `<span title=a title=b>x</span>`, `<span title="a">x</span>`},
		{"disallowed tag keeps content", "<div><b>x</b></div><h1>t</h1>", "<b>x</b>t"},
		{"img dropped", `<img src=x onerror=alert(1)>after`, "after"},
		{"event handler dropped", `<b onclick="alert(1)" onmouseover=x>b</b>`, "<b>b</b>"},
		{"style attribute dropped", `<p style="background:url(javascript:alert(1))">s</p>`, "<p>s</p>"},
		{"script with content", "a<script>alert(1)</script>b", "ab"},
		{"script end tag case", "a<script>x</SCRIPT >b", "ab"},
		{"script fake end", "a<script>x</scripty>y</script>b", "ab"},
		{"unclosed script", "a<script>alert(1)", "a"},
		{"style content", "<style>*{x:y}</style>ok", "ok"},
		{"template content", "<template><b>x</b></template>ok", "ok"},
		{"nested svg", "<svg><svg><b>x</b></svg><b>y</b></svg>ok", "ok"},
		{"self-closing svg", "<svg/>ok", "ok"},
		{"math", "<math><mi>x</mi></math>ok", "ok"},
		{"unclosed template", "<template><b>x</b>", ""},
		{"iframe srcdoc", `<iframe srcdoc="<script>alert(1)</script>"></iframe>ok`, "ok"},
		{"textarea raw", "<textarea><b>x</b></textarea>ok", "ok"},
		{"noscript mxss", `<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, "&quot;&gt;"},
		{"comment", "a<!-- <b>x</b> -->b", "ab"},
		{"abrupt comments", "a<!-->b<!--->c", "abc"},
		{"comment bang end", "a<!-- x --!>b", "ab"},
		{"unclosed comment", "a<!-- b", "a"},
		{"cdata is a bogus comment", "<![CDATA[<img src=x onerror=alert(1)>]]>x", "]]&gt;x"},
		{"doctype", "<!DOCTYPE html>x", "x"},
		{"processing instruction", "<?xml version='1.0'?>x", "x"},
		{"literal lt", "1 < 2 and a<3 <", "1 &lt; 2 and a&lt;3 &lt;"},
		{"tag cut by end", `ok<a href="http://x`, "ok"},
		{"bogus end tag", "a</ 3>b</>c", "abc"},
		{"entities", "&lt;b&gt; &amp; &quot;&#39;&#x27;&copy &nbsp;&hellip;", "&lt;b&gt; &amp; &quot;''© \u00a0…"},
		{"unknown entity stays", "&bogus; &", "&amp;bogus; &amp;"},
		{"numeric edge cases", "&#0;&#x110000;&#xD800;&#128;&#x41", "\uFFFD\uFFFD\uFFFD€A"},
		{"nul removed", "a\x00b", "ab"},
		{"p closes p", "<p>a<p>b", "<p>a</p><p>b</p>"},
		{"a closes a", `<a href="http://1/">1<a href="http://2/">2`, `<a href="http://1/">1</a><a href="http://2/">2</a>`},
		{"stray end tags", "</b></p>x</li>", "x"},
		{"misnested", "<b><i>x</b>y</i>", "<b><i>x</i></b>y"},
		{"unquoted with entity", `<a href=http://x/?a=1&b=2>x</a>`, `<a href="http://x/?a=1&amp;b=2">x</a>`},
		{"legacy entity in attribute", `<a href="http://x/?a&copy=1">x</a>`, `<a href="http://x/?a&amp;copy=1">x</a>`},
		{"attribute without value", `<span title>x</span>`, `<span title="">x</span>`},
		{"equals starts a name", `<span =title=x>y</span>`, `<span>y</span>`},
		{"base", `<base href="javascript:alert(1)//">x`, "x"},
		{"meta refresh", `<meta http-equiv="refresh" content="0;url=javascript:alert(1)">x`, "x"},
		{"form", `<form action="javascript:alert(1)"><button formaction=x>go</button></form>`, "go"},
		{"object", `<object data="javascript:alert(1)">fallback</object>x`, "x"},
		{"plaintext", "a<plaintext><b>x</b>", "a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			if got := render(Sanitize(c.in)); got != c.want {
				t.Fatalf("Sanitize(%q)\n got %s\nwant %s", c.in, got, c.want)
			}
		})
	}
}

func TestSanitize_javascriptURLs(t *testing.T) {
	t.Parallel()
	cases := []string{
		`javascript:alert(1)`,
		`JaVaScRiPt:alert(1)`,
		` javascript:alert(1)`,
		`jav&#x09;ascript:alert(1)`,
		`jav&#9;ascript:alert(1)`,
		`jav&Tab;ascript:alert(1)`,
		"jav\tascript:alert(1)",
		"jav\nascript:alert(1)",
		"\x01javascript:alert(1)",
		`&#106;avascript:alert(1)`,
		`&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)`,
		`&#0000106&#0000097vascript:alert(1)`,
		`javascript&colon;alert(1)`,
		`javascript&#58;alert(1)`,
		`vbscript:msgbox(1)`,
		`data:text/html,<script>alert(1)</script>`,
		`DATA:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==`,
		`//evil.example/`,
		`\\evil.example`,
		`https&#0;://x`,
		"http\x00s://x",
		`ｊavascript:alert(1)`,
		`java script:alert(1)`,
	}
	for _, href := range cases {
		t.Run(href, func(t *testing.T) {
			t.Parallel()
			for _, q := range []string{`"`, `'`, ``} {
				got := render(Sanitize(`<a href=` + q + href + q + `>x</a>`))
				if !strings.HasPrefix(got, "<a>") || strings.Contains(got, "href") {
					t.Fatalf("href %s%s%s kept: %s", q, href, q, got)
				}
			}
		})
	}
}

func TestSafeURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"http://x/", "http://x/", true},
		{"HTTPS://X/", "HTTPS://X/", true},
		{"mailto:a@b", "mailto:a@b", true},
		{" https://x/ ", "https://x/", true},
		{"https://x/\u00e9", "https://x/\u00e9", true},
		{"ftp://x/", "", false},
		{"https://x/\t", "", false},
		{"https://x/\x7f", "", false},
		{"x:https://", "", false},
		{":https://x", "", false},
		{"1http://x", "", false},
		{"", "", false},
	}
	for _, c := range cases {
		t.Run(c.in, func(t *testing.T) {
			t.Parallel()
			got, ok := SafeURL(c.in)
			if got != c.want || ok != c.ok {
				t.Fatalf("SafeURL(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}

func TestSanitize_depthBounded(t *testing.T) {
	t.Parallel()
	in := strings.Repeat("<span>", 10*maxDepth) + "x"
	depth := 0
	for ns := Sanitize(in); len(ns) > 0; ns = ns[0].Children {
		depth++
	}
	if depth > maxDepth+1 {
		t.Fatalf("depth %d, want at most %d", depth, maxDepth+1)
	}
}

// checkTree fails when a sanitized tree holds anything the allow-list does
// not allow.
func checkTree(t *testing.T, in string, nodes []*Node) {
	t.Helper()
	var walk func([]*Node, int)
	walk = func(ns []*Node, depth int) {
		for _, n := range ns {
			if n.Tag == "" {
				if n.Attrs != nil || n.Children != nil {
					t.Fatalf("%q: text node with attributes or children", in)
				}
				if strings.ContainsRune(n.Text, 0) {
					t.Fatalf("%q: NUL in text", in)
				}
				continue
			}
			if !AllowedElements[n.Tag] {
				t.Fatalf("%q: element %q in output", in, n.Tag)
			}
			if n.Tag == "br" && len(n.Children) > 0 {
				t.Fatalf("%q: br with children", in)
			}
			for _, a := range n.Attrs {
				switch a.Name {
				case "title", "class":
				case "href":
					if n.Tag != "a" {
						t.Fatalf("%q: href on %s", in, n.Tag)
					}
					if v, ok := SafeURL(a.Value); !ok || v != a.Value {
						t.Fatalf("%q: unsafe href %q", in, a.Value)
					}
				default:
					t.Fatalf("%q: attribute %q in output", in, a.Name)
				}
			}
			if depth > maxDepth+1 {
				t.Fatalf("%q: depth %d", in, depth)
			}
			walk(n.Children, depth+1)
		}
	}
	walk(nodes, 1)
}

func FuzzSanitize(f *testing.F) {
	for _, s := range []string{
		"<b>x</b>", `<a href="https://x/" title=t class=c>l</a>`, "<script>alert(1)</script>",
		`<img src=x onerror=alert(1)>`, `<a href="jav&#x09;ascript:alert(1)">x</a>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`, "<svg><b>x</b></svg>",
		"<!-- c --><![CDATA[x]]><?pi?>", "<ul><li>a<li>b</ul>", "&#x6A;&amp;&lt;", "<p>a<p>b",
		`<span class="a b" title='q'>t</span>`, "<template><b>x</b>", "<a href=mailto:x@y>m",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Sanitize(in)
		checkTree(t, in, out)
		// Serialising the result and sanitizing it again changes nothing:
		// the output is a fixed point of the sanitizer.
		once := render(out)
		if twice := render(Sanitize(once)); twice != once && utf8.ValidString(in) {
			t.Fatalf("not stable for %q:\n once %s\ntwice %s", in, once, twice)
		}
	})
}
