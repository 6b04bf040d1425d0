package store

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Backuper is a Store that can stream a consistent backup of itself while it serves
// (badger; a PostgreSQL store is backed up with PostgreSQL's own tools).
type Backuper interface {
	// Backup writes a snapshot of every key as of the moment it starts: writes committed
	// before it are in it, later ones are not.
	Backup(w io.Writer) error
}

// ErrNotEmpty is returned by Restore for a data directory that already holds files.
var ErrNotEmpty = errors.New("store: data directory is not empty")

// Backup implements Backuper with badger's full backup (one read transaction, so the
// snapshot is consistent), readable by Restore.
func (b *Badger) Backup(w io.Writer) error {
	if _, err := b.db.Backup(w, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// Restore loads a backup written by Backup into dir, which must be empty or not exist
// (ErrNotEmpty otherwise): restoring over live data would mix two stores.
func Restore(dir string, r io.Reader) error {
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return fmt.Errorf("store: restore: %w", err)
	case len(entries) > 0:
		return fmt.Errorf("store: restore into %q: %w", dir, ErrNotEmpty)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	s, err := OpenBadger(Options{Dir: dir, GCInterval: -1})
	if err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	// 256 pending writes is badger's own command-line default for restores.
	if err := s.db.Load(r, 256); err != nil {
		_ = s.Close()
		return fmt.Errorf("store: restore: load backup: %w", err)
	}
	if err := s.Close(); err != nil {
		return fmt.Errorf("store: restore: %w", err)
	}
	return nil
}

var _ Backuper = (*Badger)(nil)
