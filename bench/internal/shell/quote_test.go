package shell

import "testing"

func TestQuote(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "''"},
		{"-j", "-j"},
		{"-x16", "-x16"},
		{"--max-threads=16", "--max-threads=16"},
		{"http://127.0.0.1:80/1G.bin", "http://127.0.0.1:80/1G.bin"},
		{"http://h/x?rate=10M&latency=50ms", "'http://h/x?rate=10M&latency=50ms'"},
		{"http://h/x?a=1&b=2", "'http://h/x?a=1&b=2'"},
		{"a b", "'a b'"},
		{"/tmp/a b", "'/tmp/a b'"},
		{"it's", `'it'\''s'`},
	}
	for _, tt := range tests {
		if got := Quote(tt.in); got != tt.want {
			t.Errorf("Quote(%q): got %s; want %s", tt.in, got, tt.want)
		}
	}
}

func TestJoin(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"curl"}, "curl"},
		{[]string{"curl", "-o", "a b", "http://h/x?a=1&b=2"}, "curl -o 'a b' 'http://h/x?a=1&b=2'"},
		{[]string{"printf", ""}, "printf ''"},
	}
	for _, tt := range tests {
		if got := Join(tt.in); got != tt.want {
			t.Errorf("Join(%q): got %s; want %s", tt.in, got, tt.want)
		}
	}
}
