package sdk_test

import (
	"fmt"

	"github.com/ssekit/ssekit/sdk"
)

// show prints a sanitized tree, one node per line, indented by depth.
func show(nodes []*sdk.Node, depth int) {
	for _, n := range nodes {
		pad := fmt.Sprintf("%*s", 2*depth, "")
		if n.Tag == "" {
			fmt.Printf("%stext %q\n", pad, n.Text)
			continue
		}
		fmt.Printf("%s<%s> %v\n", pad, n.Tag, n.Attrs)
		show(n.Children, depth+1)
	}
}

func ExampleSanitize() {
	show(sdk.Sanitize(`<p onclick="steal()">Hi <b>there</b><script>steal()</script>
<a href="jav&#x09;ascript:steal()">x</a> <a href="https://example.com/" title=docs>docs</a></p>`), 0)
	// Output:
	// <p> []
	//   text "Hi "
	//   <b> []
	//     text "there"
	//   text "\n"
	//   <a> []
	//     text "x"
	//   text " "
	//   <a> [{href https://example.com/} {title docs}]
	//     text "docs"
}

func ExampleParseTemplate() {
	tmpl := sdk.ParseTemplate(`<li class="order"><b>{{sku}}</b> × {{qty}} <a href="{{url}}">details</a></li>`)
	fields := map[string]string{"sku": "<img src=x onerror=steal()>", "qty": "2", "url": "javascript:steal()"}
	show(tmpl.Render(func(name string) (string, bool) { v, ok := fields[name]; return v, ok }), 0)
	// Output:
	// <li> [{class order}]
	//   <b> []
	//     text "<img src=x onerror=steal()>"
	//   text " × 2 "
	//   <a> []
	//     text "details"
}
