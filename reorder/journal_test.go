package reorder

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func openTestJournal(t *testing.T) (*os.File, string, *Journal) {
	t.Helper()
	dir := t.TempDir()
	data, err := os.Create(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	path := filepath.Join(dir, "f.rangedl")
	rec := sampleControl()
	rec.Durable = nil
	j, err := OpenJournal(data, path, rec)
	if err != nil {
		t.Fatal(err)
	}
	return data, path, j
}

func readBack(t *testing.T, path string) []Range {
	t.Helper()
	c, err := ReadControl(path)
	if err != nil {
		t.Fatal(err)
	}
	return c.Durable
}

func TestJournalRecords(t *testing.T) {
	_, path, j := openTestJournal(t)
	if got := readBack(t, path); len(got) != 0 {
		t.Fatalf("first record: got %v; want no ranges", got)
	}
	first := []Range{{0, 100}}
	if !j.Save(first) {
		t.Fatal("first Save was not started")
	}
	first[0].End = 5 // Save copied it
	if j.Save([]Range{{0, 200}}) {
		t.Error("a second Save started while the first was in flight")
	}
	j.wait()
	if got := readBack(t, path); !reflect.DeepEqual(got, []Range{{0, 100}}) {
		t.Fatalf("after the first Save: got %v; want [{0 100}], the ranges as they were when Save was called", got)
	}
	final := []Range{{0, 300}, {400, 500}}
	if err := j.Close(final); err != nil {
		t.Fatal(err)
	}
	if got := readBack(t, path); !reflect.DeepEqual(got, final) {
		t.Fatalf("after Close: got %v; want %v", got, final)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temporary file left behind: %v", err)
	}
}

// TestRecordOfNothing: a record that claims no bytes is written without a sync of the data
// first; one that claims some is not written unless that sync works. The data file is a pipe,
// which cannot be synced (EINVAL), so the sync shows as an error.
func TestRecordOfNothing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	path := filepath.Join(t.TempDir(), "f.rangedl")
	rec := sampleControl()
	rec.Durable = nil
	j, err := OpenJournal(w, path, rec)
	if err != nil {
		t.Fatalf("a record of nothing: %v", err)
	}
	j.Abandon()
	if got := readBack(t, path); len(got) != 0 {
		t.Fatalf("got %v; want no ranges", got)
	}
	rec.Durable = []Range{{0, 100}}
	if _, err := OpenJournal(w, path, rec); err == nil {
		t.Fatal("bytes 0-99 were recorded although they could not be synced")
	}
	if got := readBack(t, path); len(got) != 0 {
		t.Fatalf("after the failed sync the record says %v; want no ranges", got)
	}
}

func TestJournalSaveLands(t *testing.T) {
	_, path, j := openTestJournal(t)
	j.Save([]Range{{0, 100}})
	j.wait()
	if got := readBack(t, path); !reflect.DeepEqual(got, []Range{{0, 100}}) {
		t.Fatalf("got %v; want [{0 100}]", got)
	}
	if !j.Save([]Range{{0, 200}}) {
		t.Fatal("Save after a finished save was not started")
	}
	if err := j.Finish(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("control file after Finish: %v", err)
	}
}

// A failed sync is sticky: nothing is recorded after it, not even by Close.
func TestJournalFailureIsSticky(t *testing.T) {
	data, path, j := openTestJournal(t)
	j.Save([]Range{{0, 100}})
	j.wait()
	data.Close() // every later sync fails
	j.Save([]Range{{0, 200}})
	j.wait()
	if j.Poll() == nil {
		t.Fatal("Poll: got no error after a failed sync")
	}
	if j.Save([]Range{{0, 300}}) {
		t.Error("Save started after a failure")
	}
	if err := j.Close([]Range{{0, 400}}); err == nil {
		t.Error("Close: got no error")
	}
	if got := readBack(t, path); !reflect.DeepEqual(got, []Range{{0, 100}}) {
		t.Fatalf("got %v; want the last good record [{0 100}]", got)
	}
}

func TestJournalFinishAfterFailureKeepsControl(t *testing.T) {
	data, path, j := openTestJournal(t)
	data.Close()
	j.Save([]Range{{0, 100}})
	if err := j.Finish(); err == nil {
		t.Fatal("Finish: got no error after a failed sync")
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("control file removed after a failed sync: %v", err)
	}
}

