package main

import (
	"fmt"
	"net/url"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestCrashKeepsQueuedExecutions kills a server with SIGKILL in the middle of a load of
// creates that each queue an async workflow. After a restart every created record has its
// execution, and every execution runs to a final status.
func TestCrashKeepsQueuedExecutions(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	p := startServer(t, addr, dir, "--root-password", "pw", "--workers", "1")
	c := newClient(t, addr)
	c.signIn("root@actionflow.local", "pw")
	c.must("/api/collections:create", map[string]any{"name": "posts", "fields": []any{map[string]any{"name": "title", "type": "string"}}})
	// Slow enough that the queue is long when the kill comes.
	w := c.must("/api/workflows:create", map[string]any{"type": "action", "enabled": true, "key": "slow",
		"config": map[string]any{"collection": "posts", "global": true, "actions": []any{"create"}},
		"script": "local n = 0 for i = 1, 200000 do n = n + i end return ctx.data.id"})
	if w["data"].(map[string]any)["key"] != "slow" {
		t.Fatal(w)
	}

	var acked sync.Map
	var n atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				status, m, err := c.call("/api/posts:create", map[string]any{"title": "x"})
				if err != nil {
					return // the server is gone
				}
				if status == 200 {
					acked.Store(fmt.Sprint(m["data"].(map[string]any)["id"]), true)
					n.Add(1)
				}
			}
		}()
	}
	deadline := time.Now().Add(20 * time.Second)
	for n.Load() < 300 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.wait(t)
	close(stop)
	wg.Wait()
	if n.Load() == 0 {
		t.Fatal("no create succeeded before the kill")
	}

	startServer(t, addr, dir, "--root-password", "pw")
	c.signIn("root@actionflow.local", "pw")
	posts := c.listAll("/api/posts:list?fields=id")
	ids := map[string]bool{}
	for _, p := range posts {
		ids[fmt.Sprint(p.(map[string]any)["id"])] = true
	}
	acked.Range(func(k, _ any) bool {
		if !ids[k.(string)] {
			t.Errorf("acknowledged record %s is missing after the crash", k)
		}
		return true
	})
	t.Logf("%d records acknowledged, %d committed before SIGKILL", n.Load(), len(ids))

	filter := url.QueryEscape(`{"key":"slow"}`)
	waitUntil := time.Now().Add(120 * time.Second)
	for {
		list := c.listAll("/api/executions:list?filter=" + filter)
		seen := map[string]bool{}
		final := 0
		for _, x := range list {
			m := x.(map[string]any)
			d := m["context"].(map[string]any)["data"].(map[string]any)
			seen[fmt.Sprint(d["id"])] = true
			if st := fmt.Sprint(m["status"]); st == "1" {
				final++
			} else if st != "<nil>" && st != "0" {
				t.Fatalf("execution %v ended with status %v: %v", m["id"], st, m["error"])
			}
		}
		missing := 0
		for id := range ids {
			if !seen[id] {
				missing++
			}
		}
		if missing > 0 {
			t.Fatalf("%d committed records have no execution", missing)
		}
		if final == len(list) && len(list) >= len(ids) {
			return
		}
		if time.Now().After(waitUntil) {
			t.Fatalf("%d of %d executions resolved after restart", final, len(list))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// listAll reads every page of a list.
func (c *client) listAll(path string) []any {
	c.t.Helper()
	var all []any
	for page := 1; ; page++ {
		data := c.must(fmt.Sprintf("%s&pageSize=1000&page=%d", path, page), nil)["data"].([]any)
		all = append(all, data...)
		if len(data) < 1000 {
			return all
		}
	}
}
