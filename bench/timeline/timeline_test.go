package timeline

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

const trace = `{"t":0.001,"event":"open","conn":1}
{"t":0.002,"event":"request","conn":1,"range":[0,1048576]}
{"t":0.010,"event":"done","conn":1,"range":[0,1048576]}
{"t":0.010,"event":"request","conn":1,"range":[1048576,9437184]}
{"t":0.011,"event":"request","conn":2,"range":[9437184,17825792]}
{"t":1.250,"event":"evict","conn":2,"rate":163840,"median":8388608}
{"t":1.300,"event":"steal","conn":1,"from":3,"range":[20000000,21000000]}
{"t":1.300,"event":"request","conn":1,"range":[20000000,21000000]}
{"t":1.500,"event":"done","conn":1,"range":[20000000,21000000]}
{"t":1.510,"event":"request","conn":4,"range":[21000000,22000000]}
{"t":1.520,"event":"pipeline","conn":4,"range":[22000000,23000000]}
{"t":1.530,"event":"done","conn":4,"range":[21000000,22000000]}
{"t":1.540,"event":"pipeline","conn":4,"range":[23000000,24000000]}
{"t":1.550,"event":"retry","conn":4,"wait":0.25,"n":1,"reason":"connection lost"}
{"t":1.600,"event":"finish","n":24000000}
`

func TestSegments(t *testing.T) {
	evs, err := Read(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	segs := Segments(evs)
	want := []Segment{
		{Conn: 1, Start: 0.002, End: 0.010, Range: [2]int64{0, 1048576}, Kind: "piece", Ending: "done"},
		{Conn: 1, Start: 0.010, End: 1.300, Range: [2]int64{1048576, 9437184}, Kind: "piece", Ending: "done"},
		{Conn: 2, Start: 0.011, End: 1.250, Range: [2]int64{9437184, 17825792}, Kind: "piece", Ending: "evict"},
		{Conn: 1, Start: 1.300, End: 1.500, Range: [2]int64{20000000, 21000000}, Kind: "stolen", Ending: "done"},
		{Conn: 4, Start: 1.510, End: 1.530, Range: [2]int64{21000000, 22000000}, Kind: "piece", Ending: "done"},
		// pipelined: from the end of the piece before it; the second one never started
		{Conn: 4, Start: 1.530, End: 1.550, Range: [2]int64{22000000, 23000000}, Kind: "piece", Ending: "retry"},
	}
	if len(segs) != len(want) {
		t.Fatalf("got %d segments %+v; want %d", len(segs), segs, len(want))
	}
	for i := range want {
		if segs[i] != want[i] {
			t.Errorf("segment %d: got %+v; want %+v", i, segs[i], want[i])
		}
	}
}

func TestSVGWellFormed(t *testing.T) {
	evs, _ := Read(strings.NewReader(trace))
	var b strings.Builder
	if err := SVG(&b, "a <test> & more", evs); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(strings.NewReader(b.String()))
	rects := 0
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "rect" {
			rects++
		}
	}
	if rects < 4 {
		t.Errorf("%d rects; want one per segment at least (4)", rects)
	}
}

func TestBadTrace(t *testing.T) {
	if _, err := Read(strings.NewReader("{\"t\":1}\nnot json\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("err %v; want one naming line 2", err)
	}
}
