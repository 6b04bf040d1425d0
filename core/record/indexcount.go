package record

import (
	"sync"
	"sync/atomic"
)

// maxCountsPerCollection bounds the counts kept for one collection; past it they are
// forgotten and taken again.
const maxCountsPerCollection = 4096

// indexCounts remembers how many entries a secondary index holds for one value: the
// count of a list filtered on that value, which otherwise walks every entry of the value
// on every request (10k keys for a value held by a tenth of 100k records).
//
// A remembered count is used only when it is exact for the reading transaction, which
// this bookkeeping proves without a lock on the write path of other collections:
//   - a transaction that writes a collection's index entries registers as its writer
//     before it commits, and ends (committed or not) by taking the next value of a global
//     epoch as the collection's lastEnd;
//   - a reading transaction takes the epoch before it opens its snapshot.
//
// If a collection has no writer now and its lastEnd is at most the reader's epoch, every
// write to its indexes committed before the reader's snapshot and none has begun since:
// the snapshot holds the collection's current indexes, whose state lastEnd names. Counts
// are remembered with that name and used by readers that see the same state. Under writes
// to a collection its counts are simply taken from the store, as without this cache.
//
// Only this process's writes are seen, so counts are remembered only while no other process
// writes the store (badger, which one process holds); on a shared store (PostgreSQL) Data
// has no indexCounts (nil), and every count is taken from the store.
type indexCounts struct {
	epoch atomic.Uint64
	mu    sync.Mutex
	colls map[string]*collCounts
}

type collCounts struct {
	writers int            // transactions writing the collection's indexes, not ended
	lastEnd uint64         // epoch at which the last of them ended
	tag     uint64         // the lastEnd that counts were taken at
	counts  map[string]int // index value prefix → entries
}

func newIndexCounts() *indexCounts {
	return &indexCounts{colls: map[string]*collCounts{}}
}

// now is the epoch to give a transaction that is about to open.
func (ic *indexCounts) now() uint64 {
	if ic == nil {
		return 0
	}
	return ic.epoch.Load()
}

// writing registers tx as a writer of coll's indexes, once per transaction attempt; it
// ends when the attempt commits or aborts.
func (ic *indexCounts) writing(tx *Tx, coll string) {
	if ic == nil {
		return
	}
	for _, c := range tx.indexWrites {
		if c == coll {
			return
		}
	}
	tx.indexWrites = append(tx.indexWrites, coll)
	ic.begin(coll)
	end := func() { ic.end(coll) }
	tx.OnCommit(end)
	tx.OnAbort(end)
}

// begin registers a writer of coll's indexes; end must follow once its writes are
// committed or abandoned.
func (ic *indexCounts) begin(coll string) {
	if ic == nil {
		return
	}
	ic.mu.Lock()
	ic.coll(coll).writers++
	ic.mu.Unlock()
}

func (ic *indexCounts) end(coll string) {
	if ic == nil {
		return
	}
	ic.mu.Lock()
	c := ic.coll(coll)
	c.writers--
	c.lastEnd = ic.epoch.Add(1)
	ic.mu.Unlock()
}

func (ic *indexCounts) coll(name string) *collCounts {
	c := ic.colls[name]
	if c == nil {
		c = &collCounts{}
		ic.colls[name] = c
	}
	return c
}

// usable reports whether tx's snapshot holds c's current indexes. Callers hold ic.mu.
func (c *collCounts) usable(tx *Tx) bool {
	return tx.epochKnown && c.writers == 0 && c.lastEnd <= tx.epoch
}

// get returns the remembered count of prefix in coll when it is exact for tx.
func (ic *indexCounts) get(tx *Tx, coll string, prefix []byte) (int, bool) {
	if ic == nil {
		return 0, false
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	c := ic.colls[coll]
	if c == nil {
		return 0, false // nothing remembered
	}
	if !c.usable(tx) || c.tag != c.lastEnd {
		return 0, false
	}
	n, ok := c.counts[string(prefix)]
	return n, ok
}

// put remembers n, the count of prefix in coll that tx's snapshot holds.
func (ic *indexCounts) put(tx *Tx, coll string, prefix []byte, n int) {
	if ic == nil {
		return
	}
	ic.mu.Lock()
	defer ic.mu.Unlock()
	c := ic.coll(coll)
	if !c.usable(tx) {
		return
	}
	if c.tag != c.lastEnd || c.counts == nil || len(c.counts) >= maxCountsPerCollection {
		c.tag, c.counts = c.lastEnd, map[string]int{}
	}
	c.counts[string(prefix)] = n
}
