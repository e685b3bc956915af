package audit

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/agentvault/agentvault/internal/store"
)

func newLog(t *testing.T) (*Log, *store.Store) {
	t.Helper()
	st, err := store.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key, err := st.AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), st, DefaultJournalSize)
	if err != nil {
		t.Fatal(err)
	}
	l := New(Config{Backend: j, Key: key})
	t.Cleanup(func() { l.Close(); j.Close(); st.Close() })
	return l, st
}

func TestConcurrentRecordsAreAllCommittedWithDistinctSeqs(t *testing.T) {
	l, _ := newLog(t)
	const n = 200
	var wg sync.WaitGroup
	seqs := make(chan uint64, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seq, err := l.Record(Record{Phase: Intent, CallID: string(rune('a' + i%26)), VaultID: "v", Tool: "t", Decision: "allow"})
			if err != nil {
				t.Error(err)
			}
			seqs <- seq
		}()
	}
	wg.Wait()
	close(seqs)
	seen := map[uint64]bool{}
	for s := range seqs {
		if s == 0 || seen[s] {
			t.Fatalf("sequence %d zero or repeated", s)
		}
		seen[s] = true
	}
	recs, err := l.List(Filter{})
	if err != nil || len(recs) != n {
		t.Fatalf("List: %d records, %v; want %d", len(recs), err, n)
	}
	for i, r := range recs {
		if r.Seq != uint64(i+1) || r.Time.IsZero() {
			t.Fatalf("record %d: seq %d time %v", i, r.Seq, r.Time)
		}
	}
}

type failingBackend struct{ err error }

func (f failingBackend) AppendAudit([][]byte, bool) (uint64, error) { return 0, f.err }
func (f failingBackend) ScanAudit(bool, func(uint64, []byte) (bool, error)) error {
	return nil
}

func TestRecordReportsBackendFailure(t *testing.T) {
	want := errors.New("disk full")
	l := New(Config{Backend: failingBackend{want}, Key: make([]byte, 32)})
	defer l.Close()
	if _, err := l.Record(Record{Tool: "x"}); !errors.Is(err, want) {
		t.Fatalf("Record = %v, want %v", err, want)
	}
}

func TestRecordAfterCloseFails(t *testing.T) {
	l, _ := newLog(t)
	l.Close()
	if _, err := l.Record(Record{Tool: "x"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("Record after Close = %v", err)
	}
}

func TestListFiltersByVaultAndLimitsToNewest(t *testing.T) {
	l, _ := newLog(t)
	for i, v := range []string{"a", "b", "a", "a"} {
		if _, err := l.Record(Record{VaultID: v, Tool: "t", DurationMS: int64(i)}); err != nil {
			t.Fatal(err)
		}
	}
	recs, _ := l.List(Filter{VaultID: "a", Limit: 2})
	if len(recs) != 2 || recs[0].DurationMS != 2 || recs[1].DurationMS != 3 {
		t.Fatalf("List(a, 2) = %+v", recs)
	}
}

func TestDigestIsKeyedAndStable(t *testing.T) {
	a := New(Config{Backend: failingBackend{}, Key: bytes.Repeat([]byte{1}, 32)})
	b := New(Config{Backend: failingBackend{}, Key: bytes.Repeat([]byte{2}, 32)})
	defer a.Close()
	defer b.Close()
	args := map[string]any{"path": "/etc/passwd", "n": 1.0}
	if a.Digest(args) != a.Digest(map[string]any{"n": 1.0, "path": "/etc/passwd"}) {
		t.Fatal("digest depends on map order")
	}
	if a.Digest(args) == b.Digest(args) {
		t.Fatal("digest does not depend on the key")
	}
	if a.Digest(args) == a.Digest(map[string]any{"path": "/etc/shadow", "n": 1.0}) {
		t.Fatal("different arguments share a digest")
	}
}

func TestSummaryRedactsSecrets(t *testing.T) {
	got := Summary(map[string]any{
		"path":          "/tmp/x",
		"api_key":       "plain-looking",
		"body":          "use ghp_abcdefghijklmnop please",
		"Authorization": "Bearer x",
		"content":       strings.Repeat("x", 500),
		"late":          strings.Repeat("é", 70) + " ghp_secretbeyondtheshownpart",
		"n":             3.0,
		"items":         []any{1.0, 2.0},
		"nested":        map[string]any{"token": "t"},
	})
	for _, secret := range []string{"plain-looking", "ghp_", "secretbeyond", "Bearer x", strings.Repeat("x", 100)} {
		if strings.Contains(got, secret) {
			t.Errorf("summary leaks %q: %s", secret, got)
		}
	}
	for _, want := range []string{`path="/tmp/x"`, "api_key=[redacted]", "body=[redacted]", "n=3", "items=[2 items]", "nested={1 keys}", "(500 chars)",
		`late="` + strings.Repeat("é", 60) + `…(99 chars)"`} {
		if !strings.Contains(got, want) {
			t.Errorf("summary lacks %q: %s", want, got)
		}
	}
}

func TestExportJSONLAndCSV(t *testing.T) {
	l, _ := newLog(t)
	l.Record(Record{Phase: Intent, CallID: "c1", VaultID: "v", Vault: "work", Tool: "fs_read", Decision: "allow", ArgsDigest: "d", Args: `path="/x"`})
	l.Record(Record{Phase: Outcome, CallID: "c1", VaultID: "v", Vault: "work", Tool: "fs_read", Decision: "allow", Outcome: Executed, DurationMS: 4, Error: "a,b", Args: `path="/x"`})

	for _, tc := range []struct {
		phases bool
		lines  int
	}{{false, 1}, {true, 2}} {
		var jl bytes.Buffer
		if err := l.Export(&jl, JSONL, Filter{Phases: tc.phases}); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(jl.String()), "\n")
		if len(lines) != tc.lines {
			t.Fatalf("phases %v: jsonl has %d lines", tc.phases, len(lines))
		}
		var r Record
		if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil || r.Seq != 2 || r.Outcome != Executed {
			t.Fatalf("jsonl last line = %+v, %v", r, err)
		}
	}

	var c bytes.Buffer
	if err := l.Export(&c, CSV, Filter{}); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&c).ReadAll()
	if err != nil || len(rows) != 2 {
		t.Fatalf("csv: %d rows, %v", len(rows), err)
	}
	if strings.Join(rows[0], ",") != "time,seq,vault_id,vault,client,service,tool,decision,outcome,channel,args_digest,duration_ms,error,phase,call_id,rule,approver,whole_call,args" {
		t.Fatalf("csv header %v", rows[0])
	}
	if rows[1][1] != "2" || rows[1][8] != "executed" || rows[1][12] != "a,b" || rows[1][13] != "call" || rows[1][18] != `path="/x"` {
		t.Fatalf("csv row %v", rows[1])
	}
	if err := l.Export(&c, "xml", Filter{}); err == nil {
		t.Fatal("unknown format accepted")
	}
}

