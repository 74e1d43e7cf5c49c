package sdk

import "strings"

// Insert says where a bound element puts new content.
type Insert string

// Insert modes. InsertAppend is the default.
const (
	InsertAppend  Insert = "append"
	InsertPrepend Insert = "prepend"
	InsertReplace Insert = "replace"
)

// ParseInsert reads an insert option; "" means InsertAppend.
func ParseInsert(s string) (Insert, bool) {
	switch Insert(s) {
	case "", InsertAppend:
		return InsertAppend, true
	case InsertPrepend, InsertReplace:
		return Insert(s), true
	}
	return "", false
}

// BindOptions configure Bind.
type BindOptions struct {
	// Insert is where new content goes. Defaults to InsertAppend.
	Insert Insert
	// Max keeps only the newest Max children. 0 (default) keeps all.
	Max int
}

// wrapperTag picks the plain element that holds one event's text inside a
// container: li in lists, div elsewhere. Wrappers never carry attributes.
func wrapperTag(containerTag string) string {
	switch strings.ToLower(containerTag) {
	case "ul", "ol":
		return "li"
	case "tbody", "table", "select":
		return "" // no safe plain wrapper: insert a bare text node
	}
	return "div"
}
