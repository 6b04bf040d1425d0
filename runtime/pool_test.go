package runtime

import (
	"context"
	"errors"
	"testing"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// gateModule is the global function gate(): it tells entered that a run holds a state and
// returns when release is closed or the run's context is done.
func gateModule(entered chan<- struct{}, release <-chan struct{}) Module {
	return Module{Name: "gate", Global: true, Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			entered <- struct{}{}
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return 0
		})
	}}
}

// TestStateWaitCountsTowardDeadline: the deadline of a run runs while it waits for a state;
// one that never gets one ends with ErrTimeout and ErrStateWait, its script not started.
func TestStateWaitCountsTowardDeadline(t *testing.T) {
	entered, release := make(chan struct{}, 4), make(chan struct{})
	e := newEngine(t, Config{Workers: 1, Timeout: time.Minute}, gateModule(entered, release))
	hold := mustCompile(t, e, "hold", "gate() return 1")
	done := make(chan *Result, 1)
	go func() { done <- e.Run(context.Background(), Request{Script: hold}) }()
	<-entered // the only state is held
	tests := []struct {
		name    string
		timeout time.Duration
	}{
		{"short timeout", 20 * time.Millisecond},
		{"longer timeout", 30 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Run(context.Background(), Request{Script: mustCompile(t, e, "waits", "never = true return 2"), Timeout: tc.timeout})
			if !errors.Is(res.Err, ErrTimeout) || !errors.Is(res.Err, ErrStateWait) {
				t.Fatalf("err = %v, want ErrTimeout and ErrStateWait", res.Err)
			}
			if res.Output != nil {
				t.Fatalf("output %v of a run that never started", res.Output)
			}
		})
	}
	close(release)
	if res := <-done; res.Err != nil || res.Output != int64(1) {
		t.Fatalf("holding run: %v %v", res.Output, res.Err)
	}
}

// TestKeyShare: the runs of one key hold at most KeyShare states; a run of that key beyond
// it waits (its deadline running) while a run of another key takes a free state.
func TestKeyShare(t *testing.T) {
	entered, release := make(chan struct{}, 8), make(chan struct{})
	e := newEngine(t, Config{Workers: 3, KeyShare: 2, Timeout: time.Minute}, gateModule(entered, release))
	var peak = map[string]int{}
	e.pool.held = func(key string, n int) { peak[key] = max(peak[key], n) } // under pool.mu
	slow := mustCompile(t, e, "slow", "gate() return 'slow'")
	quick := mustCompile(t, e, "quick", "return 'quick'")
	done := make(chan *Result, 2)
	for range 2 {
		go func() { done <- e.Run(context.Background(), Request{Script: slow, Key: "slow"}) }()
	}
	<-entered
	<-entered // "slow" holds its share: 2 of the 3 states
	tests := []struct {
		name    string
		req     Request
		want    any
		waitErr bool
	}{
		{"a third run of the saturated key waits and times out", Request{Script: slow, Key: "slow", Timeout: 50 * time.Millisecond}, nil, true},
		{"a run of another key finds a state", Request{Script: quick, Key: "quick"}, "quick", false},
		{"a run without a key finds a state", Request{Script: quick}, "quick", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.Run(context.Background(), tc.req)
			if tc.waitErr {
				if !errors.Is(res.Err, ErrStateWait) {
					t.Fatalf("err = %v, want ErrStateWait", res.Err)
				}
				return
			}
			if res.Err != nil || res.Output != tc.want {
				t.Fatalf("got %v %v, want %v", res.Output, res.Err, tc.want)
			}
		})
	}
	close(release)
	for range 2 {
		if res := <-done; res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	e.pool.mu.Lock()
	defer e.pool.mu.Unlock()
	if peak["slow"] != 2 {
		t.Fatalf("key slow held at most %d states, want 2", peak["slow"])
	}
}

// TestPoolGrowsAndTrims: foreground states are built on demand up to Workers, and the ones
// above IdleWorkers are closed once idle for idleTrim.
func TestPoolGrowsAndTrims(t *testing.T) {
	entered, release := make(chan struct{}, 8), make(chan struct{})
	e := newEngine(t, Config{Workers: 3, IdleWorkers: 1, Timeout: time.Minute}, gateModule(entered, release))
	hold := mustCompile(t, e, "hold", "gate() return 1")
	if n := e.pool.states(); n != 0 {
		t.Fatalf("%d states before the first run, want 0 (built on demand)", n)
	}
	done := make(chan *Result, 3)
	for range 3 {
		go func() { done <- e.Run(context.Background(), Request{Script: hold}) }()
	}
	for range 3 {
		<-entered
	}
	if n := e.pool.states(); n != 3 {
		t.Fatalf("%d states with 3 runs in flight, want 3", n)
	}
	close(release)
	for range 3 {
		if res := <-done; res.Err != nil {
			t.Fatal(res.Err)
		}
	}
	tests := []struct {
		name string
		at   time.Duration
		want int
	}{
		{"kept while recently used", time.Second, 3},
		{"trimmed to IdleWorkers after idleTrim", idleTrim + time.Second, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.pool.trimIdle(time.Now().Add(tc.at))
			if n := e.pool.states(); n != tc.want {
				t.Fatalf("%d states, want %d", n, tc.want)
			}
		})
	}
	if res := runSrc(t, e, probeSrc, nil); res.Err != nil {
		t.Fatalf("run after trimming: %v", res.Err)
	}
}

// TestReturnBeforeDeadlineResolves: a script whose last call returns as its deadline
// strikes has returned: the run is a success, not a timeout (a write the call committed
// used to be reported as aborted).
func TestReturnBeforeDeadlineResolves(t *testing.T) {
	wait := Module{Name: "until_deadline", Global: true, Open: func(L *lua.LState, r *Run) lua.LValue {
		return L.NewFunction(func(L *lua.LState) int {
			<-r.Context().Done() // the call completes as the deadline passes (a commit that ends late)
			L.Push(lua.LString("written"))
			return 1
		})
	}}
	e := newEngine(t, Config{Workers: 1, Timeout: 20 * time.Millisecond}, wait)
	tests := []struct {
		name    string
		src     string
		want    any
		timeout bool
	}{
		{"returns the call's value", "return until_deadline()", "written", false},
		{"runs on after the call", "local v = until_deadline() local w = v .. '!' return w", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := runSrc(t, e, tc.src, nil)
			if tc.timeout {
				if !errors.Is(res.Err, ErrTimeout) {
					t.Fatalf("err = %v, want ErrTimeout", res.Err)
				}
				return
			}
			if res.Err != nil || res.Output != tc.want {
				t.Fatalf("got %v %v, want %v", res.Output, res.Err, tc.want)
			}
		})
	}
}