// A call is one row: its intent and outcome merged, a refused call's
// outcome alone, an intent without an outcome running (or interrupted when
// it is older than the log's opening); other records stay as they are.
func TestOneRowPerCall(t *testing.T) {
	st, err := store.Open(t.TempDir(), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := st.AuditKey()
	j, err := OpenJournal(filepath.Join(t.TempDir(), JournalFile), st, DefaultJournalSize)
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	l := New(Config{Backend: j, Key: key, Now: func() time.Time { return t0 }})
	t.Cleanup(func() { l.Close(); j.Close(); st.Close() })
	at := func(s int) time.Time { return t0.Add(time.Duration(s) * time.Second) }
	rec := func(r Record) {
		t.Helper()
		r.VaultID, r.Vault = "v1", "work"
		if r.CallID != "" {
			r.Tool = "t_" + r.CallID
		}
		if _, err := l.Record(r); err != nil {
			t.Fatal(err)
		}
	}
	rec(Record{Time: at(-60), Phase: Intent, CallID: "crashed", Channel: "policy"})
	rec(Record{Time: at(1), Phase: Intent, CallID: "ran", Channel: "policy"})
	rec(Record{Time: at(2), Phase: Intent, CallID: "asked", Channel: "desktop"})
	rec(Record{Time: at(3), Phase: Outcome, CallID: "refused", Outcome: Blocked, Channel: "policy"})
	rec(Record{Time: at(4), Phase: Outcome, CallID: "ran", Outcome: Executed, Channel: "policy", DurationMS: 3000})
	rec(Record{Time: at(5), Phase: "answer", CallID: "late", Outcome: "rejected"})
	rec(Record{Time: at(6), Phase: Intent, CallID: "slow", Channel: "policy"})
	rec(Record{Time: at(7), Phase: Outcome, CallID: "asked", Outcome: Executed, Channel: "desktop", DurationMS: 5000})

	row := func(r Record) string {
		return fmt.Sprintf("%s %s %s %d", r.Tool, r.Phase, r.Outcome, r.Time.Sub(t0)/time.Second)
	}
	all, err := l.List(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range all {
		got = append(got, row(r))
	}
	want := []string{"t_crashed call interrupted -60", "t_refused call blocked 3", "t_ran call executed 1", "t_late answer rejected 5",
		"t_slow call running 6", "t_asked call approved 2"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("rows:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	newest, _ := l.List(Filter{Limit: 2})
	if len(newest) != 2 || row(newest[0]) != want[4] || row(newest[1]) != want[5] {
		t.Fatalf("the 2 newest rows: %+v", newest)
	}
	var exported []string
	l.Scan(Filter{}, func(r Record) error { exported = append(exported, row(r)); return nil })
	wantExported := []string{want[1], want[2], want[3], want[5], want[0], want[4]} // in the order calls ended; unended last
	if strings.Join(exported, "\n") != strings.Join(wantExported, "\n") {
		t.Fatalf("exported:\n%s", strings.Join(exported, "\n"))
	}
	if raw, _ := l.List(Filter{Phases: true}); len(raw) != 8 {
		t.Fatalf("%d records as written, want 8", len(raw))
	}
	if byName, _ := l.List(Filter{Vault: "work"}); len(byName) != 6 {
		t.Fatalf("%d rows by the vault's name, want 6", len(byName))
	}
}

// BenchmarkRecord measures a durable audit append; run with -cpu 1,8 to see
// group commit share syncs between concurrent callers.
func BenchmarkRecord(b *testing.B) {
	st, err := store.Open(b.TempDir(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	key, _ := st.AuditKey()
	j, err := OpenJournal(filepath.Join(b.TempDir(), JournalFile), st, DefaultJournalSize)
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	l := New(Config{Backend: j, Key: key})
	defer l.Close()
	rec := Record{Phase: Intent, CallID: "c", VaultID: "v", Vault: "work", Tool: "fs_read_file", Decision: "allow", ArgsDigest: "d"}
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := l.Record(rec); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkStoreCommit is the reference the journal is measured against: one
// record in its own durable bbolt transaction.
func BenchmarkStoreCommit(b *testing.B) {
	st, err := store.Open(b.TempDir(), time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	seq := uint64(0)
	for b.Loop() {
		seq++
		if err := st.PutAudit(seq, [][]byte{[]byte(`{"phase":"intent","tool":"fs_read_file"}`)}); err != nil {
			b.Fatal(err)
		}
	}
}

// An agent controls arguments, error texts and its client name: however large
// they are, its record is cut to size and does not crowd out anyone else's.
func TestOversizedFieldsAreCutAndHarmNoOtherRecord(t *testing.T) {
	l, _ := newLog(t)
	huge := strings.Repeat("<", 700_000)
	many := map[string]any{}
	for i := range 100_000 {
		many[fmt.Sprint("k", i)] = "v"
	}
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for i := range 20 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := l.Record(Record{Phase: Outcome, VaultID: "attacker", Tool: "t", Client: huge, Args: Summary(many), Error: huge})
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := l.Record(Record{Phase: Intent, VaultID: "other", Tool: "t", CallID: fmt.Sprint(i)})
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	recs, err := l.List(Filter{})
	if err != nil || len(recs) != 40 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if len(r.Error) > 4*maxField+32 || len(r.Client) > 4*maxField+32 || len(r.Args) > 4*maxField+32 {
			t.Fatalf("a field was not cut: %d %d %d", len(r.Error), len(r.Client), len(r.Args))
		}
	}
}

// gatedBackend holds durable appends until released.
type gatedBackend struct {
	failingBackend
	durable chan bool // per append: whether it was durable
	release chan struct{}
}

func (g gatedBackend) AppendAudit(_ [][]byte, durable bool) (uint64, error) {
	g.durable <- durable
	if durable {
		<-g.release
	}
	return 1, nil
}

func TestWrittenRecordsDoNotWaitForASync(t *testing.T) {
	g := gatedBackend{durable: make(chan bool, 2), release: make(chan struct{})}
	l := New(Config{Backend: g, Key: make([]byte, 32)})
	intent := make(chan error, 1)
	go func() { _, err := l.Record(Record{Phase: Intent, Tool: "t"}); intent <- err }()
	if !<-g.durable {
		t.Fatal("an intent record was appended without durable")
	}
	// The intent's sync is under way (held): an outcome goes in meanwhile.
	if _, err := l.RecordWritten(Record{Phase: Outcome, Tool: "t"}); err != nil {
		t.Fatal(err)
	}
	if <-g.durable {
		t.Fatal("an outcome record was appended durable")
	}
	select {
	case <-intent:
		t.Fatal("the intent returned before its sync")
	default:
	}
	close(g.release)
	if err := <-intent; err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := l.RecordWritten(Record{Tool: "t"}); !errors.Is(err, ErrClosed) {
		t.Fatalf("RecordWritten after Close = %v", err)
	}
}

func TestSecretChecksMatchTheirPatterns(t *testing.T) {
	oldKey := regexp.MustCompile(`(?i)(token|secret|passw|api[_-]?key|auth|cookie|credential|private)`)
	for _, k := range []string{"token", "X-Api-Key", "apikey", "api_key", "API-KEY", "apiKEY", "Authorization", "passwd", "PrivateKey", "path", "name", "api key", "cookies", "owner"} {
		if secretKey(k) != oldKey.MatchString(k) {
			t.Errorf("key %q: secretKey %v", k, secretKey(k))
		}
	}
	for _, v := range []string{"ghp_x", "use GHO_abc", "github_pat_1", "xoxb-1", "XOXP-2", "sk-proj", "ask-me", "ya29.a0", "AKIA123", "akia1",
		"eyJhbGciOiJIUzI1.x", "eyJshort.", "-----BEGIN KEY", "plain", "gh", "agh_1", "/tmp/ghp_file", "x-sk-1", "avt_abc", "navt_x"} {
		if looksSecret(v) != secretValue.MatchString(v) {
			t.Errorf("value %q: looksSecret %v", v, looksSecret(v))
		}
	}
}
