package main

import (
	"io"
	"testing"
)

func TestParseFlags(t *testing.T) {
	tests := []struct {
		args    []string
		check   func(o options) bool
		wantErr bool
	}{
		{nil, func(o options) bool {
			return !o.million && o.files == 5000 && o.size == 16<<10 && o.jobs == 16 && o.rounds == 3 &&
				len(o.tools) == 4 && o.murls == 1_000_000 && o.msize == 1024
		}, false},
		{[]string{"-files", "20", "-size", "1M", "-j", "4", "-tools", "curl,rangedl"}, func(o options) bool {
			return o.files == 20 && o.size == 1<<20 && o.jobs == 4 && len(o.tools) == 2 && o.tools[0].name == "rangedl"
		}, false},
		// -million runs rangedl alone, whatever -tools says.
		{[]string{"-million", "-murls", "2000", "-msize", "2K", "-tools", "curl"}, func(o options) bool {
			return o.million && o.murls == 2000 && o.msize == 2048 && len(o.tools) == 1 && o.tools[0].name == "rangedl"
		}, false},
		{[]string{"-files", "0"}, nil, true},
		{[]string{"-size", "0"}, nil, true},
		{[]string{"-size", "16k"}, nil, true},
		{[]string{"-j", "0"}, nil, true},
		{[]string{"-j", "1025"}, nil, true},
		{[]string{"-rounds", "0"}, nil, true},
		{[]string{"-rounds", "101"}, nil, true},
		{[]string{"-murls", "0"}, nil, true},
		{[]string{"-msize", "-1"}, nil, true},
		{[]string{"-tools", "axel"}, nil, true},
		{[]string{"extra"}, nil, true},
	}
	for _, tt := range tests {
		o, err := parseFlags(tt.args, io.Discard)
		if tt.wantErr {
			if err == nil {
				t.Errorf("parseFlags(%q): got no error; want one", tt.args)
			}
			continue
		}
		if err != nil {
			t.Errorf("parseFlags(%q): %v", tt.args, err)
			continue
		}
		if !tt.check(o) {
			t.Errorf("parseFlags(%q): got %+v", tt.args, o)
		}
	}
}
