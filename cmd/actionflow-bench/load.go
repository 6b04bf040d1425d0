package main

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/valyala/fasthttp"
)

// loadConfig says how long and how wide to drive load.
type loadConfig struct {
	Warmup      time.Duration
	Duration    time.Duration
	Concurrency int
	// CPU, when not nil, reads the processes' CPU time when the measured window starts
	// and when it ends.
	CPU func() cpuReading
}

// requestFiller fills the request of one worker for its next call (the request is reset
// before). newFiller gives each worker its own, so fillers need no locking.
type requestFiller func(req *fasthttp.Request)

// loadResult is what a load run measured.
type loadResult struct {
	OK         int64         // 2xx answers completed in the measured window
	Errors     int64         // non-2xx answers and transport errors, warm-up included
	Window     time.Duration // length of the measured window
	Latency    *histogram    // every request started in the measured window
	FirstError string        // a sample error, for diagnosis
	Start, End time.Time     // the whole run, warm-up included
	WarmEnd    time.Time     // the start of the measured window
	CPUStart   cpuReading    // at the start of the measured window (with cfg.CPU)
	CPUEnd     cpuReading    // at its end (with cfg.CPU)
}

// RPS is the 2xx answers per second of the measured window.
func (r loadResult) RPS() float64 {
	if r.Window <= 0 {
		return 0
	}
	return float64(r.OK) / r.Window.Seconds()
}

// worker is one load goroutine's tally.
type worker struct {
	ok, errors int64
	latency    *histogram
	firstError string
}

// load runs cfg.Concurrency goroutines that call the server back to back through c (one
// keep-alive connection each) for the warm-up and then the measured window, and merges
// what they saw. It stops early when ctx ends.
func (c *client) load(ctx context.Context, cfg loadConfig, newFiller func(worker int) requestFiller) loadResult {
	return loadOn(ctx, cfg, func(int) *client { return c }, newFiller)
}

// loadOn is load with worker w calling the server through node(w).
func loadOn(ctx context.Context, cfg loadConfig, node func(worker int) *client, newFiller func(worker int) requestFiller) loadResult {
	start := time.Now()
	warmEnd := start.Add(cfg.Warmup)
	end := warmEnd.Add(cfg.Duration)
	workers := make([]worker, cfg.Concurrency)
	var wg sync.WaitGroup
	for i := range workers {
		w := &workers[i]
		w.latency = newHistogram()
		fill := newFiller(i)
		c := node(i)
		wg.Go(func() { c.drive(ctx, w, fill, warmEnd, end) })
	}
	var cpuStart, cpuEnd cpuReading
	if cfg.CPU != nil {
		wg.Go(func() {
			if !sleepUntil(ctx, warmEnd) {
				return
			}
			cpuStart = cfg.CPU()
			if sleepUntil(ctx, end) {
				cpuEnd = cfg.CPU()
			}
		})
	}
	wg.Wait()
	res := loadResult{Latency: newHistogram(), Start: start, End: time.Now(), WarmEnd: warmEnd, CPUStart: cpuStart, CPUEnd: cpuEnd}
	for i := range workers {
		w := &workers[i]
		res.OK += w.ok
		res.Errors += w.errors
		res.Latency.Merge(w.latency)
		if res.FirstError == "" {
			res.FirstError = w.firstError
		}
	}
	stop := end
	if res.End.Before(end) { // stopped early
		stop = res.End
	}
	res.Window = max(stop.Sub(warmEnd), 0)
	return res
}

// sleepUntil waits until t; false when ctx ends first.
func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// drive is one load goroutine.
func (c *client) drive(ctx context.Context, w *worker, fill requestFiller, warmEnd, end time.Time) {
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	for ctx.Err() == nil {
		t0 := time.Now()
		if !t0.Before(end) {
			return
		}
		req.Reset()
		fill(req)
		err := c.hc.DoTimeout(req, resp, c.timeout)
		t1 := time.Now()
		ok := err == nil && resp.StatusCode()/100 == 2
		if !ok {
			w.errors++
			if w.firstError == "" {
				if err != nil {
					w.firstError = fmt.Sprintf("%s %s: %v", req.Header.Method(), req.URI().Path(), err)
				} else {
					w.firstError = fmt.Sprintf("%s %s: status %d: %s", req.Header.Method(), req.URI().Path(), resp.StatusCode(), snippet(resp.Body()))
				}
			}
		}
		if t0.Before(warmEnd) {
			continue
		}
		w.latency.Record(t1.Sub(t0))
		if ok && !t1.After(end) {
			w.ok++
		}
	}
}
