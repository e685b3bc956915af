package audit

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/agentvault/agentvault/internal/store"
)

// flakyStore is a store whose PutAudit can be made to fail, like a full disk.
type flakyStore struct {
	*store.Store
	fail atomic.Bool
}

func (s *flakyStore) PutAudit(first uint64, values [][]byte) error {
	if s.fail.Load() {
		return errors.New("no space left on device")
	}
	return s.Store.PutAudit(first, values)
}

func openStore(t *testing.T, dir string) *flakyStore {
	t.Helper()
	st, err := store.Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return &flakyStore{Store: st}
}

// reopen opens the store and the journal in dir, for the first time or
// again as the next start after a crash does; both are closed with the test.
func reopen(t *testing.T, dir string, size int64) (*Journal, *flakyStore) {
	t.Helper()
	st := openStore(t, dir)
	t.Cleanup(func() { st.Close() })
	j, err := OpenJournal(filepath.Join(dir, JournalFile), st, size)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { j.Close() })
	return j, st
}

// crash stops a journal the way SIGKILL would: no checkpoint, no restart.
func crash(j *Journal) {
	j.mu.Lock()
	j.closed = true
	close(j.kick)
	j.mu.Unlock()
	<-j.done
	j.f.Close()
}

// appendN appends records from … from+n-1, every other one without
// durable: a crash of the process must keep both kinds.
func appendN(t *testing.T, j *Journal, from, n int) {
	t.Helper()
	for i := from; i < from+n; i++ {
		if _, err := j.AppendAudit([][]byte{fmt.Appendf(nil, "record %d", i)}, i%2 == 0); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
	}
}

func scanAll(t *testing.T, b interface {
	ScanAudit(bool, func(uint64, []byte) (bool, error)) error
}, newestFirst bool) ([]uint64, []string) {
	t.Helper()
	var seqs []uint64
	var values []string
	if err := b.ScanAudit(newestFirst, func(seq uint64, v []byte) (bool, error) {
		seqs, values = append(seqs, seq), append(values, string(v))
		return true, nil
	}); err != nil {
		t.Fatal(err)
	}
	return seqs, values
}

func wantRecords(t *testing.T, seqs []uint64, values []string, n int) {
	t.Helper()
	if len(seqs) != n {
		t.Fatalf("%d records, want %d: %v", len(seqs), n, values)
	}
	for i := range n {
		if seqs[i] != uint64(i+1) || values[i] != fmt.Sprintf("record %d", i) {
			t.Fatalf("record %d is %d %q", i, seqs[i], values[i])
		}
	}
}

func TestJournalReplaysWhatACrashLeftAndContinuesTheSequence(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	st := openStore(t, dir)
	j, err := OpenJournal(path, st, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 0, 5)
	st.fail.Store(true) // the next records reach only the journal
	appendN(t, j, 5, 10)
	if seqs, values := scanAll(t, j, false); len(seqs) != 15 {
		t.Fatalf("records only in the journal are not listed: %v", values)
	}
	crash(j)
	st.Close()
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("journal mode %v", fi.Mode())
	}

	j, st = reopen(t, dir, 64<<10)
	seqs, values := scanAll(t, st.Store, false) // in the store itself now
	wantRecords(t, seqs, values, 15)
	appendN(t, j, 15, 1)
	seqs, values = scanAll(t, j, false)
	wantRecords(t, seqs, values, 16)
}

func TestJournalIgnoresATornTail(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	st := openStore(t, dir)
	st.fail.Store(true)
	j, err := OpenJournal(path, st, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 0, 3)
	end := j.off
	crash(j)
	st.Close()
	// Half a frame, as if the machine stopped in the middle of a write.
	f, _ := os.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt([]byte{40, 0, 0, 0, 1, 2, 3, 4, 4, 0, 0, 0, 0, 0, 0, 0, 'x', 'y'}, end)
	f.Close()

	j, st = reopen(t, dir, 64<<10)
	seqs, values := scanAll(t, j, false)
	wantRecords(t, seqs, values, 3)
}

