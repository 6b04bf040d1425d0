package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// drain is how W3's queued executions were worked off.
type drain struct {
	Executions int     `json:"executions"`              // W3's executions found
	Finished   int     `json:"finished"`                // in a final status
	Failed     int     `json:"failed"`                  // final but not resolved
	FailedWhy  string  `json:"failedExample,omitempty"` // the error of one of them
	Unfinished int     `json:"unfinished"`              // still queued or running when the wait ended
	PerSec     float64 `json:"perSec"`                  // finished / (last finishedAt - first createdAt)
	SpanSec    float64 `json:"spanSec"`                 // last finishedAt - first createdAt
	QueueP50ms float64 `json:"queueP50ms"`              // startedAt - createdAt
	QueueP99ms float64 `json:"queueP99ms"`
	RunP50ms   float64 `json:"runP50ms"` // finishedAt - startedAt
	RunP99ms   float64 `json:"runP99ms"`
	WaitSec    float64 `json:"waitAfterLoadSec"` // from the end of the load until all were final
	// Backlog is how many executions queued before the measured window started in it:
	// their runs are in the window's CPU time, their requests are not among its requests.
	Backlog int `json:"backlogAtWindowStart"`
}

// drain waits until the executions of the workflow key are all final (or DrainTimeout
// passes), then reads them all and summarizes their timestamps. While waiting it asks
// only questions that cost the server next to nothing (one execution by id, the count of
// running ones), so that polling does not slow the workers it measures. atQuiet is
// called each time the executions look final (or the wait expires), before they are
// listed, which is work of its own for the server; the last call is at the end of the
// drain. windowStart is the start of the measured window (for drain.Backlog).
func (s *session) drain(ctx context.Context, key string, windowStart, loadEnd time.Time, atQuiet func()) (*drain, error) {
	s.logf("W3: waiting for the queued executions to finish (at most %v)", s.opts.DrainTimeout)
	deadline := time.Now().Add(s.opts.DrainTimeout)
	newest, err := s.newest(ctx, key)
	if err != nil {
		return nil, err
	}
	for {
		quiet, err := s.quiet(ctx, newest)
		if err != nil {
			return nil, err
		}
		at := time.Now()
		expired := at.After(deadline)
		if quiet || expired {
			atQuiet()
			execs, err := s.executions(ctx, key)
			if err != nil {
				return nil, err
			}
			d := summarize(execs, windowStart)
			if d.Unfinished == 0 || expired {
				d.WaitSec = at.Sub(loadEnd).Seconds()
				if d.Failed > 0 {
					if d.FailedWhy, err = s.failure(ctx, key); err != nil {
						return nil, err
					}
				}
				s.logf("W3: %d executions, %d finished in %.1fs after the load (%.0f/s overall)", d.Executions, d.Finished, d.WaitSec, d.PerSec)
				return d, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("drain: %w", ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// newest is the id of the newest execution of key (0 when there is none).
func (s *session) newest(ctx context.Context, key string) (int64, error) {
	var list []execution
	q := url.Values{"filter": {mustJSON(map[string]any{"key": key})}, "sort": {"-id"}, "pageSize": {"1"}, "fields": {"id"}}
	if _, err := s.c.callInto(ctx, "GET", listPath("executions", q), s.root, nil, &list); err != nil {
		return 0, fmt.Errorf("drain: %w", err)
	}
	if len(list) == 0 {
		return 0, nil
	}
	return list[0].ID, nil
}

// quiet reports whether the execution id is final and no execution runs. Executions
// start in enqueue order, so then all are final, or nearly: executions tells the truth.
func (s *session) quiet(ctx context.Context, id int64) (bool, error) {
	if id > 0 {
		var e execution
		path := "/api/executions:get?filterByTk=" + strconv.FormatInt(id, 10) + "&fields=id,status"
		if _, err := s.c.callInto(ctx, "GET", path, s.root, nil, &e); err != nil {
			return false, fmt.Errorf("drain: %w", err)
		}
		if !e.final() {
			return false, nil
		}
	}
	q := url.Values{"filter": {`{"status":0}`}, "pageSize": {"1"}, "fields": {"id"}}
	env, err := s.c.call(ctx, "GET", listPath("executions", q), s.root, nil)
	if err != nil {
		return false, fmt.Errorf("drain: %w", err)
	}
	return env.Meta.Count == 0, nil
}

// failure describes one execution of key that did not resolve.
func (s *session) failure(ctx context.Context, key string) (string, error) {
	var list []struct {
		Status *int `json:"status"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	filter := map[string]any{"key": key, "status": map[string]any{"$in": []int{-1, -2, -3, -4}}}
	q := url.Values{"filter": {mustJSON(filter)}, "pageSize": {"1"}, "fields": {"status,error"}}
	if _, err := s.c.callInto(ctx, "GET", listPath("executions", q), s.root, nil, &list); err != nil {
		return "", fmt.Errorf("drain: %w", err)
	}
	if len(list) == 0 || list[0].Status == nil {
		return "", nil
	}
	why := "status " + strconv.Itoa(*list[0].Status)
	if list[0].Error != nil {
		why += ": " + list[0].Error.Message
	}
	return why, nil
}

// executions lists all executions of key, in pages of 1000.
func (s *session) executions(ctx context.Context, key string) ([]execution, error) {
	var all []execution
	for page := 1; ; page++ {
		q := url.Values{
			"filter": {mustJSON(map[string]any{"key": key})}, "sort": {"id"},
			"page": {strconv.Itoa(page)}, "pageSize": {"1000"},
			"fields": {"id,status,createdAt,startedAt,finishedAt"},
		}
		var list []execution
		env, err := s.c.callInto(ctx, "GET", listPath("executions", q), s.root, nil, &list)
		if err != nil {
			return nil, fmt.Errorf("drain: list executions: %w", err)
		}
		all = append(all, list...)
		if page >= env.Meta.TotalPage || len(list) == 0 {
			return all, nil
		}
	}
}

// summarize counts the executions and computes the drain rate and the queue delays from
// their timestamps.
func summarize(execs []execution, windowStart time.Time) *drain {
	d := &drain{Executions: len(execs)}
	var first, last time.Time
	var queue, run []time.Duration
	for _, e := range execs {
		created, okC := parseTime(e.CreatedAt)
		started, okS := parseTime(e.StartedAt)
		finished, okF := parseTime(e.FinishedAt)
		if okC && (first.IsZero() || created.Before(first)) {
			first = created
		}
		if !e.final() {
			d.Unfinished++
			continue
		}
		d.Finished++
		if *e.Status != 1 {
			d.Failed++
		}
		if okF && finished.After(last) {
			last = finished
		}
		if okC && okS {
			queue = append(queue, started.Sub(created))
			if created.Before(windowStart) && !started.Before(windowStart) {
				d.Backlog++
			}
		}
		if okS && okF {
			run = append(run, finished.Sub(started))
		}
	}
	if !first.IsZero() && last.After(first) {
		d.SpanSec = last.Sub(first).Seconds()
		d.PerSec = float64(d.Finished) / d.SpanSec
	}
	d.QueueP50ms, d.QueueP99ms = ms(quantileOf(queue, 0.50)), ms(quantileOf(queue, 0.99))
	d.RunP50ms, d.RunP99ms = ms(quantileOf(run, 0.50)), ms(quantileOf(run, 0.99))
	return d
}

func parseTime(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}
