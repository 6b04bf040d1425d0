package runtime

import (
	goruntime "runtime"
	"runtime/metrics"
	"time"
)

const (
	watchInterval = 5 * time.Millisecond
	heapMetric    = "/memory/classes/heap/objects:bytes"
)

// watch is the memory watchdog. While runs are in flight it samples the
// process heap every 5 ms; above MemoryLimit it cancels the oldest run in
// flight with ErrMemory, waits for that run to leave, forces one GC and
// samples again before cancelling the next one. gopher-lua has no allocator
// hook, so the heap of the whole process is all there is to watch; see doc.go
// for the ceiling this gives.
func (e *Engine) watch() {
	defer e.watchers.Done()
	sample := []metrics.Sample{{Name: heapMetric}}
	tick := time.NewTicker(watchInterval)
	defer tick.Stop()
	var victim *Run // cancelled, not yet seen leaving
	var lastLog time.Time
	for {
		if e.inflight.Load() == 0 {
			select {
			case <-e.done:
				return
			case <-e.wake:
			}
			continue
		}
		select {
		case <-e.done:
			return
		case <-tick.C:
		}
		metrics.Read(sample)
		if sample[0].Value.Kind() != metrics.KindUint64 {
			continue
		}
		heap := sample[0].Value.Uint64()
		if heap <= e.cfg.MemoryLimit {
			continue
		}
		if victim != nil {
			if e.inFlight(victim) {
				continue // still unwinding
			}
			victim = nil
			goruntime.GC() // let the victim's garbage go before judging again
			continue
		}
		victim = e.oldestRun()
		if victim == nil {
			continue
		}
		victim.ctx.cancelCause(ErrMemory)
		if now := time.Now(); now.Sub(lastLog) > time.Second {
			lastLog = now
			e.logger.Warn("lua run cancelled: heap above memory limit",
				"script", victim.script.name, "heap_bytes", heap, "limit_bytes", e.cfg.MemoryLimit)
		}
	}
}

func (e *Engine) inFlight(r *Run) bool {
	for _, w := range e.workers {
		if w.cur.Load() == r {
			return true
		}
	}
	return false
}

func (e *Engine) oldestRun() *Run {
	var oldest *Run
	for _, w := range e.workers {
		if r := w.cur.Load(); r != nil && (oldest == nil || r.start.Before(oldest.start)) {
			oldest = r
		}
	}
	return oldest
}
