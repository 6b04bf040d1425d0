package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/store"
)

func queuePut(t *testing.T, s store.Store, ids []uint64, e store.QueueEntry) {
	t.Helper()
	err := s.Update(func(tx store.Txn) error {
		for _, id := range ids {
			if err := tx.QueuePut(id, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func claimIDs(t *testing.T, s store.Store, owner string, n int, lease time.Duration) []uint64 {
	t.Helper()
	c, err := s.Claim(owner, n, lease)
	if err != nil {
		t.Fatal(err)
	}
	var ids []uint64
	for _, e := range c {
		ids = append(ids, e.ID)
	}
	return ids
}

// waitPast waits until d has passed since start: for a lease to expire (time itself, not
// another goroutine, is what the test waits for).
func waitPast(start time.Time, d time.Duration) {
	for time.Since(start) <= d {
		time.Sleep(d / 4)
	}
}

// testClaimOnce: four owners claim 200 entries concurrently; each is claimed once.
func testClaimOnce(t *testing.T, s store.Store) {
	const n = 200
	ids := make([]uint64, n)
	for i := range ids {
		ids[i] = uint64(i + 1)
	}
	queuePut(t, s, ids, store.QueueEntry{})
	var mu sync.Mutex
	got := map[uint64]int{}
	var wg sync.WaitGroup
	for o := 0; o < 4; o++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			owner := string(rune('a' + o))
			for {
				c, err := s.Claim(owner, 7, time.Hour)
				if err != nil {
					t.Error(err)
					return
				}
				if len(c) == 0 {
					return
				}
				mu.Lock()
				for _, e := range c {
					got[e.ID]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(got) != n {
		t.Fatalf("%d distinct entries claimed, want %d", len(got), n)
	}
	for id, k := range got {
		if k != 1 {
			t.Fatalf("entry %d claimed %d times", id, k)
		}
	}
}

func testLeases(t *testing.T, s store.Store) {
	const short = 300 * time.Millisecond
	t.Run("a rolled-back put is invisible", func(t *testing.T) {
		boom := errors.New("boom")
		err := s.Update(func(tx store.Txn) error {
			if err := tx.QueuePut(100, store.QueueEntry{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if got := claimIDs(t, s, "a", 10, time.Hour); len(got) != 0 {
			t.Fatalf("claimed %v", got)
		}
	})
	t.Run("an expired lease goes to another owner", func(t *testing.T) {
		queuePut(t, s, []uint64{200}, store.QueueEntry{})
		start := time.Now()
		if got := claimIDs(t, s, "a", 10, short); !slices.Equal(got, []uint64{200}) {
			t.Fatalf("a claimed %v", got)
		}
		if got := claimIDs(t, s, "b", 10, time.Hour); len(got) != 0 {
			t.Fatalf("b claimed %v under a's live lease", got)
		}
		waitPast(start, short)
		if got := claimIDs(t, s, "b", 10, time.Hour); !slices.Equal(got, []uint64{200}) {
			t.Fatalf("b claimed %v after a's lease expired", got)
		}
		r, err := s.Renew("a", []uint64{200}, time.Hour)
		if err != nil || !slices.Equal(r.Lost, []uint64{200}) {
			t.Fatalf("a's renew: %+v, %v; want 200 lost", r, err)
		}
		err = s.Update(func(tx store.Txn) error { return tx.QueueDone(200, "a") })
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a's done: %v, want ErrLeaseLost", err)
		}
		done(t, s, 200, "b")
	})
	t.Run("a lost lease cannot finish what another owner finished", func(t *testing.T) {
		queuePut(t, s, []uint64{250}, store.QueueEntry{})
		start := time.Now()
		if got := claimIDs(t, s, "a", 10, short); !slices.Equal(got, []uint64{250}) {
			t.Fatalf("a claimed %v", got)
		}
		waitPast(start, short)
		if got := claimIDs(t, s, "b", 10, time.Hour); !slices.Equal(got, []uint64{250}) {
			t.Fatalf("b claimed %v after a's lease expired", got)
		}
		done(t, s, 250, "b")
		err := s.Update(func(tx store.Txn) error { return tx.QueueDone(250, "a") })
		if !errors.Is(err, store.ErrLeaseLost) {
			t.Fatalf("a's done after b's: %v, want ErrLeaseLost", err)
		}
		done(t, s, 250, "") // without an owner a missing entry is no error
	})
	t.Run("renew keeps the lease", func(t *testing.T) {
		queuePut(t, s, []uint64{300}, store.QueueEntry{})
		start := time.Now()
		if got := claimIDs(t, s, "a", 10, short); !slices.Equal(got, []uint64{300}) {
			t.Fatalf("a claimed %v", got)
		}
		if r, err := s.Renew("a", []uint64{300}, time.Hour); err != nil || len(r.Lost) != 0 {
			t.Fatalf("renew: %+v, %v", r, err)
		}
		waitPast(start, short)
		if got := claimIDs(t, s, "b", 10, time.Hour); len(got) != 0 {
			t.Fatalf("b claimed %v of a's renewed lease", got)
		}
		if err := s.Release("a", []uint64{300}); err != nil {
			t.Fatal(err)
		}
		if got := claimIDs(t, s, "b", 10, time.Hour); !slices.Equal(got, []uint64{300}) {
			t.Fatalf("b claimed %v after a released", got)
		}
		done(t, s, 300, "b")
	})
	t.Run("done removes the entry", func(t *testing.T) {
		queuePut(t, s, []uint64{400}, store.QueueEntry{Owner: "a", Lease: short})
		start := time.Now()
		done(t, s, 400, "a")
		waitPast(start, short)
		if got := claimIDs(t, s, "b", 10, time.Hour); len(got) != 0 {
			t.Fatalf("b claimed %v after done", got)
		}
		err := s.View(func(tx store.Txn) error { _, err := tx.QueueGet(400); return err })
		if !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("get after done: %v", err)
		}
	})
	t.Run("a put with an owner is leased to it", func(t *testing.T) {
		queuePut(t, s, []uint64{500}, store.QueueEntry{Owner: "a", Lease: time.Hour})
		if got := claimIDs(t, s, "b", 10, time.Hour); len(got) != 0 {
			t.Fatalf("b claimed %v", got)
		}
		err := s.View(func(tx store.Txn) error {
			e, err := tx.QueueGet(500)
			if err == nil && (e.Owner != "a" || !e.Live) {
				t.Errorf("entry %+v, want live lease of a", e)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		done(t, s, 500, "a")
	})
	t.Run("the owner sees a cancel", func(t *testing.T) {
		queuePut(t, s, []uint64{600}, store.QueueEntry{Owner: "a", Lease: time.Hour})
		var ok bool
		if err := s.Update(func(tx store.Txn) (err error) { ok, err = tx.QueueCancel(600); return err }); err != nil || !ok {
			t.Fatalf("cancel: %v, %v", ok, err)
		}
		r, err := s.Renew("a", []uint64{600}, time.Hour)
		if err != nil || !slices.Equal(r.Canceled, []uint64{600}) {
			t.Fatalf("renew: %+v, %v; want 600 canceled", r, err)
		}
		if err := s.Update(func(tx store.Txn) (err error) { ok, err = tx.QueueCancel(601); return err }); err != nil || ok {
			t.Fatalf("cancel of nothing: %v, %v", ok, err)
		}
		done(t, s, 600, "a")
	})
	t.Run("not before ready-at", func(t *testing.T) {
		queuePut(t, s, []uint64{700}, store.QueueEntry{ReadyAt: time.Now().Add(time.Hour)})
		if got := claimIDs(t, s, "a", 10, time.Hour); len(got) != 0 {
			t.Fatalf("claimed %v before ready-at", got)
		}
		done(t, s, 700, "")
	})
}

func done(t *testing.T, s store.Store, id uint64, owner string) {
	t.Helper()
	if err := s.Update(func(tx store.Txn) error { return tx.QueueDone(id, owner) }); err != nil {
		t.Fatal(err)
	}
}
