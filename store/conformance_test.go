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
