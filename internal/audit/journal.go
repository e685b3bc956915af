package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Store is where the journal moves records for good: *store.Store.
type Store interface {
	// PutAudit stores values under sequence numbers first, first+1, …, all
	// or none; numbers already stored are kept as they are.
	PutAudit(first uint64, values [][]byte) error
	// LastAuditSeq is the highest stored sequence number (0: none).
	LastAuditSeq() (uint64, error)
	// ScanAudit visits stored records in order, or newest first.
	ScanAudit(newestFirst bool, fn func(seq uint64, value []byte) (bool, error)) error
}

// Journal is a Backend that makes each group of records durable with one
// write and one fdatasync into a file that was filled with zeros when it was
// created, so the file system has no metadata to commit (a bbolt commit
// needs two syncs). Records appended without durable are written at once and
// synced by the next durable append or SyncDelay later, whichever comes
// first. A sync runs without holding the journal: appends go on meanwhile,
// and a durable append whose frames an earlier sync already covered does
// not sync again. A background checkpoint then moves the records into the
// store in large batches, and the journal starts over once everything in it
// is in the store. Opening a journal first moves whatever a crash left in it
// into the store.
//
// File layout: a 16-byte header (magic, generation, CRC) and frames of
// [payload length u32][CRC-32C u32 of generation, sequence and payload]
// [sequence u64][payload]. A frame whose CRC does not match — torn, zero, or
// from an earlier generation — ends the journal.
type Journal struct {
	store Store
	size  int64

	syncMu sync.Mutex // serialises syncs; taken before mu, never while holding it
	// syncData is fdatasync; tests slow it down or fail it.
	syncData func(*os.File) error

	mu        sync.Mutex // guards everything below
	f         *os.File
	gen       uint64
	off       int64  // where the next frame goes
	next      uint64 // the next sequence number
	dirty     bool   // a failed write may have left unacknowledged frames after off
	synced    int64  // frames of this generation before this offset are on disk
	syncTimer *time.Timer
	timerSet  bool // syncTimer will sync frames written after synced
	pending   []frame
	kick      chan struct{}
	done      chan struct{}
	closed    bool
}

type frame struct {
	seq   uint64
	value []byte
}

const (
	journalMagic  = "AVJ1"
	headerSize    = 16
	frameOverhead = 16
	// DefaultJournalSize is the size of a journal file: room for about
	// ten thousand records between checkpoints.
	DefaultJournalSize = 4 << 20
	// SyncDelay is the longest a record appended without durable waits for
	// its fdatasync.
	SyncDelay = 20 * time.Millisecond
)

var (
	castagnoli      = crc32.MakeTable(crc32.Castagnoli)
	errJournalShort = errors.New("audit journal: record larger than the journal")
)

var _ Backend = (*Journal)(nil)

// OpenJournal opens (or creates, mode 0600, size bytes of zeros) the journal
// at path in front of store, replaying into store what a crash left in it.
func OpenJournal(path string, store Store, size int64) (*Journal, error) {
	j := &Journal{store: store, size: size, syncData: fdatasync, kick: make(chan struct{}, 1), done: make(chan struct{})}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the audit journal: %w", err)
	}
	j.f = f
	j.syncTimer = time.AfterFunc(time.Hour, j.syncWritten)
	j.syncTimer.Stop()
	if err := j.recover(); err != nil {
		f.Close()
		return nil, err
	}
	go j.checkpoints()
	return j, nil
}

// recover replays the frames of the current generation into the store,
// then starts a new generation on a file of the right size.
func (j *Journal) recover() error {
	fi, err := j.f.Stat()
	if err != nil {
		return err
	}
	var frames []frame
	if fi.Size() >= headerSize {
		frames, j.gen = j.readFrames(fi.Size())
	}
	last, err := j.store.LastAuditSeq()
	if err != nil {
		return err
	}
	for len(frames) > 0 && frames[0].seq <= last {
		frames = frames[1:]
	}
	if len(frames) > 0 {
		values := make([][]byte, len(frames))
		for i, fr := range frames {
			values[i] = fr.value
		}
		if err := j.store.PutAudit(frames[0].seq, values); err != nil {
			return fmt.Errorf("moving the audit journal into the store: %w", err)
		}
		last = frames[len(frames)-1].seq
	}
	j.next = last + 1
	if fi.Size() != j.size {
		// A new file, or one of another size: fill it with zeros once, and
		// make its size and its name durable.
		if err := j.f.Truncate(0); err != nil {
			return err
		}
		zeros := make([]byte, 64<<10)
		for off := int64(0); off < j.size; off += int64(len(zeros)) {
			if _, err := j.f.WriteAt(zeros[:min(int64(len(zeros)), j.size-off)], off); err != nil {
				return fmt.Errorf("creating the audit journal: %w", err)
			}
		}
		if err := j.f.Sync(); err != nil {
			return fmt.Errorf("creating the audit journal: %w", err)
		}
		if err := syncDir(filepath.Dir(j.f.Name())); err != nil {
			return fmt.Errorf("creating the audit journal: %w", err)
		}
	}
	return j.restart()
}

