package reorder

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// crashStates runs do and returns every set of names dir may hold after a power cut during it:
// the names at its start and at each sync of dir, each less any subset of the removals made
// since (made, but not yet durable).
func crashStates(t *testing.T, dir string, do func()) [][]string {
	t.Helper()
	names := func() []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		var n []string
		for _, e := range entries {
			n = append(n, e.Name())
		}
		return n
	}
	barriers := [][]string{names()}
	sync := syncDir
	syncDir = func(d string) error {
		if d == dir {
			barriers = append(barriers, names())
		}
		return sync(d)
	}
	defer func() { syncDir = sync }()
	do()
	barriers = append(barriers, names())
	var states [][]string
	for i := 1; i < len(barriers); i++ {
		before, after := barriers[i-1], barriers[i]
		var removed []string
		for _, n := range before {
			if !slices.Contains(after, n) {
				removed = append(removed, n)
			}
		}
		for subset := range 1 << len(removed) {
			state := slices.Clone(before)
			for k, n := range removed {
				if subset&(1<<k) != 0 {
					state = slices.DeleteFunc(state, func(s string) bool { return s == n })
				}
			}
			states = append(states, state)
		}
	}
	return states
}

// makeFiles creates empty files of the given names in dir.
func makeFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	for _, n := range names {
		if err := os.WriteFile(filepath.Join(dir, n), nil, 0o666); err != nil {
			t.Fatal(err)
		}
	}
}

// TestRemoveFileOrder: no power cut while a partial file and its record are removed leaves the
// file without its record (which -c takes by its length, the wget -c rule), or the record's
// reserve without the record. Before, one directory sync after all three removals let both
// happen.
func TestRemoveFileOrder(t *testing.T) {
	dir := t.TempDir()
	makeFiles(t, dir, "f", "f.rangedl", "f.rangedl.reserve", "f.rangedl.tmp", "g")
	f := filepath.Join(dir, "f")
	for _, s := range crashStates(t, dir, func() {
		if err := RemoveFile(f, f+".rangedl"); err != nil {
			t.Fatal(err)
		}
	}) {
		has := func(n string) bool { return slices.Contains(s, n) }
		if has("f") && !has("f.rangedl") || has("f.rangedl.reserve") && !has("f.rangedl") || !has("g") {
			t.Errorf("a power cut can leave %s", strings.Join(s, " "))
		}
	}
	if n, _ := os.ReadDir(dir); len(n) != 1 {
		t.Errorf("left %d names; want only g", len(n))
	}
}

// TestFinishOrder: no power cut while a complete download's record is removed leaves the
// reserve without the record, which -c takes for a record lost and refuses the complete file.
func TestFinishOrder(t *testing.T) {
	_, path, j := openTestJournal(t)
	if _, err := os.Stat(path + ReserveSuffix); err != nil {
		t.Fatalf("no reserve after a save: %v", err)
	}
	for _, s := range crashStates(t, filepath.Dir(path), func() {
		if err := j.Finish(); err != nil {
			t.Fatal(err)
		}
	}) {
		if slices.Contains(s, "f.rangedl.reserve") && !slices.Contains(s, "f.rangedl") || !slices.Contains(s, "f") {
			t.Errorf("a power cut can leave %s", strings.Join(s, " "))
		}
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the record is left")
	}
}

// TestReserveLeft: a reserve that cannot be removed keeps its record, which must not go first.
// The record was removed all the same.
func TestReserveLeft(t *testing.T) {
	dir := t.TempDir()
	makeFiles(t, dir, "f", "f.rangedl")
	reserve := filepath.Join(dir, "f.rangedl"+ReserveSuffix)
	if err := os.MkdirAll(filepath.Join(reserve, "x"), 0o777); err != nil { // a directory with something in it
		t.Fatal(err)
	}
	if err := RemoveControl(filepath.Join(dir, "f.rangedl")); err == nil {
		t.Error("RemoveControl with the reserve left: no error")
	}
	if _, err := os.Stat(filepath.Join(dir, "f.rangedl")); err != nil {
		t.Errorf("the record went before its reserve: %v", err)
	}
}

// TestMakeDirs: each directory MakeDirs makes is synced in its parent, in order from the top,
// and one that exists costs nothing.
func TestMakeDirs(t *testing.T) {
	top := t.TempDir()
	var synced []string
	sync := syncDir
	syncDir = func(d string) error {
		synced = append(synced, strings.TrimPrefix(d, top))
		return sync(d)
	}
	defer func() { syncDir = sync }()
	if err := MakeDirs(filepath.Join(top, "a", "b", "c")); err != nil {
		t.Fatal(err)
	}
	if want := []string{"", "/a", "/a/b"}; !slices.Equal(synced, want) {
		t.Errorf("synced %q; want %q", synced, want)
	}
	if st, err := os.Stat(filepath.Join(top, "a", "b", "c")); err != nil || !st.IsDir() {
		t.Fatalf("a/b/c not made: %v", err)
	}
	synced = nil
	if err := MakeDirs(filepath.Join(top, "a", "b")); err != nil || synced != nil {
		t.Errorf("an existing directory: err %v, synced %q; want nil, none", err, synced)
	}
	makeFiles(t, top, "file")
	err := MakeDirs(filepath.Join(top, "file", "d"))
	if want := "mkdir " + filepath.Join(top, "file") + ": not a directory"; err == nil || err.Error() != want {
		t.Errorf("a file in the way: %v; want %s", err, want)
	}
}
