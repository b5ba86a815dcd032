package server

import (
	"errors"
	"testing"
)

func TestParseFault(t *testing.T) {
	tests := []struct {
		in   string
		want Fault
		ok   bool
	}{
		{"reset", Fault{Kind: ResetAfter}, true},
		{"reset@3,bytes=1M", Fault{Kind: ResetAfter, Request: 3, Bytes: 1 << 20}, true},
		{"stall@1,bytes=-1", Fault{Kind: Stall, Request: 1, Bytes: -1}, true},
		{"short@0,bytes=100", Fault{Kind: ShortBody, Bytes: 100}, true},
		{"503@2,retry=7", Fault{Kind: Status503, Request: 2, RetryAfter: 7}, true},
		{"429,retry=-1", Fault{Kind: Status429, RetryAfter: -1}, true},
		{"redirect@1,target=/5.bin", Fault{Kind: Redirect, Request: 1, Target: "/5.bin"}, true},
		{"redirectloop", Fault{Kind: RedirectLoop}, true},
		{"404@9", Fault{Kind: NotFound, Request: 9}, true},
		{"change@4", Fault{Kind: ChangeContent, Request: 4}, true},
		{"hugeheaders", Fault{Kind: HugeHeaders}, true},
		{"wrongrange", Fault{Kind: WrongContentRange}, true},
		{"ignorerange", Fault{Kind: IgnoreRange}, true},
		{"", Fault{}, false},
		{"explode", Fault{}, false},
		{"reset@", Fault{}, false},
		{"reset@-1", Fault{}, false},
		{"reset@x", Fault{}, false},
		{"reset,bytes=", Fault{}, false},
		{"reset,bytes=1.5", Fault{}, false},
		{"503,retry=soon", Fault{}, false},
		{"503,color=red", Fault{}, false},
	}
	for _, tt := range tests {
		got, err := ParseFault(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFault(%q): got %+v, %v; want %+v, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadFault) {
			t.Errorf("ParseFault(%q): got error %v; want one wrapping ErrBadFault", tt.in, err)
		}
	}
}

// TestFaultKindString checks that every kind has a distinct name that
// ParseFault maps back to the kind.
func TestFaultKindString(t *testing.T) {
	seen := map[string]FaultKind{}
	for k := ResetAfter; k < faultKindEnd; k++ {
		name := k.String()
		if prev, dup := seen[name]; dup {
			t.Errorf("kinds %d and %d: both named %q", prev, k, name)
		}
		seen[name] = k
		if f, err := ParseFault(name); err != nil || f.Kind != k {
			t.Errorf("ParseFault(%q): got %v, %v; want kind %d", name, f.Kind, err, k)
		}
	}
	if got, want := FaultKind(0).String(), "FaultKind(0)"; got != want {
		t.Errorf("FaultKind(0).String(): got %q; want %q", got, want)
	}
}

func FuzzParseFault(f *testing.F) {
	for _, s := range []string{"reset@3,bytes=1M", "stall,bytes=-1", "503,retry=1", "redirect,target=/x", "a@b,c=d,"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		flt, err := ParseFault(s)
		if err != nil {
			return
		}
		if !flt.Kind.valid() || flt.Request < 0 {
			t.Fatalf("ParseFault(%q): got %+v; want a valid kind and Request ≥ 0", s, flt)
		}
	})
}
