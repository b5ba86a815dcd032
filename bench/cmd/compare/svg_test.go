package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// decodeSVG checks that s is well-formed XML with an <svg> root in the SVG
// namespace and returns how many times each element occurs and the text
// content.
func decodeSVG(t *testing.T, s string) (map[string]int, string) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	counts := make(map[string]int)
	var text strings.Builder
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if depth == 0 && (tok.Name.Local != "svg" || tok.Name.Space != "http://www.w3.org/2000/svg") {
				t.Fatalf("root element: got %v; want svg in the SVG namespace", tok.Name)
			}
			depth++
			counts[tok.Name.Local]++
		case xml.EndElement:
			depth--
		case xml.CharData:
			text.Write(tok)
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements: depth %d at EOF", depth)
	}
	return counts, text.String()
}

func TestChartSVG(t *testing.T) {
	scs := []scenarioReport{
		{name: "unthrottled-1g", size: gib, rows: testRows()},
		{name: "straggler", size: 256 * mib, rows: testRows()[:2], skipped: "no testserver"},
	}
	counts, text := decodeSVG(t, chartSVG(scs))
	// One background rect plus one bar per tool with a successful run in
	// a scenario that ran: rangedl and curl of unthrottled-1g.
	if got, want := counts["rect"], 1+2; got != want {
		t.Errorf("rect elements: got %v; want %v", got, want)
	}
	for _, want := range []string{"unthrottled-1g (1 GiB)", "3.00 s", "6.00 s (1/3 failed)", "FAIL", "absent", "not run"} {
		if !strings.Contains(text, want) {
			t.Errorf("chart text lacks %q: %q", want, text)
		}
	}
}

func TestChartSVGEscapes(t *testing.T) {
	scs := []scenarioReport{{name: `<a & "b">`, size: mib, rows: []row{
		{tool: "x<y", runs: []sample{{wall: 1e9}}},
	}}}
	_, text := decodeSVG(t, chartSVG(scs))
	if !strings.Contains(text, `<a & "b">`) || !strings.Contains(text, "x<y") {
		t.Errorf("names not round-tripped through XML escaping: %q", text)
	}
}

func TestChartSVGEmpty(t *testing.T) {
	decodeSVG(t, chartSVG(nil))
}
