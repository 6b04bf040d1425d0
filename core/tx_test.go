package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/store"
)

func TestUpdateCommitAndAbortCallbacks(t *testing.T) {
	s := coretest.New(t, core.Config{})
	key := []byte("p/test/conflict")
	tests := []struct {
		name    string
		fail    bool // fn returns an error
		clash   bool // another write of key commits during the first attempt
		commits []int
		aborts  []int
	}{
		{"commits first time", false, false, []int{1}, nil},
		{"conflict retried", false, true, []int{2}, []int{1}},
		{"error", true, false, nil, []int{1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var commits, aborts []int
			attempt := 0
			err := s.App.Update(context.Background(), func(tx *core.Tx) error {
				attempt++
				n := attempt
				tx.OnCommit(func() { commits = append(commits, n) })
				tx.OnAbort(func() { aborts = append(aborts, n) })
				if _, err := tx.Get(key); err != nil && !errors.Is(err, store.ErrNotFound) {
					return err
				}
				if tc.clash && n == 1 {
					if err := s.App.Update(context.Background(), func(other *core.Tx) error { return other.Set(key, []byte("other")) }); err != nil {
						return err
					}
				}
				if tc.fail {
					return errors.New("no")
				}
				return tx.Set(key, []byte("mine"))
			})
			if (err != nil) != tc.fail {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(commits, tc.commits) || !slices.Equal(aborts, tc.aborts) {
				t.Fatalf("commits %v aborts %v, want %v and %v", commits, aborts, tc.commits, tc.aborts)
			}
		})
	}
}