func TestJournalRecorded(t *testing.T) {
	data, _, j := openTestJournal(t)
	j.Save([]Range{{0, 100}, {200, 250}})
	j.wait()
	if got := j.Recorded(); got != 150 {
		t.Fatalf("Recorded after a save: %d; want 150", got)
	}
	data.Close()
	if err := j.Close([]Range{{0, 1000}}); err == nil {
		t.Fatal("Close: got no error")
	}
	if got := j.Recorded(); got != 150 {
		t.Fatalf("Recorded after a failed Close: %d; want the 150 still on record", got)
	}
}

// A record that cannot be written (here: a directory in the way of the rename) costs only
// that save; the next one lands.
func TestJournalWriteFailureIsNotFinal(t *testing.T) {
	_, path, j := openTestJournal(t)
	os.Remove(path)
	if err := os.Mkdir(path, 0o777); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(path, "x"), nil, 0o666) // a non-empty directory: rename fails
	j.Save([]Range{{0, 100}})
	j.wait()
	if err := j.Poll(); err != nil {
		t.Fatalf("Poll after a failed write: %v; want nil (not final)", err)
	}
	if j.Recorded() != 0 {
		t.Fatalf("Recorded %d after a failed write; want 0", j.Recorded())
	}
	os.RemoveAll(path)
	if err := j.Close([]Range{{0, 200}}); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if got := readBack(t, path); !reflect.DeepEqual(got, []Range{{0, 200}}) {
		t.Fatalf("got %v; want [{0 200}]", got)
	}
}

// TestJournalFirstSave: the first save of a resumed download writes into the reserve the run
// before left (so it needs no new block on a full disk), and a first save that fails leaves
// no temporary file behind.
func TestJournalFirstSave(t *testing.T) {
	data, path, _ := openTestJournal(t) // and left open, as by a kill
	reserve, err := os.Stat(path + ReserveSuffix)
	if err != nil {
		t.Fatalf("no reserve after a save: %v", err)
	}
	rec := sampleControl()
	rec.Durable = nil
	if _, err = OpenJournal(data, path, rec); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || !os.SameFile(st, reserve) {
		t.Errorf("the first record of the resumed run is not the reserve's inode (%v)", err)
	}

	other := filepath.Join(t.TempDir(), "g.rangedl") // a reserve that is no file is not used
	os.Mkdir(other+ReserveSuffix, 0o777)
	if _, err := OpenJournal(data, other, rec); err != nil {
		t.Errorf("with a directory for a reserve: %v", err)
	}

	dir := filepath.Join(t.TempDir(), "f.rangedl") // a non-empty directory: the rename fails
	os.Mkdir(dir, 0o777)
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o666)
	if _, err := OpenJournal(data, dir, rec); err == nil {
		t.Fatal("OpenJournal over a directory succeeded")
	}
	if _, err := os.Lstat(dir + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the failed first save left %s.tmp (%v)", dir, err)
	}
}

// TestJournalFollowsNoLink: a link in place of the temporary or the reserve file is not
// written through. One in place of the temporary fails the save; one in place of the reserve
// only costs the reserve. The files the links point to keep their contents.
func TestJournalFollowsNoLink(t *testing.T) {
	for _, suffix := range []string{".tmp", ReserveSuffix} {
		t.Run(suffix, func(t *testing.T) {
			dir := t.TempDir()
			victim := filepath.Join(dir, "victim")
			if err := os.WriteFile(victim, []byte("keep me\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			data, err := os.Create(filepath.Join(dir, "f"))
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			path := filepath.Join(dir, "f.rangedl")
			if err := os.Symlink(victim, path+suffix); err != nil {
				t.Fatal(err)
			}
			rec := sampleControl()
			rec.Durable = nil
			j, err := OpenJournal(data, path, rec)
			switch {
			case suffix == ".tmp" && err == nil:
				t.Error("the first record was saved through a link")
			case suffix == ".tmp":
				if _, serr := os.Stat(path); !errors.Is(serr, os.ErrNotExist) {
					t.Errorf("control file after the failed save: %v", serr)
				}
			case err != nil:
				t.Fatalf("a link in place of the reserve failed the save: %v", err)
			default:
				j.Abandon()
				if got := readBack(t, path); len(got) != 0 {
					t.Errorf("record: got %v; want no ranges", got)
				}
			}
			if b, err := os.ReadFile(victim); err != nil || string(b) != "keep me\n" {
				t.Errorf("the file a link points to: got %d bytes, %.40q, %v; want \"keep me\\n\"", len(b), b, err)
			}
		})
	}
}
