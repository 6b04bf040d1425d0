package store_test

import (
	"errors"
	"testing"
	"time"

	"github.com/actionflow/actionflow/store"
	"github.com/actionflow/actionflow/store/storetest"
)

func TestConformance(t *testing.T) {
	backends := []struct {
		name string
		open func(t *testing.T) (store.Store, error)
	}{
		{"badger in memory", func(t *testing.T) (store.Store, error) { return store.OpenMemory() }},
		{"badger on disk", func(t *testing.T) (store.Store, error) {
			return store.OpenBadger(store.Options{Dir: t.TempDir(), SyncWrites: true})
		}},
		{"postgres", func(t *testing.T) (store.Store, error) {
			return store.OpenPostgres(storetest.Postgres(t), store.PostgresOptions{})
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, func(t *testing.T) store.Store {
				s, err := b.open(t)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() {
					if err := s.Close(); err != nil {
						t.Error(err)
					}
				})
				return s
			})
		})
	}
}

// TestPostgresGetLatest: the one-statement read outside a transaction sees what committed,
// and neither a missing nor an expired key.
func TestPostgresGetLatest(t *testing.T) {
	s, err := store.OpenPostgres(storetest.Postgres(t), store.PostgresOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	err = s.Update(func(tx store.Txn) error {
		if err := tx.Set([]byte("k"), []byte("v1")); err != nil {
			return err
		}
		return tx.SetTTL([]byte("gone"), []byte("x"), time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := s.GetLatest([]byte("k")); err != nil || string(v) != "v1" {
		t.Fatalf("k: %q, %v", v, err)
	}
	if _, err := s.GetLatest([]byte("missing")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := s.GetLatest([]byte("gone"))
		if errors.Is(err, store.ErrNotFound) {
			break
		}
		if err != nil || time.Now().After(deadline) {
			t.Fatalf("expired key still read after 10 s: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
