package store

import (
	"bytes"
	"testing"
	"time"
)

// BenchmarkPutAudit4000 moves 4,000 records of 450 bytes into the store:
// one journal checkpoint.
func BenchmarkPutAudit4000(b *testing.B) {
	s, err := Open(b.TempDir(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	values := make([][]byte, 4000)
	for i := range values {
		values[i] = bytes.Repeat([]byte("x"), 450)
	}
	next := uint64(1)
	for b.Loop() {
		if err := s.PutAudit(next, values); err != nil {
			b.Fatal(err)
		}
		next += 4000
	}
}
