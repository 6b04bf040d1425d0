package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fairness workload (W6) settings: as many requests to a slow sync workflow as the issue
// that asked for the fairness rule sent, each running until its timeout, and meanwhile
// one request after another bound to an unrelated quick sync workflow.
const (
	fairSlowRequests  = 50
	fairQuickRequests = 20
	fairSlowTimeoutMS = 3000
	fairHeadStart     = 300 * time.Millisecond
)

// fairnessWorkload is W6: 50 concurrent creates bound to a sync workflow that loops until
// its 3 s timeout, and meanwhile 20 creates one after another bound to a quick sync
// workflow. It reports when each kind was answered: with fair Lua states the slow ones
// answer (500, the timeout) just after 3 s and the quick ones in milliseconds.
func (s *session) fairnessWorkload(ctx context.Context, name string) (result, error) {
	coll := s.run + "_" + name
	def := map[string]any{"name": coll, "fields": []map[string]any{{"name": "title", "type": "string"}}}
	if _, err := s.c.call(ctx, "POST", "/api/collections:create", s.root, def); err != nil {
		return result{}, fmt.Errorf("make collection: %w", err)
	}
	keys := map[string]string{}
	for kind, script := range map[string]string{"slow": "local x = 0\nwhile true do x = x + 1 end", "quick": "return 1"} {
		wf := map[string]any{
			"title": "bench " + name + " " + kind, "type": "action", "sync": true, "enabled": true,
			"config": map[string]any{"collection": coll}, "options": map[string]any{"timeout": fairSlowTimeoutMS}, "script": script,
		}
		var out struct {
			Key string `json:"key"`
		}
		if _, err := s.c.callInto(ctx, "POST", "/api/workflows:create", s.root, wf, &out); err != nil {
			return result{}, fmt.Errorf("make workflow: %w", err)
		}
		keys[kind] = out.Key
	}
	// A client of its own: every slow request holds a connection until it is answered.
	c, err := newClient(s.c.base, fairSlowRequests+fairQuickRequests+4)
	if err != nil {
		return result{}, err
	}
	s.logf("%s: %d concurrent requests to a sync workflow looping until its %d ms timeout, and %d one after another to a quick one",
		name, fairSlowRequests, fairSlowTimeoutMS, fairQuickRequests)
	var begin time.Time
	send := func(kind string, i int) (time.Duration, time.Duration, error) {
		path := "/api/" + coll + ":create?triggerWorkflows=" + url.QueryEscape(keys[kind])
		start := time.Now()
		_, err := c.call(ctx, "POST", path, s.member, map[string]any{"title": fmt.Sprintf("%s %d", kind, i)})
		return time.Since(start), time.Since(begin), err
	}
	var (
		mu           sync.Mutex
		slow, quick  []time.Duration
		errs         int64
		firstErr     string
		slowAnswered int
		// when the first answer of each kind came, from the start of the workload
		slowFirst, quickFirst time.Duration = -1, -1
	)
	fail := func(err error) {
		errs++
		if firstErr == "" {
			firstErr = err.Error()
		}
	}
	begin = time.Now()
	var wg sync.WaitGroup
	for i := range fairSlowRequests {
		wg.Go(func() {
			d, at, err := send("slow", i)
			mu.Lock()
			defer mu.Unlock()
			slow = append(slow, d)
			if slowFirst < 0 || at < slowFirst {
				slowFirst = at
			}
			// The slow workflow times out: its requests answer 500, nothing else.
			switch {
			case err == nil:
				fail(errors.New("a request bound to the looping workflow answered 2xx"))
			case !containsStatus(err, 500):
				fail(err)
			default:
				slowAnswered++
			}
		})
	}
	// Let the slow requests reach the server and take their Lua states first.
	time.Sleep(fairHeadStart)
	for i := range fairQuickRequests {
		d, at, err := send("quick", i)
		mu.Lock()
		quick = append(quick, d)
		if quickFirst < 0 {
			quickFirst = at
		}
		if err != nil {
			fail(err)
		}
		mu.Unlock()
	}
	wg.Wait()
	r := result{Name: name, Title: "slow sync neighbour", Requests: int64(len(slow)+len(quick)) - errs, Errors: errs,
		FirstError: firstErr, Seconds: time.Since(begin).Seconds()}
	r.P50ms, r.P99ms = ms(quantile(quick, 0.50)), ms(quantile(quick, 0.99))
	r.RPS = float64(r.Requests) / r.Seconds
	r.Fairness = &fairness{
		SlowMaxMs: ms(quantile(slow, 1)), SlowP50ms: ms(quantile(slow, 0.50)), SlowTimeouts: slowAnswered,
		QuickMaxMs: ms(quantile(quick, 1)), QuickP50ms: ms(quantile(quick, 0.50)),
		SlowFirstMs: ms(slowFirst), QuickFirstMs: ms(quickFirst),
	}
	return r, ctx.Err()
}

// fairness is W6's outcome: answer times of the slow workflow's requests and of the quick
// one's (whose p50 and p99 are also the row's latency columns).
type fairness struct {
	SlowMaxMs    float64 `json:"slowMaxMs"`
	SlowP50ms    float64 `json:"slowP50ms"`
	SlowTimeouts int     `json:"slowTimeouts"` // slow requests answered 500 (the timeout)
	QuickMaxMs   float64 `json:"quickMaxMs"`
	QuickP50ms   float64 `json:"quickP50ms"`
	// When the first answer of each kind came, in ms from the start: with fair states
	// the first quick request is answered long before any slow one.
	SlowFirstMs  float64 `json:"slowFirstMs"`
	QuickFirstMs float64 `json:"quickFirstMs"`
}

// quantile is the q-quantile (0..1) of ds by the nearest rank; 0 when ds is empty.
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(q*float64(len(s)) + 0.5)
	return s[min(max(i-1, 0), len(s)-1)]
}

// containsStatus reports whether a client error is a non-2xx answer of that status.
func containsStatus(err error, status int) bool {
	return err != nil && strings.Contains(err.Error(), fmt.Sprintf("status %d:", status))
}
