package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"
)

func openTest(t *testing.T) *Badger {
	t.Helper()
	s, err := OpenMemory()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestTxnBasics(t *testing.T) {
	s := openTest(t)
	if err := s.Update(func(tx Txn) error {
		return errors.Join(tx.Set([]byte("a/1"), []byte("one")), tx.Set([]byte("a/2"), []byte("two")), tx.Set([]byte("b/1"), []byte("other")))
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		key  string
		want string
		err  error
	}{
		{"present", "a/1", "one", nil},
		{"absent", "a/3", "", ErrNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.View(func(tx Txn) error {
				v, err := tx.Get([]byte(tc.key))
				if err != nil {
					return err
				}
				if string(v) != tc.want {
					t.Errorf("got %q, want %q", v, tc.want)
				}
				return nil
			})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
	t.Run("delete", func(t *testing.T) {
		if err := s.Update(func(tx Txn) error { return tx.Delete([]byte("a/2")) }); err != nil {
			t.Fatal(err)
		}
		_ = s.View(func(tx Txn) error {
			ok, err := tx.Has([]byte("a/2"))
			if err != nil || ok {
				t.Fatalf("has after delete = %v, %v", ok, err)
			}
			return nil
		})
	})
	t.Run("failed update writes nothing", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Update(func(tx Txn) error {
			if err := tx.Set([]byte("a/9"), []byte("x")); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v", err)
		}
		_ = s.View(func(tx Txn) error {
			if ok, _ := tx.Has([]byte("a/9")); ok {
				t.Fatal("write of a failed update is visible")
			}
			return nil
		})
	})
}

func TestScan(t *testing.T) {
	s := openTest(t)
	_ = s.Update(func(tx Txn) error {
		for i := 1; i <= 5; i++ {
			if err := tx.Set(RecordKey("posts", uint64(i)), []byte(fmt.Sprint(i))); err != nil {
				return err
			}
		}
		return tx.Set(RecordKey("postsx", 1), []byte("no"))
	})
	tests := []struct {
		name string
		opts ScanOptions
		stop int
		want string
	}{
		{"forward", ScanOptions{}, 0, "12345"},
		{"reverse", ScanOptions{Reverse: true}, 0, "54321"},
		{"start", ScanOptions{Start: RecordKey("posts", 3)}, 0, "345"},
		{"reverse start", ScanOptions{Reverse: true, Start: RecordKey("posts", 3)}, 0, "321"},
		{"stop early", ScanOptions{}, 2, "12"},
		{"keys only", ScanOptions{KeysOnly: true}, 0, "....."},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got bytes.Buffer
			err := s.View(func(tx Txn) error {
				return tx.Scan(RecordPrefix("posts"), tc.opts, func(k, v []byte) error {
					if tc.opts.KeysOnly {
						if v != nil {
							t.Errorf("value in keys-only scan")
						}
						got.WriteByte('.')
					} else {
						got.Write(v)
					}
					if tc.stop > 0 && got.Len() >= tc.stop {
						return StopScan
					}
					return nil
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != tc.want {
				t.Fatalf("got %q, want %q", got.String(), tc.want)
			}
		})
	}
}

func TestNextIDConcurrent(t *testing.T) {
	s := openTest(t)
	var mu sync.Mutex
	var ids []uint64
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id, err := s.NextID("posts")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				ids = append(ids, id)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if ids[0] != 1 {
		t.Fatalf("first id = %d, want 1", ids[0])
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("id %d handed out twice", ids[i])
		}
	}
}

func TestSequenceSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		if _, err := s.NextID("x"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBadger(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, err := s.NextID("x")
	if err != nil {
		t.Fatal(err)
	}
	if id != 4 {
		t.Fatalf("after a clean close the next id = %d, want 4 (sequence released)", id)
	}
}

func TestUpdateRetriesConflicts(t *testing.T) {
	s := openTest(t)
	key := []byte("counter")
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				err := s.Update(func(tx Txn) error {
					v, err := tx.Get(key)
					if err != nil && !errors.Is(err, ErrNotFound) {
						return err
					}
					n := 0
					if len(v) > 0 {
						fmt.Sscan(string(v), &n)
					}
					return tx.Set(key, []byte(fmt.Sprint(n+1)))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	_ = s.View(func(tx Txn) error {
		v, _ := tx.Get(key)
		if string(v) != "400" {
			t.Fatalf("counter = %s, want 400: a conflicting update was lost", v)
		}
		return nil
	})
}

func TestIndexValueOrderAndDelimiting(t *testing.T) {
	enc := func(v any) []byte {
		b, ok := AppendIndexValue(nil, v)
		if !ok {
			t.Fatalf("%v not indexable", v)
		}
		return b
	}
	ordered := []struct {
		name string
		a, b any
	}{
		{"negative before positive", int64(-5), int64(3)},
		{"small before large", int64(2), int64(1 << 40)},
		{"float order", -1.5, 2.25},
		{"string order", "apple", "banana"},
		{"prefix string first", "ab", "abc"},
		{"false before true", false, true},
	}
	for _, tc := range ordered {
		t.Run(tc.name, func(t *testing.T) {
			if bytes.Compare(enc(tc.a), enc(tc.b)) >= 0 {
				t.Fatalf("%v does not sort before %v", tc.a, tc.b)
			}
		})
	}
	t.Run("string value is not a prefix of a longer one", func(t *testing.T) {
		if bytes.HasPrefix(enc("abc"), enc("ab")) {
			t.Fatal("ambiguous string encoding")
		}
		if bytes.HasPrefix(enc("a\x00b"), enc("a")) {
			t.Fatal("NUL not escaped")
		}
	})
	t.Run("integral float equals int", func(t *testing.T) {
		if !bytes.Equal(enc(5.0), enc(int64(5))) {
			t.Fatal("5.0 and 5 encode differently")
		}
	})
	t.Run("not indexable", func(t *testing.T) {
		for _, v := range []any{nil, map[string]any{}, []any{1}} {
			if _, ok := AppendIndexValue(nil, v); ok {
				t.Errorf("%v indexable", v)
			}
		}
	})
}

func TestDurableGroupCommit(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBadger(Options{Dir: dir, SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for g := 0; g < 16; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				err := s.Update(func(tx Txn) error {
					return tx.Set([]byte(fmt.Sprintf("k/%02d/%03d", g, i)), []byte("v"))
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	st := s.sync
	if st == nil {
		t.Fatal("durable store without a syncer")
	}
	st.mu.Lock()
	covered, asked := st.done, st.seq
	st.mu.Unlock()
	if covered != asked || asked != 800 {
		t.Fatalf("syncs covered %d of %d commits", covered, asked)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = OpenBadger(Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n := 0
	_ = s.View(func(tx Txn) error {
		return tx.Scan([]byte("k/"), ScanOptions{KeysOnly: true}, func(_, _ []byte) error { n++; return nil })
	})
	if n != 800 {
		t.Fatalf("%d keys after reopen", n)
	}
}

// TestTransactionSize: a transaction of SmallWrites small writes commits (the promise
// batched work relies on), and one far over the store's size fails with ErrTooBig and
// writes nothing.
func TestTransactionSize(t *testing.T) {
	s := openTest(t)
	value := bytes.Repeat([]byte("v"), 63)
	write := func(n int, prefix string) error {
		return s.Update(func(tx Txn) error {
			for i := 0; i < n; i++ {
				// keys of 63 bytes
				if err := tx.Set([]byte(fmt.Sprintf("%s/%058d", prefix, i)), value); err != nil {
					return err
				}
			}
			return nil
		})
	}
	tests := []struct {
		name   string
		n      int
		err    error
		stored int
	}{
		{"SmallWrites fit", SmallWrites, nil, SmallWrites},
		{"ten times over", 10 * SmallWrites, ErrTooBig, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("k%d", tc.n)
			if err := write(tc.n, prefix); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var stored int
			_ = s.View(func(tx Txn) error {
				var err error
				stored, err = tx.Count([]byte(prefix + "/"))
				return err
			})
			if stored != tc.stored {
				t.Fatalf("%d keys stored, want %d", stored, tc.stored)
			}
		})
	}
}

func TestOptionsValidation(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
	}{
		{"defaults", Options{}, false},
		{"small value threshold", Options{ValueThreshold: 512}, false},
		{"largest value threshold", Options{ValueThreshold: DefaultValueThreshold}, false},
		{"value threshold too large", Options{ValueThreshold: DefaultValueThreshold + 1}, true},
		{"negative value threshold", Options{ValueThreshold: -1}, true},
		{"value log files too small", Options{ValueLogFileSize: 1 << 19}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.opts.Dir = t.TempDir()
			s, err := OpenBadger(tt.opts)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if s != nil {
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

// TestValueLogGC checks that values kept in the value log (above ValueThreshold) and then
// deleted are collected, by RunGC and every GCInterval: the value-log files shrink.
func TestValueLogGC(t *testing.T) {
	tests := []struct {
		name     string
		interval time.Duration // -1: RunGC is called
	}{
		{"RunGC", -1},
		{"every interval", 20 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { testValueLogGC(t, tt.interval) })
	}
}

func testValueLogGC(t *testing.T, interval time.Duration) {
	dir := t.TempDir()
	opts := Options{Dir: dir, ValueThreshold: 64, ValueLogFileSize: 1 << 20, GCInterval: interval}
	s, err := OpenBadger(opts)
	if err != nil {
		t.Fatal(err)
	}
	// reopen flushes the memtable into a level-0 table.
	reopen := func() {
		t.Helper()
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if s, err = OpenBadger(opts); err != nil {
			t.Fatal(err)
		}
	}
	write := func(from, to int, value []byte) {
		t.Helper()
		err := s.Update(func(tx Txn) error {
			for j := from; j < to; j++ {
				k := []byte(fmt.Sprintf("k/%04d", j))
				if value == nil {
					if err := tx.Delete(k); err != nil {
						return err
					}
				} else if err := tx.Set(k, value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Six level-0 tables, five of values (6.4 MB in 1 MiB value-log files) and one of
	// their deletes: one more than a compaction into level 1 waits for, so that Flatten
	// makes it. The compaction notes what the deletes made garbage, which the collection
	// reads.
	value := make([]byte, 16<<10) // random, so that it is stored uncompressed
	_, _ = rand.NewChaCha8([32]byte{1}).Read(value)
	for i := range 5 {
		write(i*80, i*80+80, value)
		reopen()
	}
	write(0, 400, nil)
	reopen()
	defer func() { _ = s.Close() }()
	if err := s.db.Flatten(1); err != nil {
		t.Fatal(err)
	}
	const written = 400 * 16 << 10
	if interval < 0 {
		if err := s.RunGC(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after := vlogBytes(t, dir)
		if after < written/2 {
			return
		}
		if interval < 0 || time.Now().After(deadline) {
			t.Fatalf("value log still %d bytes after the collection; want less than half of the %d written", after, written)
		}
	}
}

// vlogBytes is the size of the value-log files in dir.
func vlogBytes(t *testing.T, dir string) int64 {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.vlog"))
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		total += fi.Size()
	}
	return total
}

// TestValueCompression checks that values come back as they were set, whether they were
// stored compressed or not, through Get and Scan, and that values written raw (before
// compression existed) still read back.
func TestValueCompression(t *testing.T) {
	s := openTest(t)
	random := make([]byte, 1000)
	_, _ = rand.NewChaCha8([32]byte{2}).Read(random)
	json := bytes.Repeat([]byte(`{"createdAt":"2026-01-01T00:00:00.000Z","title":"x"},`), 20)
	tests := []struct {
		name       string
		value      []byte
		compressed bool
	}{
		{"empty", []byte{}, false},
		{"small", []byte(`{"id":1}`), false},
		{"just below the minimum", json[:compressMin-1], false},
		{"compressible", json, true},
		{"incompressible", random, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := []byte(fmt.Sprintf("c/%d", i))
			if err := s.Update(func(tx Txn) error { return tx.Set(key, tt.value) }); err != nil {
				t.Fatal(err)
			}
			var got, scanned []byte
			var meta byte
			err := s.View(func(tx Txn) error {
				var err error
				if got, err = tx.Get(key); err != nil {
					return err
				}
				item, err := tx.(*badgerTxn).t.Get(key)
				if err != nil {
					return err
				}
				meta = item.UserMeta()
				return tx.Scan(key, ScanOptions{}, func(_, v []byte) error { scanned = v; return nil })
			})
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.value) || !bytes.Equal(scanned, tt.value) {
				t.Fatalf("Get %d bytes, Scan %d bytes, want the %d set", len(got), len(scanned), len(tt.value))
			}
			if (meta&metaSnappy != 0) != tt.compressed {
				t.Fatalf("stored compressed: %v, want %v", meta&metaSnappy != 0, tt.compressed)
			}
		})
	}
	t.Run("written raw before compression", func(t *testing.T) {
		err := s.db.Update(func(txn *badger.Txn) error { return txn.Set([]byte("c/raw"), json) })
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		err = s.View(func(tx Txn) error {
			var err error
			got, err = tx.Get([]byte("c/raw"))
			return err
		})
		if err != nil || !bytes.Equal(got, json) {
			t.Fatalf("got %d bytes (err %v), want %d", len(got), err, len(json))
		}
	})
}

// FuzzValueRoundTrip: whatever a value holds, and whether or not it is stored compressed,
// Get and Scan return it as it was set.
func FuzzValueRoundTrip(f *testing.F) {
	f.Add([]byte(`{"id":1}`))
	f.Add(bytes.Repeat([]byte(`{"createdAt":"2026-01-01T00:00:00.000Z"},`), 10))
	f.Add(make([]byte, compressMin))
	s, err := OpenMemory()
	if err != nil {
		f.Fatal(err)
	}
	defer s.Close()
	f.Fuzz(func(t *testing.T, v []byte) {
		key := []byte("f/value")
		err := s.Update(func(tx Txn) error { return tx.Set(key, v) })
		if errors.Is(err, ErrTooBig) {
			t.Skip("larger than a transaction holds")
		}
		if err != nil {
			t.Fatal(err)
		}
		err = s.View(func(tx Txn) error {
			got, err := tx.Get(key)
			if err != nil {
				return err
			}
			if !bytes.Equal(got, v) {
				t.Fatalf("Get: %d bytes, set %d", len(got), len(v))
			}
			return tx.Scan(key, ScanOptions{}, func(_, scanned []byte) error {
				if !bytes.Equal(scanned, v) {
					t.Fatalf("Scan: %d bytes, set %d", len(scanned), len(v))
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// TestDurableUpdateWaits: in durable mode an Update that wrote waits for an fsync that
// covers it, one that wrote nothing asks for none, and UpdateLazy commits without waiting
// for the fsync it asks for, which a background round then makes.
func TestDurableUpdateWaits(t *testing.T) {
	s, err := OpenBadger(Options{Dir: t.TempDir(), SyncWrites: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	st := s.sync
	counts := func() (asked, covered uint64) {
		st.mu.Lock()
		defer st.mu.Unlock()
		return st.seq, st.done
	}
	set := func(key string) func(Txn) error {
		return func(tx Txn) error { return tx.Set([]byte(key), []byte("v")) }
	}

	t.Run("a write waits for its fsync", func(t *testing.T) {
		if err := s.Update(set("w/1")); err != nil {
			t.Fatal(err)
		}
		if asked, covered := counts(); covered != asked || asked == 0 {
			t.Fatalf("%d commits asked for an fsync, %d covered", asked, covered)
		}
	})
	t.Run("a transaction that wrote nothing asks for no fsync", func(t *testing.T) {
		before, _ := counts()
		err := s.Update(func(tx Txn) error {
			_, err := tx.Has([]byte("w/1"))
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if asked, _ := counts(); asked != before {
			t.Fatalf("a read-only update asked for %d fsyncs", asked-before)
		}
	})
	t.Run("UpdateLazy does not wait for the fsync", func(t *testing.T) {
		entered, release := make(chan struct{}), make(chan struct{})
		var first sync.Once
		st.mu.Lock()
		st.syncFn = func() error {
			first.Do(func() { // the first round only
				close(entered)
				<-release
			})
			return st.syncAll()
		}
		st.mu.Unlock()
		defer func() {
			st.mu.Lock()
			st.syncFn = st.syncAll
			st.mu.Unlock()
		}()
		// The fsync blocks until release: UpdateLazy must return without it.
		done := make(chan error, 1)
		go func() { done <- s.UpdateLazy(set("w/lazy")) }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(20 * time.Second): // a guard, not a timing
			close(release)
			t.Fatal("UpdateLazy waited for the fsync")
		}
		asked, covered := counts()
		if covered >= asked {
			t.Fatalf("covered %d of %d commits before the fsync ran", covered, asked)
		}
		<-entered // the background round started: it covers the lazy commit
		close(release)
		// A waiting Update covers everything committed before it, the lazy commit too.
		if err := s.Update(set("w/2")); err != nil {
			t.Fatal(err)
		}
		if a, c := counts(); c != a {
			t.Fatalf("%d commits asked for an fsync, %d covered", a, c)
		}
		var got []byte
		if err := s.View(func(tx Txn) error { got, err = tx.Get([]byte("w/lazy")); return err }); err != nil || string(got) != "v" {
			t.Fatalf("lazy write reads %q, %v", got, err)
		}
	})
}
