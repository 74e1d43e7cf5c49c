package wire

import (
	"encoding/json"
	"os"
	"reflect"
	"testing"
)

// wptVectors are byte streams transcribed from the web-platform-tests
// eventsource/ format tests, with the events a conforming parser dispatches.
type wptVectors struct {
	Cases []struct {
		Name   string   `json:"name"`
		Chunks [][]byte `json:"chunks_b64"` // encoding/json decodes base64
		// Events is absent for the cases that only check lastEventId.
		Events *[]struct {
			Type string `json:"type"`
			Data string `json:"data"`
		} `json:"events"`
		LastEventIDs []string `json:"last_event_ids"`
	} `json:"cases"`
}

func TestParser_wptVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("testdata/sse-wpt-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var vs wptVectors
	if err := json.Unmarshal(raw, &vs); err != nil {
		t.Fatal(err)
	}
	if len(vs.Cases) == 0 {
		t.Fatal("no cases in testdata/sse-wpt-vectors.json")
	}
	for _, c := range vs.Cases {
		if c.Events == nil && c.LastEventIDs == nil {
			t.Fatalf("%s: neither events nor last_event_ids", c.Name)
		}
		chunks := make([]string, len(c.Chunks))
		for i, ch := range c.Chunks {
			chunks[i] = string(ch)
		}
		for how, r := range readers(chunks) {
			t.Run(c.Name+"/"+how, func(t *testing.T) {
				t.Parallel()
				got, _, err := parseAll(r())
				if err != nil {
					t.Fatal(err)
				}
				if c.Events != nil {
					type typeData struct{ Type, Data string }
					var gotTD, wantTD []typeData
					for _, ev := range got {
						gotTD = append(gotTD, typeData{ev.Type, ev.Data})
					}
					for _, ev := range *c.Events {
						wantTD = append(wantTD, typeData{ev.Type, ev.Data})
					}
					if !reflect.DeepEqual(gotTD, wantTD) {
						t.Errorf("events:\n got %q\nwant %q", gotTD, wantTD)
					}
				}
				if c.LastEventIDs != nil {
					var ids []string
					for _, ev := range got {
						ids = append(ids, ev.ID)
					}
					if !reflect.DeepEqual(ids, c.LastEventIDs) {
						t.Errorf("last event ids: got %q, want %q", ids, c.LastEventIDs)
					}
				}
			})
		}
	}
}