// A small journal starts over many times; every record lands once, in
// order, and nothing of an older generation comes back after a reopen.
func TestJournalStartsOverWhenFull(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	st := openStore(t, dir)
	j, err := OpenJournal(path, st, 1024)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 0, 300)
	if gen := j.gen; gen < 5 {
		t.Fatalf("generation %d: the journal did not start over", gen)
	}
	crash(j)
	st.Close()
	j, st = reopen(t, dir, 1024)
	seqs, values := scanAll(t, j, false)
	wantRecords(t, seqs, values, 300)
	back, _ := scanAll(t, j, true)
	slices.Reverse(back)
	if !slices.Equal(back, seqs) {
		t.Fatal("newest-first scan differs from the forward scan")
	}
}

func TestJournalFailsClosedWhenNothingCanTakeMore(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	defer st.Close()
	j, err := OpenJournal(filepath.Join(dir, JournalFile), st, 1024)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	st.fail.Store(true)
	var failed error
	for i := 0; i < 100 && failed == nil; i++ {
		_, failed = j.AppendAudit([][]byte{fmt.Appendf(nil, "record %d", i)}, true)
	}
	if failed == nil {
		t.Fatal("a full journal in front of a full store accepted records")
	}
	// Once the store has room again, the journal moves on by itself.
	st.fail.Store(false)
	if _, err := j.AppendAudit([][]byte{[]byte("after")}, true); err != nil {
		t.Fatalf("no recovery: %v", err)
	}
	if _, err := j.AppendAudit([][]byte{{}}, true); err == nil {
		t.Fatal("an empty record was accepted (its frame would read as the end of the journal)")
	}
	if _, err := j.AppendAudit([][]byte{make([]byte, 2048)}, true); !errors.Is(err, errJournalShort) {
		t.Fatalf("a record larger than the journal: %v", err)
	}
}

func TestJournalAfterAFailedWriteNeverReplaysUnacknowledgedFrames(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, JournalFile)
	st := openStore(t, dir)
	j, err := OpenJournal(path, st, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, j, 0, 3)
	// A two-record batch is written whole, but its sync "fails": the caller
	// hears of an error, so neither record may ever appear.
	good := j.f
	j.mu.Lock()
	off, gen, next := j.off, j.gen, j.next
	buf := appendFrame(appendFrame(nil, gen, next, []byte("phantom a")), gen, next+1, []byte("phantom b"))
	good.WriteAt(buf, off)
	j.dirty = true
	j.mu.Unlock()
	// The next append reuses the sequence number and is as long: without a
	// new generation, "phantom b" would follow it as a valid frame.
	if _, err := j.AppendAudit([][]byte{[]byte("real data")}, true); err != nil {
		t.Fatal(err)
	}
	crash(j)
	st.Close()
	j, st = reopen(t, dir, 64<<10)
	_, values := scanAll(t, j, false)
	if want := []string{"record 0", "record 1", "record 2", "real data"}; !slices.Equal(values, want) {
		t.Fatalf("after the crash: %q, want %q", values, want)
	}
}

func TestJournalSyncsWrittenRecordsWithinSyncDelay(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j, _ := reopen(t, t.TempDir(), 64<<10)
		unsynced := func() bool {
			j.mu.Lock()
			defer j.mu.Unlock()
			return j.synced < j.off
		}
		if _, err := j.AppendAudit([][]byte{[]byte("outcome")}, false); err != nil || !unsynced() {
			t.Fatalf("a written record: %v, waiting for its sync %v", err, unsynced())
		}
		if _, err := j.AppendAudit([][]byte{[]byte("intent")}, true); err != nil || unsynced() {
			t.Fatalf("a durable record must sync what was written before it: %v, unsynced %v", err, unsynced())
		}
		j.AppendAudit([][]byte{[]byte("outcome")}, false)
		time.Sleep(SyncDelay - time.Millisecond)
		synctest.Wait()
		if !unsynced() {
			t.Fatal("synced before SyncDelay: the timer is not the one a written record started")
		}
		time.Sleep(time.Millisecond)
		synctest.Wait()
		if unsynced() {
			t.Fatal("a written record was not synced SyncDelay later")
		}
	})
}

