package store

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/dgraph-io/badger/v4"
)

// syncer is the group commit of durable mode: an Update that committed waits in wait()
// until an fsync that started after its commit has finished. One fsync covers every commit
// made before it started, so concurrent requests share it: the cost of durability is one
// fsync per round, not one per request.
//
// badger's Sync flushes the active memtable's write-ahead log and the value log. A memtable
// that filled up and was swapped out between a commit and the fsync keeps its own log file
// (<n>.mem) until it is flushed to a table; those files are fsynced here too, once each, so
// that no acknowledged commit depends on a file that was never synced.
type syncer struct {
	db  *badger.DB
	dir string

	mu      sync.Mutex
	cond    *sync.Cond
	seq     uint64 // commits that asked for a sync
	done    uint64 // commits covered by a finished sync
	running bool
	failed  error           // sticky: after a failed fsync nothing is known to be on disk
	synced  map[string]bool // swapped-out memtable logs already fsynced

	syncFn func() error // one round: syncAll (a test may wrap it)

	later  uint64         // commits the background rounds must cover (syncLater)
	bg     bool           // the background goroutine of syncLater runs
	closed bool           // close was called: syncLater starts no goroutine
	bgDone sync.WaitGroup // the background goroutine
}

func newSyncer(db *badger.DB, dir string) *syncer {
	s := &syncer{db: db, dir: dir, synced: map[string]bool{}}
	s.cond = sync.NewCond(&s.mu)
	s.syncFn = s.syncAll
	return s
}

// wait returns once everything committed before the call is on disk.
func (s *syncer) wait() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return s.cover(s.seq)
}

// syncLater asks for an fsync that covers everything committed before the call without
// waiting for it: a background goroutine runs rounds (joining the waiters' ones) until it
// is covered. A failure is sticky, so the next wait returns it.
func (s *syncer) syncLater() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	s.later = s.seq
	if s.bg || s.closed || s.failed != nil {
		return // the running goroutine sees the new s.later before it ends
	}
	s.bg = true
	s.bgDone.Add(1)
	go func() {
		defer s.bgDone.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		for s.done < s.later && s.failed == nil && !s.closed {
			_ = s.cover(s.later)
		}
		s.bg = false
	}()
}

// close stops syncLater's goroutine (after its round) before the database closes, which
// puts everything on disk itself.
func (s *syncer) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.bgDone.Wait()
}

// cover returns, with s.mu held, once the commits numbered up to mine are on disk: it runs
// an fsync round itself whenever none runs.
func (s *syncer) cover(mine uint64) error {
	for s.done < mine && s.failed == nil {
		if s.running {
			s.cond.Wait()
			continue
		}
		s.running = true
		target := s.seq
		s.mu.Unlock()
		err := s.syncFn()
		s.mu.Lock()
		s.running = false
		if err != nil {
			s.failed = fmt.Errorf("store: fsync: %w", err)
		}
		s.done = target
		s.cond.Broadcast()
	}
	return s.failed
}

// syncAll fsyncs badger's logs and any swapped-out memtable log not synced yet.
func (s *syncer) syncAll() error {
	if err := s.db.Sync(); err != nil {
		return err
	}
	entries, err := os.ReadDir(s.dir)
	if err != nil {
		return err
	}
	var mems []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), ".mem") {
			mems = append(mems, e.Name())
		}
	}
	// Numbered files: the highest is the active memtable, synced by db.Sync above.
	sort.Slice(mems, func(i, j int) bool { return memNumber(mems[i]) < memNumber(mems[j]) })
	seen := make(map[string]bool, len(mems))
	for i, name := range mems {
		seen[name] = true
		if i == len(mems)-1 || s.synced[name] {
			continue
		}
		if err := fsyncFile(filepath.Join(s.dir, name)); err != nil {
			return err
		}
		s.synced[name] = true
	}
	for name := range s.synced {
		if !seen[name] {
			delete(s.synced, name) // flushed and removed
		}
	}
	return nil
}

func memNumber(name string) int64 {
	n, _ := strconv.ParseInt(strings.TrimSuffix(name, ".mem"), 10, 64)
	return n
}

func fsyncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if os.IsNotExist(err) {
		return nil // flushed to a table and removed meanwhile: on disk already
	}
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}
