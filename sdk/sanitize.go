package sdk

// Node is one node of a sanitized tree: an allow-listed element (Tag set)
// or a text node (Tag empty). The browser layer builds it with
// createElement, createTextNode and setAttribute, never by assigning markup,
// so nothing in it is parsed again.
type Node struct {
	Tag      string
	Attrs    []Attr
	Children []*Node
	Text     string
}

// Attr is one attribute of an element.
type Attr struct {
	Name, Value string
}

// AllowedElements are the only elements Sanitize keeps.
var AllowedElements = map[string]bool{
	"p": true, "br": true, "b": true, "i": true, "em": true, "strong": true, "code": true,
	"pre": true, "ul": true, "ol": true, "li": true, "span": true, "a": true, "blockquote": true,
}

// dropWithContent are elements removed together with everything inside
// them; other disallowed elements lose their tag and keep their content.
const dropWithContent = "script style template svg math iframe frame frameset object embed " +
	"applet noscript noembed noframes xmp textarea title select head plaintext"

// voidElements never have content or an end tag.
const voidElements = "area base br col embed hr img input keygen link meta param source track wbr image"

// isVoidElement reports whether the element name (lower case) is void.
func isVoidElement(name string) bool { return inWords(voidElements, name) }

// maxDepth bounds nesting; deeper tags are dropped and their content kept.
const maxDepth = 64

// Sanitize parses markup and returns the allow-listed tree: the elements
// p br b i em strong code pre ul ol li span a blockquote; the attributes
// title and class, and href on a with an absolute http, https or mailto URL.
// script, style, template, svg, math and similar elements are dropped with
// their content; other elements lose their tags and keep their content;
// comments, doctypes and CDATA sections are dropped; character references
// are decoded into text.
func Sanitize(markup string) []*Node {
	b := newTreeBuilder()
	z := newTokenizer(markup)
	for {
		tok, ok := z.next()
		if !ok {
			break
		}
		b.add(tok)
	}
	return b.root.Children
}

// treeBuilder turns tokens into an allow-listed tree.
type treeBuilder struct {
	root      *Node
	stack     []*Node // open elements; stack[0] is root
	skip      string  // a dropped element whose content is being skipped
	skipDepth int
	// keepPlaceholders defers checks of attribute values that hold {{...}}
	// placeholders to rendering time (templates).
	keepPlaceholders bool
}

func newTreeBuilder() *treeBuilder {
	root := &Node{}
	return &treeBuilder{root: root, stack: []*Node{root}}
}

func (b *treeBuilder) current() *Node { return b.stack[len(b.stack)-1] }

func (b *treeBuilder) add(tok token) {
	if b.skip != "" {
		b.skipping(tok)
		return
	}
	switch tok.kind {
	case tokText:
		b.text(tok.text)
	case tokStart:
		b.start(tok)
	case tokEnd:
		b.end(tok.name)
	}
}

// skipping counts nested start and end tags of the dropped element.
func (b *treeBuilder) skipping(tok token) {
	switch {
	case tok.kind == tokStart && tok.name == b.skip && !tok.selfClosing:
		b.skipDepth++
	case tok.kind == tokEnd && tok.name == b.skip:
		b.skipDepth--
		if b.skipDepth == 0 {
			b.skip = ""
		}
	}
}

func (b *treeBuilder) text(s string) {
	s = removeNUL(s)
	if s == "" {
		return
	}
	cur := b.current()
	if n := len(cur.Children); n > 0 && cur.Children[n-1].Tag == "" {
		cur.Children[n-1].Text += s
		return
	}
	cur.Children = append(cur.Children, &Node{Text: s})
}

func (b *treeBuilder) start(tok token) {
	name := tok.name
	switch {
	case inWords(dropWithContent, name):
		// Raw text elements' content never reaches here (the tokenizer
		// skips it); svg and math may close themselves.
		if inWords(rawTextElements, name) || isVoidElement(name) || (tok.selfClosing && (name == "svg" || name == "math")) {
			return
		}
		b.skip, b.skipDepth = name, 1
		return
	case !AllowedElements[name]:
		return // the tag goes, its content stays
	case len(b.stack) > maxDepth:
		return
	}
	switch name {
	case "p", "ul", "ol", "pre", "blockquote":
		b.closeP()
	case "li":
		b.closeListItem()
		b.closeP()
	case "a":
		b.closeTo("a", "")
	}
	el := &Node{Tag: name, Attrs: b.filterAttrs(name, tok.attrs)}
	cur := b.current()
	cur.Children = append(cur.Children, el)
	if !isVoidElement(name) {
		b.stack = append(b.stack, el)
	}
}

