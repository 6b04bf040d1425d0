package runtime

import (
	"context"
	"errors"
	"log/slog"
	goruntime "runtime"
	"runtime/debug"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// TestWatchdogJudgesLiveHeap starts a benign run while Go code outside Lua has filled
// the heap past the memory limit, and checks that only live memory cancels the run:
// garbage the process has not collected yet (here: automatic GC is off) must not,
// unless the heap is past 1.5 times the limit, where the watchdog does not wait for a GC.
func TestWatchdogJudgesLiveHeap(t *testing.T) {
	const limit = 64 << 20
	cases := []struct {
		name string
		heap uint64 // heap to reach with allocations outside Lua before the run
		live bool   // keep those allocations reachable
		want error
	}{
		{"garbage above the limit", limit + limit/4, false, nil},
		{"live memory above the limit", limit + limit/4, true, ErrMemory},
		{"garbage above 1.5 times the limit", 2 * limit, false, ErrMemory},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			hold := Module{Name: "hold", Open: func(L *lua.LState, r *Run) lua.LValue {
				return L.NewFunction(func(L *lua.LState) int {
					select {
					case <-release:
					case <-r.Context().Done():
					}
					return 0
				})
			}}
			logs := &lockedBuilder{}
			e := newEngine(t, Config{Workers: 1, Timeout: time.Minute, MemoryLimit: limit,
				Logger: slog.New(slog.NewTextHandler(logs, nil))}, hold)
			s := mustCompile(t, e, "benign", `require("hold")() return 1`)

			goruntime.GC()
			defer debug.SetGCPercent(debug.SetGCPercent(-1))
			sample := []metrics.Sample{{Name: heapMetric}}
			var ballast [][]byte
			for metrics.Read(sample); sample[0].Value.Uint64() < tc.heap; metrics.Read(sample) {
				b := make([]byte, 1<<20)
				if tc.live {
					ballast = append(ballast, b)
				}
			}
			gcs := e.watchGCs.Load()
			done := make(chan *Result, 1)
			go func() { done <- e.Run(context.Background(), Request{Script: s}) }()

			var res *Result
			wait := func(cond func() bool) {
				for res == nil && !cond() {
					select {
					case res = <-done:
					case <-time.After(time.Millisecond):
					}
				}
			}
			// Until the watchdog has forced a GC (or ended the run), then a few more
			// samples with the run still in flight, then let it finish.
			wait(func() bool { return e.watchGCs.Load() > gcs })
			n := e.watchSamples.Load() + 3
			wait(func() bool { return e.watchSamples.Load() >= n })
			close(release)
			if res == nil {
				res = <-done
			}
			goruntime.KeepAlive(ballast)
			if !errors.Is(res.Err, tc.want) || (tc.want == nil && res.Err != nil) {
				t.Fatalf("err = %v, want %v; watchdog log: %s", res.Err, tc.want, logs)
			}
			if tc.want == nil && res.Output != int64(1) {
				t.Fatalf("output = %v", res.Output)
			}
		})
	}
}

// lockedBuilder is a strings.Builder safe for a logger writing from another goroutine.
type lockedBuilder struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuilder) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuilder) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
