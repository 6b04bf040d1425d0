package main

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// execCheck is W3's executions checked against its records: with several nodes each
// record must have exactly one execution.
type execCheck struct {
	Records    int `json:"records"`
	Executions int `json:"executions"`
	Lost       int `json:"lost"`    // records without an execution
	Doubled    int `json:"doubled"` // records with more than one
}

// checkExecutions lists the records of coll and the executions of key and counts the
// records with no execution and with more than one.
func (s *session) checkExecutions(ctx context.Context, coll, key string) (*execCheck, error) {
	ids, err := s.recordIDs(ctx, coll, nil)
	if err != nil {
		return nil, err
	}
	per := map[int64]int{}
	c := &execCheck{Records: len(ids)}
	for page := 1; ; page++ {
		q := url.Values{
			"filter": {mustJSON(map[string]any{"key": key})}, "sort": {"id"},
			"page": {strconv.Itoa(page)}, "pageSize": {"1000"}, "fields": {"id,context"},
		}
		var list []struct {
			Context struct {
				Data struct {
					ID int64 `json:"id"`
				} `json:"data"`
			} `json:"context"`
		}
		env, err := s.c.callInto(ctx, "GET", listPath("executions", q), s.root, nil, &list)
		if err != nil {
			return nil, fmt.Errorf("check executions: %w", err)
		}
		for _, e := range list {
			per[e.Context.Data.ID]++
		}
		c.Executions += len(list)
		if page >= env.Meta.TotalPage || len(list) == 0 {
			break
		}
	}
	for id := range ids {
		switch n := per[id]; {
		case n == 0:
			c.Lost++
		case n > 1:
			c.Doubled++
		}
	}
	return c, nil
}

// recordIDs lists the ids of coll's records; with field, the value of that integer field
// of each (else 0).
func (s *session) recordIDs(ctx context.Context, coll string, field *string) (map[int64]int64, error) {
	out := map[int64]int64{}
	fields := "id"
	if field != nil {
		fields += "," + *field
	}
	for page := 1; ; page++ {
		q := url.Values{"sort": {"id"}, "page": {strconv.Itoa(page)}, "pageSize": {"1000"}, "fields": {fields}}
		var list []map[string]any
		env, err := s.c.callInto(ctx, "GET", listPath(coll, q), s.root, nil, &list)
		if err != nil {
			return nil, fmt.Errorf("list records: %w", err)
		}
		for _, r := range list {
			id, ok := r["id"].(float64)
			if !ok {
				return nil, fmt.Errorf("list records: id %v", r["id"])
			}
			var v float64
			if field != nil {
				v, _ = r[*field].(float64) // null: 0
			}
			out[int64(id)] = int64(v)
		}
		if page >= env.Meta.TotalPage || len(list) == 0 {
			return out, nil
		}
	}
}

// killDrain is what W3K saw: node 1 killed as the load ended, the other nodes left to
// finish the executions.
type killDrain struct {
	AtKill   int     `json:"unfinishedAtKill"` // executions queued or running when node 1 died
	Left     int     `json:"left"`             // still unfinished when the wait ended
	Seconds  float64 `json:"seconds"`          // from the kill until none was left (or the wait ended)
	Records  int     `json:"records"`
	Lost     int     `json:"lost"`   // records whose execution never ran to the end
	Reruns   int     `json:"reruns"` // records whose script ran more than once
	Finished bool    `json:"finished"`
}

// killScript is W3K's workflow: benchScript that first counts its runs in the record.
func killScript(coll string) string {
	return `require("db").update(` + strconv.Quote(coll) + `, ctx.data.id, {runs = {["$inc"] = 1}})` + "\n" + benchScript
}

// killWorkload is W3K: W3 through every node (its script counting its runs in the
// record), node 1 killed with SIGKILL as the load ends, then the wait until the other
// nodes have finished every execution, and the records checked: each script ran once.
// Node 1 stays dead: W3K runs last.
func (s *session) killWorkload(ctx context.Context, name string) (result, error) {
	const title = "create + async Lua, node 1 killed"
	coll := s.run + "_" + name
	def := map[string]any{"name": coll, "fields": []map[string]any{
		{"name": "title", "type": "string"},
		{"name": "body", "type": "text"},
		{"name": "views", "type": "integer"},
		{"name": "runs", "type": "integer", "defaultValue": 0},
	}}
	if _, err := s.c.call(ctx, "POST", "/api/collections:create", s.root, def); err != nil {
		return result{}, fmt.Errorf("make collection: %w", err)
	}
	wf := map[string]any{
		"title": "bench " + name, "key": coll, "type": "action", "sync": false, "enabled": true,
		"config": map[string]any{"collection": coll}, "script": killScript(coll),
	}
	var out struct {
		Key string `json:"key"`
	}
	if _, err := s.c.callInto(ctx, "POST", "/api/workflows:create", s.root, wf, &out); err != nil {
		return result{}, fmt.Errorf("make workflow: %w", err)
	}
	path := "/api/" + coll + ":create?triggerWorkflows=" + url.QueryEscape(out.Key)
	lr := s.createLoad(ctx, name, title, path)
	r := measured(name, title, lr)
	if err := ctx.Err(); err != nil {
		return r, err
	}
	if err := s.kill(0); err != nil {
		return r, err
	}
	killedAt := time.Now()
	s.c, s.nodes = s.nodes[1], s.nodes[1:]
	if len(s.pids) > 0 {
		s.pids = s.pids[1:]
	}
	k := &killDrain{}
	r.Kill = k
	var err error
	if k.AtKill, err = s.unfinished(ctx, out.Key); err != nil {
		return r, err
	}
	s.logf("%s: node 1 killed with %d executions unfinished; waiting for the other nodes (at most %v)", name, k.AtKill, s.opts.DrainTimeout)
	deadline := killedAt.Add(s.opts.DrainTimeout)
	for k.Left = k.AtKill; k.Left > 0 && time.Now().Before(deadline); {
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("kill drain: %w", ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
		if k.Left, err = s.unfinished(ctx, out.Key); err != nil {
			return r, err
		}
	}
	k.Seconds = time.Since(killedAt).Seconds()
	k.Finished = k.Left == 0
	field := "runs"
	runs, err := s.recordIDs(ctx, coll, &field)
	if err != nil {
		return r, err
	}
	k.Records = len(runs)
	for _, n := range runs {
		switch {
		case n == 0:
			k.Lost++
		case n > 1:
			k.Reruns++
		}
	}
	if k.Finished {
		s.logf("%s: every execution finished %.1fs after the kill", name, k.Seconds)
	} else {
		r.Notes = append(r.Notes, fmt.Sprintf("not yet: %d executions left %.0fs after node 1 was killed (%d unfinished at the kill)", k.Left, k.Seconds, k.AtKill))
	}
	return r, ctx.Err()
}

// unfinished counts the executions of key not final yet: queued (status null) or running
// (0).
func (s *session) unfinished(ctx context.Context, key string) (int, error) {
	count := func(filter map[string]any) (int, error) {
		q := url.Values{"filter": {mustJSON(filter)}, "pageSize": {"1"}, "fields": {"id"}}
		env, err := s.c.call(ctx, "GET", listPath("executions", q), s.root, nil)
		if err != nil {
			return 0, fmt.Errorf("kill drain: %w", err)
		}
		return env.Meta.Count, nil
	}
	all, err := count(map[string]any{"key": key})
	if err != nil {
		return 0, err
	}
	final, err := count(map[string]any{"key": key, "status": map[string]any{"$in": []int{1, -1, -2, -3, -4}}})
	if err != nil {
		return 0, err
	}
	return all - final, nil
}
