package store

import (
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/agentvault/agentvault/policy"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	dir := t.TempDir()
	s, err := Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, dir
}

func TestOpenCreatesPrivateFileAndRefusesSecondOpener(t *testing.T) {
	s, dir := openTemp(t)
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode %v, want 0600", fi.Mode().Perm())
	}
	start := time.Now()
	if _, err := Open(dir, 100*time.Millisecond); !errors.Is(err, ErrLocked) {
		t.Fatalf("second Open: %v, want ErrLocked", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Fatal("second Open did not give up at its timeout")
	}
	s.Close()
	s2, err := Open(dir, time.Second)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	s2.Close()
}

func TestVaultsAndServicesRoundTripAcrossReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	v := Vault{ID: "v1", Name: "work", TokenDigest: []byte{1, 2, 3}, Services: []string{"fs"},
		Policy: policy.Policy{Rules: []policy.Rule{{Pattern: "fs_*", Decision: policy.Block}}}, Created: time.Unix(100, 0).UTC()}
	svc := Service{Name: "fs", Kind: "mcp-stdio", Command: []string{"npx", "x"}, Created: time.Unix(50, 0).UTC()}
	if err := s.PutVault(v); err != nil {
		t.Fatal(err)
	}
	if err := s.PutService(svc); err != nil {
		t.Fatal(err)
	}
	if err := s.PutSettings(Settings{Listen: "127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	key1, _ := s.AuditKey()
	s.Close()

	s, err = Open(dir, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.Vault("v1")
	if err != nil || !reflect.DeepEqual(got, v) {
		t.Fatalf("Vault = %+v, %v; want %+v", got, err, v)
	}
	gotSvc, err := s.Service("fs")
	if err != nil || !reflect.DeepEqual(gotSvc, svc) {
		t.Fatalf("Service = %+v, %v; want %+v", gotSvc, err, svc)
	}
	st, _ := s.Settings()
	if st.Listen != "127.0.0.1:1" {
		t.Fatalf("Settings = %+v", st)
	}
	key2, _ := s.AuditKey()
	if len(key1) != 32 || !reflect.DeepEqual(key1, key2) {
		t.Fatal("audit key missing or changed across reopen")
	}
	if _, err := s.Vault("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing vault: %v", err)
	}
	if err := s.DeleteVault("nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("delete missing vault: %v", err)
	}
	if err := s.DeleteVault("v1"); err != nil {
		t.Fatal(err)
	}
	if vs, _ := s.Vaults(); len(vs) != 0 {
		t.Fatalf("vault survived delete: %+v", vs)
	}
}

func TestAuditAppendIsOrderedAndScansBothWays(t *testing.T) {
	s, _ := openTemp(t)
	if err := s.PutAudit(1, [][]byte{[]byte("a"), []byte("b")}); err != nil {
		t.Fatal(err)
	}
	// Handing records over twice keeps the first copy.
	if err := s.PutAudit(2, [][]byte{[]byte("B"), []byte("c")}); err != nil {
		t.Fatal(err)
	}
	if last, err := s.LastAuditSeq(); last != 3 || err != nil {
		t.Fatalf("LastAuditSeq = %d, %v", last, err)
	}
	var fwd, back []string
	s.ScanAudit(false, func(seq uint64, v []byte) (bool, error) { fwd = append(fwd, string(v)); return true, nil })
	s.ScanAudit(true, func(seq uint64, v []byte) (bool, error) { back = append(back, string(v)); return len(back) < 2, nil })
	if !reflect.DeepEqual(fwd, []string{"a", "b", "c"}) || !reflect.DeepEqual(back, []string{"c", "b"}) {
		t.Fatalf("forward %v, backward %v", fwd, back)
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	s, dir := openTemp(t)
	err := s.db.Update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketMeta).Put(keySchema, binary.BigEndian.AppendUint64(nil, SchemaVersion+1))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, err := Open(dir, time.Second); err == nil {
		t.Fatal("opened a database from a newer version")
	}
}