// readFrames reads the header and the valid frames after it.
func (j *Journal) readFrames(fileSize int64) ([]frame, uint64) {
	var h [headerSize]byte
	if _, err := j.f.ReadAt(h[:], 0); err != nil || string(h[:4]) != journalMagic ||
		crc32.Checksum(h[:12], castagnoli) != binary.LittleEndian.Uint32(h[12:]) {
		return nil, 0
	}
	gen := binary.LittleEndian.Uint64(h[4:12])
	r := io.NewSectionReader(j.f, headerSize, fileSize-headerSize)
	var frames []frame
	var prev uint64
	for {
		var fh [frameOverhead]byte
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			break
		}
		n := binary.LittleEndian.Uint32(fh[0:4])
		seq := binary.LittleEndian.Uint64(fh[8:16])
		if n == 0 || int64(n) > fileSize {
			break
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(r, payload); err != nil || frameCRC(gen, seq, payload) != binary.LittleEndian.Uint32(fh[4:8]) ||
			(prev != 0 && seq != prev+1) {
			break
		}
		frames, prev = append(frames, frame{seq, payload}), seq
	}
	return frames, gen
}

// appendFrame appends the frame of record seq, in generation gen, to buf.
func appendFrame(buf []byte, gen, seq uint64, payload []byte) []byte {
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(payload)))
	buf = binary.LittleEndian.AppendUint32(buf, frameCRC(gen, seq, payload))
	buf = binary.LittleEndian.AppendUint64(buf, seq)
	return append(buf, payload...)
}

func frameCRC(gen, seq uint64, payload []byte) uint32 {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], gen)
	binary.LittleEndian.PutUint64(b[8:], seq)
	return crc32.Update(crc32.Checksum(b[:], castagnoli), castagnoli, payload)
}

// restart begins a new generation: older frames no longer match their CRC.
// Everything written so far must be in the store. On failure the journal is
// dirty: the next append moves everything into the store and tries again.
func (j *Journal) restart() error {
	gen := j.gen + 1
	var h [headerSize]byte
	copy(h[:4], journalMagic)
	binary.LittleEndian.PutUint64(h[4:12], gen)
	binary.LittleEndian.PutUint32(h[12:], crc32.Checksum(h[:12], castagnoli))
	if _, err := j.f.WriteAt(h[:], 0); err != nil {
		j.dirty = true // the header may be half written
		return fmt.Errorf("writing the audit journal: %w", err)
	}
	if err := fdatasync(j.f); err != nil {
		j.dirty = true
		return fmt.Errorf("syncing the audit journal: %w", err)
	}
	j.gen, j.off, j.synced, j.dirty = gen, headerSize, headerSize, false
	return nil
}

// AppendAudit implements Backend.
func (j *Journal) AppendAudit(values [][]byte, durable bool) (uint64, error) {
	need := int64(0)
	for _, v := range values {
		if len(v) == 0 {
			return 0, errors.New("audit journal: empty record")
		}
		need += frameOverhead + int64(len(v))
	}
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return 0, ErrClosed
	}
	if headerSize+need > j.size {
		j.mu.Unlock()
		return 0, errJournalShort
	}
	if j.off+need > j.size || j.dirty {
		// Full, or a failed write may have left frames nobody was told of
		// after the end: move everything into the store and start over.
		err := j.checkpointLocked()
		if err == nil {
			err = j.restart()
		}
		if err != nil {
			j.mu.Unlock()
			return 0, err
		}
	}
	buf := make([]byte, 0, need)
	first := j.next
	for i, v := range values {
		buf = appendFrame(buf, j.gen, first+uint64(i), v)
	}
	if _, err := j.f.WriteAt(buf, j.off); err != nil {
		j.dirty = true
		j.mu.Unlock()
		return 0, fmt.Errorf("writing the audit journal: %w", err)
	}
	j.off += need
	j.next += uint64(len(values))
	for i, v := range values {
		j.pending = append(j.pending, frame{first + uint64(i), v})
	}
	if j.off > j.size/2 {
		// Checkpoints are rare and large: a store commit competes with the
		// next journal sync for the disk.
		j.kickCheckpoint()
	}
	gen, end := j.gen, j.off
	if !durable && !j.timerSet {
		j.timerSet = true
		j.syncTimer.Reset(SyncDelay)
	}
	j.mu.Unlock()
	if durable {
		if err := j.syncThrough(gen, end); err != nil {
			return 0, err
		}
	}
	return first, nil
}

// kickCheckpoint asks the checkpoint goroutine to run; j.mu is held.
func (j *Journal) kickCheckpoint() {
	select {
	case j.kick <- struct{}{}:
	default:
	}
}

