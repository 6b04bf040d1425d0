package runtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// idleTrim is how long a foreground state above Config.IdleWorkers may stay idle before
// it is closed.
const idleTrim = 30 * time.Second

// ErrStateWait is wrapped (with ErrTimeout) by the error of a run whose deadline passed
// while it waited for a Lua state: its script never started.
var ErrStateWait = errors.New("timed out waiting for a Lua state")

// pool is the foreground states: built on demand up to Config.Workers, at most
// Config.KeyShare of them held by the runs of one Request.Key, the ones above
// Config.IdleWorkers closed after idleTrim unused. A run that cannot have a state waits
// in FIFO order, but a waiter whose key holds its share lets the ones behind it pass, so
// one slow workflow never holds every state.
type pool struct {
	e                *Engine
	max, keep, share int

	mu      sync.Mutex
	all     []*worker // every state of the pool, idle or lent (the watchdog and Close look at them)
	idle    []*worker // LIFO: idle[0] is the one unused for longest
	byKey   map[string]int
	waiters []*waiter
	lent    sync.WaitGroup // states lent out, for Close
	closed  bool
	trim    *time.Timer
	armed   bool
	// held, when set (by tests), is called with a key and the states its runs then hold
	// whenever that count changes, under mu.
	held func(key string, n int)
}

type waiter struct {
	key string
	ch  chan *worker // buffered: the state handed to it
}

func newPool(e *Engine, max, keep, share int) *pool {
	p := &pool{e: e, max: max, keep: keep, share: share, byKey: map[string]int{}}
	p.trim = time.AfterFunc(time.Hour, func() { p.trimIdle(time.Now()) })
	p.trim.Stop()
	return p
}

// take lends a state to a run of key, waiting until deadline while ctx allows.
func (p *pool) take(ctx context.Context, key string, deadline time.Time) (*worker, error) {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, ErrClosed
	}
	if w := p.grantLocked(key); w != nil {
		p.mu.Unlock()
		return w, nil
	}
	wt := &waiter{key: key, ch: make(chan *worker, 1)}
	p.waiters = append(p.waiters, wt)
	p.mu.Unlock()

	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	var err error
	select {
	case w := <-wt.ch:
		return w, nil
	case <-timer.C:
		err = fmt.Errorf("%w: %w", ErrTimeout, ErrStateWait)
	case <-ctx.Done():
		err = ctxError(ctx)
		if errors.Is(err, ErrTimeout) { // the caller's deadline, which is the run's
			err = fmt.Errorf("%w: %w", ErrTimeout, ErrStateWait)
		}
	case <-p.e.done:
		err = ErrClosed
	}
	p.mu.Lock()
	for i, x := range p.waiters {
		if x == wt {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			break
		}
	}
	p.mu.Unlock()
	select {
	case w := <-wt.ch: // handed over as it gave up: pass it on
		p.give(w, key)
	default:
	}
	return nil, err
}

// grantLocked lends an idle or a new state to a run of key when its key is under its
// share and the pool under its cap; nil otherwise.
func (p *pool) grantLocked(key string) *worker {
	if !p.underShare(key) {
		return nil
	}
	var w *worker
	switch {
	case len(p.idle) > 0:
		w = p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
	case len(p.all) < p.max:
		w = newWorker(p.e)
		p.all = append(p.all, w)
	default:
		return nil
	}
	p.lendLocked(w, key)
	return w
}

func (p *pool) lendLocked(w *worker, key string) {
	p.byKey[key]++
	p.lent.Add(1)
	if p.held != nil {
		p.held(key, p.byKey[key])
	}
}

// give returns a state lent to a run of key: to the first waiter whose key is under its
// share, else to the idle ones.
func (p *pool) give(w *worker, key string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n := p.byKey[key] - 1; n > 0 {
		p.byKey[key] = n
	} else {
		delete(p.byKey, key)
	}
	if p.held != nil {
		p.held(key, p.byKey[key])
	}
	p.lent.Done()
	if p.closed {
		p.idle = append(p.idle, w) // Close closes it
		return
	}
	for i, wt := range p.waiters {
		if p.underShare(wt.key) {
			p.waiters = append(p.waiters[:i], p.waiters[i+1:]...)
			p.lendLocked(w, wt.key)
			wt.ch <- w
			return
		}
	}
	w.idleSince = time.Now()
	p.idle = append(p.idle, w)
	if len(p.all) > p.keep && !p.armed {
		p.armed = true
		p.trim.Reset(idleTrim)
	}
}

// underShare reports whether a run of key may have one more state: the runs without a
// key have no share.
func (p *pool) underShare(key string) bool { return key == "" || p.byKey[key] < p.share }

// tryTake lends an idle state outside the shares (a nested run), or nil.
func (p *pool) tryTake() *worker {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed || len(p.idle) == 0 {
		return nil
	}
	w := p.idle[len(p.idle)-1]
	p.idle = p.idle[:len(p.idle)-1]
	p.lendLocked(w, nestedKey)
	return w
}

// nestedKey is the key nested runs are counted under: they run inside a run that holds
// a state of its key, and never wait.
const nestedKey = "\x00nested"

// trimIdle closes the states above keep that have been idle for idleTrim at now.
func (p *pool) trimIdle(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.armed = false
	if p.closed {
		return
	}
	for len(p.all) > p.keep && len(p.idle) > 0 && now.Sub(p.idle[0].idleSince) >= idleTrim {
		w := p.idle[0]
		p.idle = p.idle[1:]
		for i, x := range p.all {
			if x == w {
				p.all = append(p.all[:i], p.all[i+1:]...)
				break
			}
		}
		w.timer.Stop()
		w.discard()
	}
	if len(p.all) > p.keep && len(p.idle) > 0 {
		p.armed = true
		p.trim.Reset(idleTrim - now.Sub(p.idle[0].idleSince))
	}
}

// states is how many states the pool has, idle or lent.
func (p *pool) states() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.all)
}

// inUse is how many states are lent.
func (p *pool) inUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.byKey {
		n += c
	}
	return n
}

// each calls fn for every state of the pool.
func (p *pool) each(fn func(w *worker)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.all {
		fn(w)
	}
}

// close cancels the runs in flight, waits for their states and closes every state.
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.trim.Stop()
	for _, w := range p.all {
		if r := w.cur.Load(); r != nil {
			r.ctx.cancelCause(ErrCanceled)
		}
	}
	p.mu.Unlock()
	p.lent.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, w := range p.all {
		w.timer.Stop()
		w.discard()
	}
	p.all, p.idle = nil, nil
}
