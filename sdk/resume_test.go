package sdk

import "testing"

func TestWithLastEventID(t *testing.T) {
	t.Parallel()
	cases := []struct{ url, id, want string }{
		{"/api/sse/connect/a", "e-1", "/api/sse/connect/a?lastEventId=e-1"},
		{"http://h/s?topics=a,b", "e-2", "http://h/s?topics=a,b&lastEventId=e-2"},
		{"http://h/s?lastEventId=old&x=1", "new", "http://h/s?x=1&lastEventId=new"},
		{"http://h/s?lastEventId=a&lastEventId=b", "c", "http://h/s?lastEventId=c"},
		{"http://h/s?x=1#frag", "e", "http://h/s?x=1&lastEventId=e#frag"},
		{"http://h/s?", "e", "http://h/s?lastEventId=e"},
		{"http://h/s", "a b&c=d#é", "http://h/s?lastEventId=a%20b%26c%3Dd%23%C3%A9"},
		{"http://h/s?lastEventIdx=1", "e", "http://h/s?lastEventIdx=1&lastEventId=e"},
	}
	for _, c := range cases {
		t.Run(c.url, func(t *testing.T) {
			t.Parallel()
			if got := withLastEventID(c.url, c.id); got != c.want {
				t.Fatalf("withLastEventID(%q, %q) = %q, want %q", c.url, c.id, got, c.want)
			}
		})
	}
}
