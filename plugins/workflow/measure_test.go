package workflow

import (
	"context"
	"os"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestMeasureFairness is the measurement of README's "Fairness" paragraph, skipped unless
// ACTIONFLOW_MEASURE_FAIRNESS is set: 50 concurrent runs of a slow sync workflow (a busy
// loop, timeout 3 s) and, meanwhile, 20 runs one after another of an unrelated quick one,
// with the default Lua engine configuration. It logs answer-time max and p99 of both.
//
//	ACTIONFLOW_MEASURE_FAIRNESS=1 go test -run TestMeasureFairness -v ./plugins/workflow/
func TestMeasureFairness(t *testing.T) {
	if os.Getenv("ACTIONFLOW_MEASURE_FAIRNESS") == "" {
		t.Skip("set ACTIONFLOW_MEASURE_FAIRNESS=1 to measure")
	}
	e := New(Config{SweepInterval: time.Hour})
	s := coretest.New(t, core.Config{}, core.WithPlugins(e, testTriggerPlugin{e}))
	wfs := map[string]*Workflow{}
	for key, script := range map[string]string{"slow": `local x = 0 while true do x = x + 1 end`, "quick": `return 1`} {
		wfs[key] = testWorkflow(t, s, e, map[string]any{"title": key, "key": key, "enabled": true,
			"script": script, "options": map[string]any{"timeout": 3000}})
	}
	run := func(key string) (time.Duration, int) {
		start := time.Now()
		out, err := e.RunSync(context.Background(), Event{Workflow: wfs[key], Context: map[string]any{}})
		if err != nil {
			t.Error(err)
			return time.Since(start), 0
		}
		return time.Since(start), out.Status()
	}
	var mu sync.Mutex
	var slow, quick []time.Duration
	statuses := map[string]map[int]int{"slow": {}, "quick": {}}
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d, st := run("slow")
			mu.Lock()
			slow = append(slow, d)
			statuses["slow"][st]++
			mu.Unlock()
		}()
	}
	for range 20 {
		d, st := run("quick")
		quick = append(quick, d)
		statuses["quick"][st]++
	}
	wg.Wait()
	for name, ds := range map[string][]time.Duration{"slow": slow, "quick": quick} {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		p99 := ds[(len(ds)*99+99)/100-1]
		t.Logf("%s: %d runs, max %v, p99 %v, median %v, statuses %v", name, len(ds), ds[len(ds)-1].Round(time.Millisecond),
			p99.Round(time.Millisecond), ds[len(ds)/2].Round(time.Millisecond), statuses[name])
	}
}