func (b *treeBuilder) end(name string) {
	if name == "br" { // "</br>" is a line break in browsers too
		b.start(token{kind: tokStart, name: "br"})
		return
	}
	if !AllowedElements[name] {
		return
	}
	b.closeTo(name, "")
}

// closeP closes an open p, as a block start tag does.
func (b *treeBuilder) closeP() { b.closeTo("p", listBoundaries) }

// closeListItem closes an open li of the same list, as a new li does.
func (b *treeBuilder) closeListItem() { b.closeTo("li", listBoundaries) }

const listBoundaries = "ul ol blockquote pre"

// closeTo pops open elements up to and including the nearest name, unless an
// element in stop (space-separated names) comes first (or there is none).
func (b *treeBuilder) closeTo(name, stop string) {
	for i := len(b.stack) - 1; i > 0; i-- {
		tag := b.stack[i].Tag
		if tag == name {
			b.stack = b.stack[:i]
			return
		}
		if inWords(stop, tag) {
			return
		}
	}
}

// filterAttrs keeps title and class on every allowed element and href on a,
// with values that pass the checks.
func (b *treeBuilder) filterAttrs(tag string, attrs []Attr) []Attr {
	var out []Attr
	for _, a := range attrs {
		if a.Name == "href" && tag != "a" {
			continue
		}
		if b.keepPlaceholders && hasPlaceholder(a.Value) && allowedAttrName(a.Name) {
			out = append(out, a) // checked once filled in
			continue
		}
		if v, ok := CleanAttr(a.Name, a.Value); ok {
			out = append(out, Attr{Name: a.Name, Value: v})
		}
	}
	return out
}

func allowedAttrName(name string) bool {
	return name == "href" || name == "title" || name == "class"
}

// CleanAttr checks one attribute of an allowed element and returns the value
// to set: href must be an absolute http, https or mailto URL without control
// characters; class keeps only plain class names; title loses NULs. Any
// other attribute is refused.
func CleanAttr(name, value string) (string, bool) {
	switch name {
	case "href":
		return SafeURL(value)
	case "class":
		v := cleanClass(value)
		return v, v != ""
	case "title":
		return removeNUL(value), true
	}
	return "", false
}

// SafeURL accepts an absolute URL whose scheme is http, https or mailto and
// returns it without surrounding spaces. Control characters anywhere (the
// URL parser would silently drop tabs and newlines: "jav\tascript:") and
// scheme-less (relative) references are refused.
func SafeURL(raw string) (string, bool) {
	u := trimBytes(raw, " ")
	for i := 0; i < len(u); i++ {
		if u[i] < 0x20 || u[i] == 0x7f {
			return "", false
		}
	}
	colon := indexByte(u, ':')
	if colon <= 0 || !isASCIIAlpha(u[0]) {
		return "", false
	}
	for i := 1; i < colon; i++ {
		c := u[i]
		if !isASCIIAlnum(c) && c != '+' && c != '-' && c != '.' {
			return "", false
		}
	}
	switch lowerASCII(u[:colon]) {
	case "http", "https", "mailto":
		return u, true
	}
	return "", false
}

// cleanClass keeps the class names made of ASCII letters, digits, '-' and
// '_' (not starting with a digit), space-separated.
func cleanClass(v string) string {
	out := ""
	for c, rest := nextField(v); c != ""; c, rest = nextField(rest) {
		if validClassName(c) {
			if out != "" {
				out += " "
			}
			out += c
		}
	}
	return out
}

func validClassName(c string) bool {
	if c == "" || isASCIIDigit(c[0]) {
		return false
	}
	for i := 0; i < len(c); i++ {
		if !isASCIIAlnum(c[i]) && c[i] != '-' && c[i] != '_' {
			return false
		}
	}
	return true
}
