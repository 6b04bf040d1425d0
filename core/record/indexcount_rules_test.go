package record

import "testing"

// TestIndexCountsRules: a count is remembered and used only by transactions whose
// snapshot holds the collection's current indexes.
func TestIndexCountsRules(t *testing.T) {
	prefix := []byte("i/posts/categoryId/1/")
	reader := func(ic *indexCounts) *Tx { return &Tx{epoch: ic.now(), epochKnown: true} }
	cases := []struct {
		name string
		// run prepares ic and returns the transaction that puts and the one that gets.
		run     func(ic *indexCounts) (put, get *Tx)
		wantHit bool
	}{
		{"no writes", func(ic *indexCounts) (*Tx, *Tx) { return reader(ic), reader(ic) }, true},
		{"a write ended before both", func(ic *indexCounts) (*Tx, *Tx) {
			ic.begin("posts")
			ic.end("posts")
			return reader(ic), reader(ic)
		}, true},
		{"another collection's writer in flight", func(ic *indexCounts) (*Tx, *Tx) {
			ic.begin("tags")
			return reader(ic), reader(ic)
		}, true},
		{"a writer in flight", func(ic *indexCounts) (*Tx, *Tx) {
			ic.begin("posts")
			return reader(ic), reader(ic)
		}, false},
		{"a write ended between put and get", func(ic *indexCounts) (*Tx, *Tx) {
			put := reader(ic)
			ic.begin("posts")
			ic.end("posts")
			return put, reader(ic)
		}, false},
		{"the getter's snapshot is older than the last write", func(ic *indexCounts) (*Tx, *Tx) {
			get := reader(ic)
			ic.begin("posts")
			ic.end("posts")
			return reader(ic), get
		}, false},
		{"unknown epoch", func(ic *indexCounts) (*Tx, *Tx) { return &Tx{}, &Tx{} }, false},
		{"a transaction's own write, then its end", func(ic *indexCounts) (*Tx, *Tx) {
			w := reader(ic)
			ic.writing(w, "posts")
			ic.writing(w, "posts") // once per transaction
			for _, f := range w.onCommit {
				f()
			}
			return reader(ic), reader(ic)
		}, true},
		{"an aborted write ends too", func(ic *indexCounts) (*Tx, *Tx) {
			w := reader(ic)
			ic.writing(w, "posts")
			for _, f := range w.onAbort {
				f()
			}
			return reader(ic), reader(ic)
		}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ic := newIndexCounts()
			put, get := c.run(ic)
			ic.put(put, "posts", prefix, 42)
			n, hit := ic.get(get, "posts", prefix)
			if hit != c.wantHit || (hit && n != 42) {
				t.Fatalf("get: %d, %v; want hit %v", n, hit, c.wantHit)
			}
		})
	}
}