func TestJournalWritesWhileASyncIsUnderWay(t *testing.T) {
	j, _ := reopen(t, t.TempDir(), 64<<10)
	started, release := make(chan struct{}), make(chan struct{})
	j.syncData = func(f *os.File) error {
		started <- struct{}{}
		<-release
		return fdatasync(f)
	}
	durable := make(chan error, 1)
	go func() { _, err := j.AppendAudit([][]byte{[]byte("intent")}, true); durable <- err }()
	<-started
	written := make(chan error, 1)
	go func() { _, err := j.AppendAudit([][]byte{[]byte("outcome")}, false); written <- err }()
	select {
	case err := <-written:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a written record waited for another record's sync")
	}
	close(release)
	if err := <-durable; err != nil {
		t.Fatal(err)
	}
	if _, values := scanAll(t, j, false); !slices.Equal(values, []string{"intent", "outcome"}) {
		t.Fatalf("records %q", values)
	}
}

func TestJournalAfterAFailedSyncKeepsWhatItAcknowledged(t *testing.T) {
	dir := t.TempDir()
	st := openStore(t, dir)
	j, err := OpenJournal(filepath.Join(dir, JournalFile), st, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	j.AppendAudit([][]byte{[]byte("outcome")}, false)
	j.syncData = func(*os.File) error { return errors.New("input/output error") }
	if _, err := j.AppendAudit([][]byte{[]byte("intent")}, true); err == nil {
		t.Fatal("a failed sync was reported as durable")
	}
	j.syncData = fdatasync
	if _, err := j.AppendAudit([][]byte{[]byte("next")}, true); err != nil {
		t.Fatalf("no recovery after a failed sync: %v", err)
	}
	// The dirty journal moved what it held into the store and started over.
	crash(j)
	var stored []string
	st.Store.ScanAudit(false, func(_ uint64, v []byte) (bool, error) { stored = append(stored, string(v)); return true, nil })
	if !slices.Contains(stored, "outcome") {
		t.Fatalf("an acknowledged written record was lost after a failed sync: %q", stored)
	}
	st.Close()
	j, _ = reopen(t, dir, 64<<10)
	if _, values := scanAll(t, j, false); len(values) != 3 || values[2] != "next" {
		t.Fatalf("after the crash: %q", values)
	}
}

func TestJournalTrustsNoSyncAfterOneFailed(t *testing.T) {
	j, st := reopen(t, t.TempDir(), 64<<10)
	// B is written; A's sync, which covers B too, fails.
	if _, err := j.AppendAudit([][]byte{[]byte("B")}, false); err != nil {
		t.Fatal(err)
	}
	j.mu.Lock()
	gen, endB := j.gen, j.off
	j.mu.Unlock()
	var syncs atomic.Int32
	j.syncData = func(*os.File) error {
		if syncs.Add(1) == 1 {
			return errors.New("input/output error")
		}
		return nil // as Linux reports once the failed pages are marked clean
	}
	if _, err := j.AppendAudit([][]byte{[]byte("A")}, true); err == nil {
		t.Fatal("a failed sync was reported as durable")
	}
	// B's own sync must not take a later fdatasync's word for it.
	if err := j.syncThrough(gen, endB); err != nil {
		t.Fatal(err)
	}
	if n := syncs.Load(); n != 1 {
		t.Fatalf("fdatasync was trusted again after it failed (%d calls)", n)
	}
	var stored []string
	st.Store.ScanAudit(false, func(_ uint64, v []byte) (bool, error) { stored = append(stored, string(v)); return true, nil })
	if !slices.Contains(stored, "B") {
		t.Fatalf("B is not in the store after the failed sync: %q", stored)
	}
}
