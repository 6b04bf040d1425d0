package standard

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/store"
)

// TestRestoreCommand: `actionflow restore --data DIR FILE` loads a backup into an empty
// directory and refuses a directory that holds data.
func TestRestoreCommand(t *testing.T) {
	src, err := store.OpenBadger(store.Options{Dir: t.TempDir(), GCInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	if err := src.Update(func(tx store.Txn) error { return tx.Set([]byte("k"), []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if err := src.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	_ = src.Close()
	file := filepath.Join(t.TempDir(), "actionflow.backup")
	if err := os.WriteFile(file, backup.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		name    string
		args    []string
		code    int
		errHave string
	}{
		{"into an empty directory", []string{"restore", "--data", dir, file}, 0, ""},
		{"into a directory with data", []string{"restore", "--data", dir, file}, 1, "not empty"},
		{"without a file", []string{"restore", "--data", dir}, 2, "usage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := Run(tc.args, &out, &errOut); code != tc.code || !strings.Contains(errOut.String(), tc.errHave) {
				t.Fatalf("code %d (want %d), stderr %q", code, tc.code, errOut.String())
			}
		})
	}
	s, err := store.OpenBadger(store.Options{Dir: dir, GCInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []byte
	if err := s.View(func(tx store.Txn) error { got, err = tx.Get([]byte("k")); return err }); err != nil || string(got) != "v" {
		t.Fatalf("restored k = %q, %v", got, err)
	}
}
