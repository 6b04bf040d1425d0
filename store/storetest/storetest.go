// Package storetest is the conformance suite of store.Store: every backend (badger,
// PostgreSQL) runs Run and must answer alike. Postgres gives tests a fresh PostgreSQL
// schema when ACTIONFLOW_TEST_POSTGRES names a server.
package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/store"
)

// Run runs the conformance suite; open returns a new, empty store, closed by the caller
// (a t.Cleanup of open's).
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"basics", testBasics},
		{"read your writes", testReadYourWrites},
		{"scan", testScan},
		{"scan sees own writes", testScanOwnWrites},
		{"scan pages while the callback writes", testScanWhileWriting},
		{"count", testCount},
		{"isolation", testIsolation},
		{"conflicts lose no update", testConflicts},
		{"conflict retries are counted", testRetryCount},
		{"unique under concurrency", testUnique},
		{"queue claims each item once", testQueue},
		{"execution queue: claims each entry once", testClaimOnce},
		{"execution queue: leases", testLeases},
		{"ttl", testTTL},
		{"sequences", testSequences},
		{"store calls inside transactions", testNested},
		{"size limit", testSizeLimit},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func set(t *testing.T, s store.Store, kv ...string) {
	t.Helper()
	if err := s.Update(func(tx store.Txn) error {
		for i := 0; i+1 < len(kv); i += 2 {
			if err := tx.Set([]byte(kv[i]), []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// get reads key in its own View: the value, or "<none>".
func get(t *testing.T, s store.Store, key string) string {
	t.Helper()
	var out string
	if err := s.View(func(tx store.Txn) error {
		v, err := tx.Get([]byte(key))
		if errors.Is(err, store.ErrNotFound) {
			out = "<none>"
			return nil
		}
		out = string(v)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

func testBasics(t *testing.T, s store.Store) {
	set(t, s, "a/1", "one", "a/2", "two", "e", "")
	boom := errors.New("boom")
	tests := []struct {
		name string
		do   func(tx store.Txn) error
		key  string
		want string
	}{
		{"get", nil, "a/1", "one"},
		{"absent", nil, "a/3", "<none>"},
		{"empty value", nil, "e", ""},
		{"overwrite", func(tx store.Txn) error { return tx.Set([]byte("a/1"), []byte("uno")) }, "a/1", "uno"},
		{"delete", func(tx store.Txn) error { return tx.Delete([]byte("a/2")) }, "a/2", "<none>"},
		{"delete absent", func(tx store.Txn) error { return tx.Delete([]byte("a/9")) }, "a/9", "<none>"},
		{"failed update writes nothing", func(tx store.Txn) error {
			if err := tx.Set([]byte("a/8"), []byte("x")); err != nil {
				return err
			}
			return boom
		}, "a/8", "<none>"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.do != nil {
				if err := s.Update(tc.do); err != nil && !errors.Is(err, boom) {
					t.Fatal(err)
				}
			}
			if got := get(t, s, tc.key); got != tc.want {
				t.Fatalf("%s = %q, want %q", tc.key, got, tc.want)
			}
		})
	}
	t.Run("has", func(t *testing.T) {
		_ = s.View(func(tx store.Txn) error {
			for key, want := range map[string]bool{"a/1": true, "a/2": false, "e": true} {
				if got, err := tx.Has([]byte(key)); err != nil || got != want {
					t.Errorf("Has(%s) = %v, %v; want %v", key, got, err, want)
				}
			}
			return nil
		})
	})
	t.Run("view refuses writes", func(t *testing.T) {
		_ = s.View(func(tx store.Txn) error {
			if err := tx.Set([]byte("v"), []byte("x")); err == nil {
				t.Error("Set in a View succeeded")
			}
			return nil
		})
		if got := get(t, s, "v"); got != "<none>" {
			t.Fatalf("v = %q after a View", got)
		}
	})
	t.Run("values belong to the caller", func(t *testing.T) {
		_ = s.View(func(tx store.Txn) error {
			v, _ := tx.Get([]byte("a/1"))
			copy(v, "XXX")
			return nil
		})
		if got := get(t, s, "a/1"); got != "uno" {
			t.Fatalf("a/1 = %q after changing a returned value", got)
		}
	})
}

func testReadYourWrites(t *testing.T, s store.Store) {
	set(t, s, "k/old", "1", "k/gone", "2")
	err := s.Update(func(tx store.Txn) error {
		if err := errors.Join(tx.Set([]byte("k/new"), []byte("n")), tx.Set([]byte("k/old"), []byte("o")), tx.Delete([]byte("k/gone"))); err != nil {
			return err
		}
		for key, want := range map[string]string{"k/new": "n", "k/old": "o", "k/gone": "<none>"} {
			v, err := tx.Get([]byte(key))
			got := string(v)
			if errors.Is(err, store.ErrNotFound) {
				got = "<none>"
			} else if err != nil {
				return err
			}
			has, err := tx.Has([]byte(key))
			if err != nil {
				return err
			}
			if got != want || has != (want != "<none>") {
				t.Errorf("in the transaction %s = %q (has %v), want %q", key, got, has, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func scanString(t *testing.T, tx store.Txn, prefix string, opts store.ScanOptions, stop int) string {
	t.Helper()
	var got []string
	err := tx.Scan([]byte(prefix), opts, func(k, v []byte) error {
		if opts.KeysOnly {
			if v != nil {
				t.Errorf("value %q in a keys-only scan", v)
			}
			got = append(got, string(k))
		} else {
			got = append(got, string(k)+"="+string(v))
		}
		if stop > 0 && len(got) >= stop {
			return store.StopScan
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprint(got)
}

func testScan(t *testing.T, s store.Store) {
	set(t, s, "p/1", "a", "p/2", "b", "p/3", "c", "p/4", "d", "p/5", "e", "px/1", "no", "o", "no", "p\xff", "no")
	tests := []struct {
		name   string
		prefix string
		opts   store.ScanOptions
		stop   int
		want   string
	}{
		{"forward", "p/", store.ScanOptions{}, 0, "[p/1=a p/2=b p/3=c p/4=d p/5=e]"},
		{"reverse", "p/", store.ScanOptions{Reverse: true}, 0, "[p/5=e p/4=d p/3=c p/2=b p/1=a]"},
		{"start", "p/", store.ScanOptions{Start: []byte("p/3")}, 0, "[p/3=c p/4=d p/5=e]"},
		{"start between keys", "p/", store.ScanOptions{Start: []byte("p/25")}, 0, "[p/3=c p/4=d p/5=e]"},
		{"reverse start", "p/", store.ScanOptions{Reverse: true, Start: []byte("p/3")}, 0, "[p/3=c p/2=b p/1=a]"},
		{"reverse start between keys", "p/", store.ScanOptions{Reverse: true, Start: []byte("p/35")}, 0, "[p/3=c p/2=b p/1=a]"},
		{"stop early", "p/", store.ScanOptions{}, 2, "[p/1=a p/2=b]"},
		{"reverse stop early", "p/", store.ScanOptions{Reverse: true}, 2, "[p/5=e p/4=d]"},
		{"keys only", "p/", store.ScanOptions{KeysOnly: true}, 0, "[p/1 p/2 p/3 p/4 p/5]"},
		{"no match", "q/", store.ScanOptions{}, 0, "[]"},
		{"prefix ending in 0xff", "p\xff", store.ScanOptions{}, 0, "[p\xff=no]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_ = s.View(func(tx store.Txn) error {
				if got := scanString(t, tx, tc.prefix, tc.opts, tc.stop); got != tc.want {
					t.Errorf("got %s, want %s", got, tc.want)
				}
				return nil
			})
		})
	}
	t.Run("callback error", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.View(func(tx store.Txn) error {
			return tx.Scan([]byte("p/"), store.ScanOptions{}, func(k, v []byte) error { return boom })
		})
		if !errors.Is(err, boom) {
			t.Fatalf("err = %v, want boom", err)
		}
	})
}

func testScanOwnWrites(t *testing.T, s store.Store) {
	set(t, s, "p/1", "a", "p/2", "b", "p/3", "c", "p/5", "e")
	tests := []struct {
		name string
		opts store.ScanOptions
		want string
	}{
		{"forward", store.ScanOptions{}, "[p/0=new p/1=a p/3=C p/4=new p/5=e p/6=new]"},
		{"reverse", store.ScanOptions{Reverse: true}, "[p/6=new p/5=e p/4=new p/3=C p/1=a p/0=new]"},
		{"start", store.ScanOptions{Start: []byte("p/2")}, "[p/3=C p/4=new p/5=e p/6=new]"},
		{"reverse start", store.ScanOptions{Reverse: true, Start: []byte("p/4")}, "[p/4=new p/3=C p/1=a p/0=new]"},
		{"keys only", store.ScanOptions{KeysOnly: true}, "[p/0 p/1 p/3 p/4 p/5 p/6]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fail := errors.New("roll back")
			err := s.Update(func(tx store.Txn) error {
				if err := errors.Join(tx.Set([]byte("p/0"), []byte("new")), tx.Set([]byte("p/4"), []byte("new")), tx.Set([]byte("p/6"), []byte("new")),
					tx.Set([]byte("p/3"), []byte("C")), tx.Delete([]byte("p/2")), tx.Set([]byte("px"), []byte("no"))); err != nil {
					return err
				}
				if got := scanString(t, tx, "p/", tc.opts, 0); got != tc.want {
					t.Errorf("got %s, want %s", got, tc.want)
				}
				return fail
			})
			if !errors.Is(err, fail) {
				t.Fatal(err)
			}
		})
	}
}

// testScanWhileWriting scans more keys than a page of any backend while the callback
// reads and writes the same transaction; keys written during the scan are not visited.
func testScanWhileWriting(t *testing.T, s store.Store) {
	const n = 700
	err := s.Update(func(tx store.Txn) error {
		for i := 0; i < n; i++ {
			if err := tx.Set(fmt.Appendf(nil, "q/%04d", i), []byte(strconv.Itoa(i))); err != nil {
				return err
			}
		}
		return tx.Set([]byte("qa"), []byte("read while scanning"))
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, reverse := range []bool{false, true} {
		t.Run(fmt.Sprintf("reverse=%v", reverse), func(t *testing.T) {
			var visited []string
			err := s.Update(func(tx store.Txn) error {
				visited = visited[:0]
				return tx.Scan([]byte("q/"), store.ScanOptions{Reverse: reverse}, func(k, v []byte) error {
					visited = append(visited, string(k))
					if _, err := tx.Get([]byte("qa")); err != nil {
						return err
					}
					// a copy of each key elsewhere, one new key ahead in the scan, and
					// the key itself deleted
					if err := tx.Set(append([]byte("c/"), k...), v); err != nil {
						return err
					}
					if err := tx.Set(append(bytes.Clone(k), 'x'), v); err != nil {
						return err
					}
					return tx.Delete(k)
				})
			})
			if err != nil {
				t.Fatal(err)
			}
			if len(visited) != n || !slices.IsSortedFunc(visited, func(a, b string) int {
				if reverse {
					return -bytes.Compare([]byte(a), []byte(b))
				}
				return bytes.Compare([]byte(a), []byte(b))
			}) {
				t.Fatalf("visited %d keys (want %d, in order): %v...", len(visited), n, visited[:min(len(visited), 5)])
			}
			_ = s.View(func(tx store.Txn) error {
				copies, _ := tx.Count([]byte("c/q/"))
				left, _ := tx.Count([]byte("q/"))
				if copies != n || left != n {
					t.Errorf("after the scan: %d copies, %d keys under q/; want %d and %d", copies, left, n, n)
				}
				return nil
			})
			// put the keys back for the next direction
			err = s.Update(func(tx store.Txn) error {
				return tx.Scan([]byte("q/"), store.ScanOptions{}, func(k, v []byte) error {
					return errors.Join(tx.Delete(k), tx.Set(k[:len(k)-1], v), tx.Delete(append([]byte("c/"), k[:len(k)-1]...)))
				})
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
}

func testCount(t *testing.T, s store.Store) {
	set(t, s, "c/1", "", "c/2", "", "c/3", "", "cx", "", "b", "")
	tests := []struct {
		name string
		do   func(tx store.Txn) error
		want int
	}{
		{"stored", func(tx store.Txn) error { return nil }, 3},
		{"new key", func(tx store.Txn) error { return tx.Set([]byte("c/4"), nil) }, 4},
		{"overwrite", func(tx store.Txn) error { return tx.Set([]byte("c/1"), []byte("x")) }, 3},
		{"delete", func(tx store.Txn) error { return tx.Delete([]byte("c/2")) }, 2},
		{"delete absent", func(tx store.Txn) error { return tx.Delete([]byte("c/9")) }, 3},
		{"set then delete", func(tx store.Txn) error {
			return errors.Join(tx.Set([]byte("c/5"), nil), tx.Delete([]byte("c/5")))
		}, 3},
		{"outside the prefix", func(tx store.Txn) error { return tx.Set([]byte("cy"), nil) }, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fail := errors.New("roll back")
			err := s.Update(func(tx store.Txn) error {
				if err := tc.do(tx); err != nil {
					return err
				}
				n, err := tx.Count([]byte("c/"))
				if err != nil {
					return err
				}
				if n != tc.want {
					t.Errorf("count = %d, want %d", n, tc.want)
				}
				return fail
			})
			if !errors.Is(err, fail) {
				t.Fatal(err)
			}
		})
	}
	t.Run("view", func(t *testing.T) {
		_ = s.View(func(tx store.Txn) error {
			if n, err := tx.Count([]byte("c/")); n != 3 || err != nil {
				t.Errorf("count = %d, %v; want 3", n, err)
			}
			return nil
		})
	})
}

func testIsolation(t *testing.T, s store.Store) {
	set(t, s, "i", "old")
	t.Run("uncommitted writes are invisible", func(t *testing.T) {
		written, release := make(chan struct{}), make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- s.Update(func(tx store.Txn) error {
				if err := tx.Set([]byte("i"), []byte("new")); err != nil {
					return err
				}
				select {
				case <-written: // a retry: already signalled
				default:
					close(written)
				}
				<-release
				return nil
			})
		}()
		<-written
		if got := get(t, s, "i"); got != "old" {
			t.Errorf("a reader sees %q before the commit", got)
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := get(t, s, "i"); got != "new" {
			t.Fatalf("after the commit i = %q", got)
		}
	})
	t.Run("a view reads one snapshot", func(t *testing.T) {
		err := s.View(func(tx store.Txn) error {
			if v, err := tx.Get([]byte("i")); err != nil || string(v) != "new" {
				return fmt.Errorf("first read: %q, %v", v, err)
			}
			set(t, s, "i", "newer", "j", "new key")
			v, err := tx.Get([]byte("i"))
			if err != nil || string(v) != "new" {
				t.Errorf("second read in the same view: %q, %v; want the snapshot's \"new\"", v, err)
			}
			if ok, _ := tx.Has([]byte("j")); ok {
				t.Error("a key committed after the view began is visible")
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// increment adds one to the decimal counter at key.
func increment(tx store.Txn, key []byte) error {
	v, err := tx.Get(key)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	n := 0
	if len(v) > 0 {
		if n, err = strconv.Atoi(string(v)); err != nil {
			return err
		}
	}
	return tx.Set(key, []byte(strconv.Itoa(n+1)))
}

func testConflicts(t *testing.T, s store.Store) {
	const goroutines, each = 6, 15
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := s.Update(func(tx store.Txn) error { return increment(tx, []byte("counter")) }); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if got, want := get(t, s, "counter"), strconv.Itoa(goroutines*each); got != want {
		t.Fatalf("counter = %s, want %s: a conflicting update was lost", got, want)
	}
}

// testRetryCount makes one Update conflict for sure: it reads a key, another Update
// writes that key and commits, then the first one writes it. Its commit conflicts (badger)
// or fails to serialize (PostgreSQL), it runs again, and the store counts the retry; an
// Update that meets no conflict counts none.
func testRetryCount(t *testing.T, s store.Store) {
	rc, ok := s.(store.RetryCounter)
	if !ok {
		t.Fatalf("%T does not count its conflict retries (store.RetryCounter)", s)
	}
	set(t, s, "r", "0")
	before := rc.ConflictRetries()
	set(t, s, "r", "0")
	if n := rc.ConflictRetries() - before; n != 0 {
		t.Fatalf("an Update without a conflict counted %d retries", n)
	}
	read, written := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	runs := 0
	go func() {
		done <- s.Update(func(tx store.Txn) error {
			runs++
			if _, err := tx.Get([]byte("r")); err != nil {
				return err
			}
			if runs == 1 {
				close(read)
				<-written
			}
			return increment(tx, []byte("r"))
		})
	}()
	<-read
	set(t, s, "r", "10")
	close(written)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if runs < 2 {
		t.Fatalf("the conflicting Update ran %d times, want at least 2", runs)
	}
	if got := rc.ConflictRetries() - before; got < 1 || got != uint64(runs-1) {
		t.Errorf("ConflictRetries went up by %d, want %d (the conflicting Update ran %d times)", got, runs-1, runs)
	}
	if got := get(t, s, "r"); got != "11" {
		t.Errorf("r = %s, want 11", got)
	}
}

func testUnique(t *testing.T, s store.Store) {
	const goroutines = 8
	errTaken := errors.New("taken")
	var wg sync.WaitGroup
	results := make([]error, goroutines)
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[g] = s.Update(func(tx store.Txn) error {
				taken, err := tx.Has([]byte("u/alice"))
				if err != nil {
					return err
				}
				if taken {
					return errTaken
				}
				return errors.Join(tx.Set([]byte("u/alice"), []byte(strconv.Itoa(g))), tx.Set(fmt.Appendf(nil, "r/%d", g), nil))
			})
		}()
	}
	wg.Wait()
	winner := -1
	for g, err := range results {
		switch {
		case err == nil && winner >= 0:
			t.Fatalf("goroutines %d and %d both took the unique value", winner, g)
		case err == nil:
			winner = g
		case !errors.Is(err, errTaken):
			t.Fatalf("goroutine %d: %v", g, err)
		}
	}
	if winner < 0 {
		t.Fatal("no goroutine took the unique value")
	}
	if got := get(t, s, "u/alice"); got != strconv.Itoa(winner) {
		t.Fatalf("u/alice = %s, want the winner %d", got, winner)
	}
	_ = s.View(func(tx store.Txn) error {
		if n, _ := tx.Count([]byte("r/")); n != 1 {
			t.Errorf("%d records written, want 1", n)
		}
		return nil
	})
}

// testQueue: producers append items under a prefix (keys from NextID), consumers claim the
// first item by deleting it; every item is claimed exactly once.
func testQueue(t *testing.T, s store.Store) {
	const items, consumers = 60, 4
	var wg sync.WaitGroup
	for p := 0; p < 2; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < items/2; i++ {
				id, err := s.NextID("queue")
				if err != nil {
					t.Error(err)
					return
				}
				if err := s.Update(func(tx store.Txn) error {
					return tx.Set(append([]byte("q/"), store.EncodeID(id)...), []byte(strconv.FormatUint(id, 10)))
				}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var mu sync.Mutex
	claimed := map[string]int{}
	var claimedTotal int
	for c := 0; c < consumers; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				finished := claimedTotal >= items
				mu.Unlock()
				if finished {
					return
				}
				var got string
				err := s.Update(func(tx store.Txn) error {
					got = ""
					return tx.Scan([]byte("q/"), store.ScanOptions{}, func(k, v []byte) error {
						got = string(v)
						if err := tx.Delete(k); err != nil {
							return err
						}
						return store.StopScan
					})
				})
				if err != nil {
					t.Error(err)
					return
				}
				if got != "" {
					mu.Lock()
					claimed[got]++
					claimedTotal++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if len(claimed) != items {
		t.Fatalf("%d distinct items claimed, want %d", len(claimed), items)
	}
	for item, n := range claimed {
		if n != 1 {
			t.Fatalf("item %s claimed %d times", item, n)
		}
	}
}

func testTTL(t *testing.T, s store.Store) {
	err := s.Update(func(tx store.Txn) error {
		return errors.Join(
			tx.SetTTL([]byte("t/short"), []byte("s"), time.Second),
			tx.SetTTL([]byte("t/long"), []byte("l"), time.Hour),
			tx.Set([]byte("t/plain"), []byte("p")))
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, s, "t/long"); got != "l" {
		t.Fatalf("t/long = %q right after the write", got)
	}
	// Poll until the short key expires (a guard, not a timing).
	deadline := time.Now().Add(30 * time.Second)
	for get(t, s, "t/short") != "<none>" {
		if time.Now().After(deadline) {
			t.Fatal("a key with a TTL of 1s is still there after 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = s.View(func(tx store.Txn) error {
		if ok, _ := tx.Has([]byte("t/short")); ok {
			t.Error("Has sees an expired key")
		}
		if n, _ := tx.Count([]byte("t/")); n != 2 {
			t.Errorf("count = %d with an expired key, want 2", n)
		}
		if got := scanString(t, tx, "t/", store.ScanOptions{}, 0); got != "[t/long=l t/plain=p]" {
			t.Errorf("scan = %s, want the live keys", got)
		}
		return nil
	})
	t.Run("set again after expiry", func(t *testing.T) {
		set(t, s, "t/short", "again")
		if got := get(t, s, "t/short"); got != "again" {
			t.Fatalf("t/short = %q", got)
		}
	})
	t.Run("overwrite drops the ttl", func(t *testing.T) {
		err := s.Update(func(tx store.Txn) error {
			return errors.Join(tx.SetTTL([]byte("t/x"), []byte("1"), time.Second), tx.Set([]byte("t/y"), []byte("1")))
		})
		if err != nil {
			t.Fatal(err)
		}
		set(t, s, "t/x", "kept")
		err = s.Update(func(tx store.Txn) error { return tx.SetTTL([]byte("t/y"), []byte("2"), time.Second) })
		if err != nil {
			t.Fatal(err)
		}
		for get(t, s, "t/y") != "<none>" {
			if time.Now().After(deadline.Add(30 * time.Second)) {
				t.Fatal("t/y did not expire")
			}
			time.Sleep(50 * time.Millisecond)
		}
		if got := get(t, s, "t/x"); got != "kept" {
			t.Fatalf("t/x = %q after its TTL passed: a plain Set must drop the TTL", got)
		}
	})
}

func testSequences(t *testing.T, s store.Store) {
	const goroutines, each = 4, 300
	ids := make([][]uint64, goroutines)
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				id, err := s.NextID("seq")
				if err != nil {
					t.Error(err)
					return
				}
				ids[g] = append(ids[g], id)
			}
		}()
	}
	wg.Wait()
	seen := map[uint64]bool{}
	for g, list := range ids {
		if !slices.IsSorted(list) {
			t.Errorf("goroutine %d got IDs out of order", g)
		}
		for _, id := range list {
			if id == 0 || seen[id] {
				t.Fatalf("id %d handed out twice (or zero)", id)
			}
			seen[id] = true
		}
	}
	if !seen[1] {
		t.Error("the first ID is not 1")
	}
	if id, err := s.NextID("other"); err != nil || id != 1 {
		t.Fatalf("first ID of another sequence = %d, %v; want 1", id, err)
	}
}

func testSizeLimit(t *testing.T, s store.Store) {
	value := bytes.Repeat([]byte("v"), 63)
	tests := []struct {
		name   string
		n      int
		del    bool
		err    error
		stored int
	}{
		{"SmallWrites fit", store.SmallWrites, false, nil, store.SmallWrites},
		{"SmallWrites deletes fit", store.SmallWrites, true, nil, 0},
		{"ten times over", 10 * store.SmallWrites, false, store.ErrTooBig, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prefix := fmt.Sprintf("z%d", tc.n)
			err := s.Update(func(tx store.Txn) error {
				for i := 0; i < tc.n; i++ {
					key := fmt.Appendf(nil, "%s/%058d", prefix, i) // 63 bytes
					if tc.del {
						if err := tx.Delete(key); err != nil {
							return err
						}
					} else if err := tx.Set(key, value); err != nil {
						return err
					}
				}
				return nil
			})
			if !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
			var stored int
			_ = s.View(func(tx store.Txn) error {
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

// testNested: NextID and View called from inside many concurrent Updates (core takes record
// IDs in its transactions, the Lua db module reads in a View during a pre-action
// transaction) must not wait forever for a connection the Updates hold.
func testNested(t *testing.T, s store.Store) {
	const goroutines, each = 80, 3
	var wg sync.WaitGroup
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Update(func(tx store.Txn) error {
					id, err := s.NextID(fmt.Sprintf("nested%d", i))
					if err != nil {
						return err
					}
					if err := s.View(func(v store.Txn) error {
						_, err := v.Has([]byte("n/0"))
						return err
					}); err != nil {
						return err
					}
					return tx.Set(fmt.Appendf(nil, "n/%d/%d", i, id), nil)
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	_ = s.View(func(tx store.Txn) error {
		if n, _ := tx.Count([]byte("n/")); n != goroutines*each {
			t.Errorf("%d keys written, want %d", n, goroutines*each)
		}
		return nil
	})
}