// syncThrough makes the frames of generation gen before offset end durable,
// unless a sync or a new generation (which starts only once everything is in
// the store) already did. A failed sync marks the journal dirty: what it
// holds is moved into the store, which syncs on its own, before the next
// append.
func (j *Journal) syncThrough(gen uint64, end int64) error {
	j.syncMu.Lock()
	defer j.syncMu.Unlock()
	j.mu.Lock()
	if j.gen != gen || j.synced >= end {
		j.mu.Unlock()
		return nil
	}
	if j.closed {
		j.mu.Unlock()
		return ErrClosed
	}
	if j.dirty {
		// A sync failed in this generation: a later one may report success
		// for pages the kernel already gave up on. The store's own commit
		// is what makes these frames durable now.
		defer j.mu.Unlock()
		if err := j.checkpointLocked(); err != nil {
			return err
		}
		return j.restart()
	}
	target := j.off // everything written so far, not only these frames
	j.mu.Unlock()
	err := j.syncData(j.f)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		j.dirty = true
		if !j.closed {
			j.kickCheckpoint()
		}
		return fmt.Errorf("syncing the audit journal: %w", err)
	}
	if j.gen == gen && target > j.synced {
		j.synced = target
	}
	if j.timerSet && j.synced >= j.off {
		j.timerSet = false
		j.syncTimer.Stop()
	}
	return nil
}

// syncWritten syncs frames appended without durable, SyncDelay after the
// first of them.
func (j *Journal) syncWritten() {
	j.mu.Lock()
	j.timerSet = false
	gen, end := j.gen, j.off
	j.mu.Unlock()
	_ = j.syncThrough(gen, end) // a failure is handled there
}

// checkpoints moves journaled records into the store in the background,
// without holding the journal (appends go on meanwhile), and starts the
// journal over when it is half full and fully moved.
func (j *Journal) checkpoints() {
	defer close(j.done)
	for range j.kick {
		j.mu.Lock()
		batch := append([]frame(nil), j.pending...)
		j.mu.Unlock()
		if len(batch) == 0 || j.put(batch) != nil {
			continue // the next append or checkpoint tries again
		}
		j.mu.Lock()
		j.dropThrough(batch[len(batch)-1].seq)
		if len(j.pending) == 0 && j.off > j.size/2 {
			_ = j.restart()
		}
		j.mu.Unlock()
	}
}

// put stores frames (consecutive sequence numbers) in the store.
func (j *Journal) put(frames []frame) error {
	values := make([][]byte, len(frames))
	for i, fr := range frames {
		values[i] = fr.value
	}
	if err := j.store.PutAudit(frames[0].seq, values); err != nil {
		return fmt.Errorf("moving audit records into the store: %w", err)
	}
	return nil
}

// dropThrough forgets pending records up to seq: they are in the store.
func (j *Journal) dropThrough(seq uint64) {
	n := 0
	for n < len(j.pending) && j.pending[n].seq <= seq {
		n++
	}
	j.pending = append(j.pending[:0], j.pending[n:]...)
}

// checkpointLocked puts the pending records into the store.
func (j *Journal) checkpointLocked() error {
	if len(j.pending) == 0 {
		return nil
	}
	if err := j.put(j.pending); err != nil {
		return err
	}
	j.pending = j.pending[:0]
	return nil
}

// ScanAudit implements Backend: the store's records, then those still only
// in the journal (or the other way round, newest first). A record the
// checkpoint moves during the scan is visited once.
func (j *Journal) ScanAudit(newestFirst bool, fn func(seq uint64, value []byte) (bool, error)) error {
	j.mu.Lock()
	pending := append([]frame(nil), j.pending...)
	j.mu.Unlock()
	if !newestFirst {
		var last uint64
		more := true
		err := j.store.ScanAudit(false, func(seq uint64, v []byte) (bool, error) {
			var err error
			last = seq
			more, err = fn(seq, v)
			return more, err
		})
		for _, fr := range pending {
			if err != nil || !more {
				return err
			}
			if fr.seq > last {
				more, err = fn(fr.seq, fr.value)
			}
		}
		return err
	}
	for i := len(pending) - 1; i >= 0; i-- {
		if more, err := fn(pending[i].seq, pending[i].value); err != nil || !more {
			return err
		}
	}
	below := ^uint64(0)
	if len(pending) > 0 {
		below = pending[0].seq
	}
	return j.store.ScanAudit(true, func(seq uint64, v []byte) (bool, error) {
		if seq >= below {
			return true, nil
		}
		return fn(seq, v)
	})
}

// Close moves every record into the store and closes the file. The store
// stays open.
func (j *Journal) Close() error {
	j.syncMu.Lock() // no sync may run on the file as it closes
	defer j.syncMu.Unlock()
	j.mu.Lock()
	if j.closed {
		j.mu.Unlock()
		return nil
	}
	j.closed = true
	close(j.kick)
	j.mu.Unlock()
	<-j.done
	j.mu.Lock()
	defer j.mu.Unlock()
	j.syncTimer.Stop()
	err := j.checkpointLocked()
	if err == nil {
		err = j.restart()
	} else if j.synced < j.off {
		err = errors.Join(err, fdatasync(j.f))
	}
	return errors.Join(err, j.f.Close())
}
