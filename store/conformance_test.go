package store_test

import (
	"testing"

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

// TestPostgresIDsIncreaseAcrossNodes: two stores on one database (two nodes) hand out the
// IDs of a sequence in the order they are asked for, whichever asks, as API.md promises a
// record's id increases.
func TestPostgresIDsIncreaseAcrossNodes(t *testing.T) {
	url := storetest.Postgres(t)
	var nodes [2]store.Store
	for i := range nodes {
		s, err := store.OpenPostgres(url, store.PostgresOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		nodes[i] = s
	}
	var last uint64
	for i := range 10 {
		id, err := nodes[i%2].NextID("posts")
		if err != nil {
			t.Fatal(err)
		}
		if id <= last {
			t.Fatalf("call %d (node %d): id %d after %d", i, i%2, id, last)
		}
		last = id
	}
}
