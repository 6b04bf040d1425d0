package runtime

import (
	goruntime "runtime"
	"runtime/metrics"
	"time"
)

const (
	watchInterval = 5 * time.Millisecond
	heapMetric    = "/memory/classes/heap/objects:bytes"
	liveMetric    = "/gc/heap/live:bytes"
	// minCheckInterval spaces the forced collections of a heap that is above the
	// limit with garbage only: a server whose heap swings above the limit
	// between its own collections pays for at most one extra GC per interval.
	minCheckInterval = 50 * time.Millisecond
)

// watch is the memory watchdog. While runs are in flight it samples the
// process heap every 5 ms. A sample counts garbage not yet collected, so a
// heap above MemoryLimit is only a suspicion: the watchdog then forces a GC
// (at most one per minCheckInterval, in the background while it keeps
// sampling) and judges the live heap that GC marked. Live memory above the
// limit cancels the oldest run in flight with ErrMemory. So does any sample
// above 1.5 × MemoryLimit, without waiting for the GC: a forced collection
// of a heap full of Lua tables takes 0.1–1 s, in which a memory bomb keeps
// allocating, while with the default GOGC the heap only gets that far above
// the live heap of the last collection when that live heap was at least
// 0.75 × MemoryLimit. After a cancellation the watchdog waits for the run to
// leave and judges afresh before it may cancel another. gopher-lua has no
// allocator hook, so the heap of the whole process is all there is to watch;
// see doc.go for the ceiling this gives.
func (e *Engine) watch() {
	defer e.watchers.Done()
	sample := []metrics.Sample{{Name: heapMetric}}
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	hard := e.cfg.MemoryLimit + e.cfg.MemoryLimit/2
	var (
		victim    *Run        // cancelled, not yet seen leaving
		checking  chan uint64 // a forced GC in progress; it sends the live heap it marked
		lastCheck time.Time   // start of the last forced GC
		lastLog   time.Time
	)
	for {
		if e.inflight.Load() == 0 {
			if checking != nil {
				<-checking // a verdict on runs that have left
				checking = nil
			}
			select {
			case <-e.done:
				return
			case <-e.wake:
			}
			continue
		}
		select {
		case <-e.done:
			if checking != nil {
				<-checking
			}
			return
		case <-tick.C:
		}
		var live uint64
		judged := false
		if checking != nil {
			select {
			case live = <-checking:
				checking, judged = nil, true
			default:
			}
		}
		metrics.Read(sample)
		e.watchSamples.Add(1)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		heap := sample[0].Value.Uint64()
		if victim != nil {
			if e.inFlight(victim) {
				continue // still unwinding; a verdict from before it left is stale
			}
			victim = nil
			lastCheck = time.Time{} // judge the heap without the victim's memory right away
			continue
		}
		var reason string
		var bytes uint64
		switch {
		case judged && live > e.cfg.MemoryLimit:
			reason, bytes = "live heap above memory limit", live
		case heap > hard:
			reason, bytes = "heap above 1.5 times the memory limit", heap
		case checking == nil && heap > e.cfg.MemoryLimit && time.Since(lastCheck) >= minCheckInterval:
			lastCheck = time.Now()
			checking = make(chan uint64, 1)
			e.watchers.Add(1)
			go e.collect(checking)
			continue
		default:
			continue
		}
		victim = e.oldestRun()
		if victim == nil {
			continue
		}
		victim.ctx.cancelCause(ErrMemory)
		if now := time.Now(); now.Sub(lastLog) > time.Second {
			lastLog = now
			e.logger.Warn("lua run cancelled: "+reason,
				"script", victim.script.name, "heap_bytes", bytes, "limit_bytes", e.cfg.MemoryLimit)
		}
	}
}

// collect forces a GC and sends the live heap it marked.
func (e *Engine) collect(out chan<- uint64) {
	defer e.watchers.Done()
	goruntime.GC()
	e.watchGCs.Add(1)
	live := []metrics.Sample{{Name: liveMetric}}
	metrics.Read(live)
	var n uint64
	if live[0].Value.Kind() == metrics.KindUint64 {
		n = live[0].Value.Uint64()
	}
	out <- n
}

func (e *Engine) inFlight(r *Run) bool {
	found := false
	e.eachWorker(func(w *worker) { found = found || w.cur.Load() == r })
	return found
}

func (e *Engine) oldestRun() *Run {
	var oldest *Run
	e.eachWorker(func(w *worker) {
		if r := w.cur.Load(); r != nil && (oldest == nil || r.start.Before(oldest.start)) {
			oldest = r
		}
	})
	return oldest
}

// eachWorker calls fn for every pooled state, foreground and background.
func (e *Engine) eachWorker(fn func(w *worker)) {
	e.pool.each(fn)
	for _, w := range e.workers {
		fn(w)
	}
}
