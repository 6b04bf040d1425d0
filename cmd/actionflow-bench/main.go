// Command actionflow-bench is actionflow's load benchmark. It starts an actionflow server
// on a fresh temporary store (or targets --url), prepares the data, drives HTTP load from
// its own goroutines over real loopback connections (fasthttp client, keep-alive), and
// prints one line per workload: requests/s, p50 and p99 latency in ms, errors, and the
// CPU time (user + system, from /proc/<pid>/stat) per request in µs of the server
// (srv-us/req) and of the benchmark process itself (cli-us/req).
//
//	go run ./cmd/actionflow-bench                  # W1-W5, 10s each, 32 connections
//	go run ./cmd/actionflow-bench --quick          # CI: 2s each, W4 over 10k records
//	go run ./cmd/actionflow-bench --workloads W1,W3 --duration 30s --json out.json
//	go run ./cmd/actionflow-bench --url http://127.0.0.1:13000 --root-password secret
//
// Workloads (each in its own collections, so they do not interfere):
//
//	W1  create a 3-field record (title, body, views) as an authenticated member user
//	W2  W1 with ?triggerWorkflows= binding one sync Lua workflow (reads ctx.data and
//	    ctx.user, a little string and arithmetic work, returns a small table)
//	W3  W1 with the same script bound as an async workflow; also reports the drain rate
//	    (executions finished per second, from the executions' createdAt/finishedAt) and
//	    the p99 queue delay (startedAt - createdAt)
//	W4  list 20 records filtered on an indexed field (categoryId) and sorted by -id, over
//	    --records records (100k; 10k with --quick) seeded through the HTTP API first
//	W5  W1 against a second server in durable mode (fsync on every commit)
//	W2N only when named (run after W2): W2 with the workflow option
//	    deleteExecutionOnStatus [1], so that a resolved run keeps no execution; W2N/W1 is
//	    what W2/W1 could be if keeping execution history cost nothing
//
// Then the ratios W2/W1 and W3/W1 (and W2N/W1) of the request rates, the ratios cpu
// W1/W2 and W1/W3 (and W1/W2N) of the server CPU time per request (the rate ratios the
// server's CPU alone would allow, far steadier than req/s on a shared machine), and the
// peak RSS (VmHWM) of the server processes, each with the peak of its anonymous part
// (RssAnon sampled every 100 ms: heap and stacks; the rest is mapped files, mostly
// badger's tables). The server runs as a separate process (this binary re-executed with
// ACTIONFLOW_BENCH_SERVE=1), so its RSS is its own: W1-W4 share one server, W5 has its own
// on its own temporary directory; both directories are removed at the end. With --url no
// server is started; W5 then needs --url-durable and the RSS is "n/a".
//
// Every workload runs --concurrency goroutines (32) for a 0.5s warm-up, not counted, and
// then --duration. Errors are non-2xx answers and transport errors, counted over the whole
// run including the warm-up. Requests/s is the 2xx answers completed in the measured
// window divided by its length. The CPU times per request are the CPU time used in the
// measured window divided by that count (for W3 until its queued executions have
// finished, so it covers a request and its execution; the executions queued in the
// warm-up and run in the window count with the requests), "n/a" when unreadable (the server
// with --url, or no /proc). Traffic goes to 127.0.0.1 or the --url given, nowhere else.
//
// --store postgres://... runs the servers on PostgreSQL, in a fresh schema per run
// (created and dropped by the bench), and --nodes N starts N of them on it and spreads the
// load connections across them round-robin. The report then adds pg-us/req (the CPU time of the local PostgreSQL
// cluster: its postmaster, found as the parent of the bench's backend, and its children),
// and after W3 with several nodes the records without an execution or with more than one.
// retries/s, on every store, is actionflow_store_conflict_retries_total scraped from every
// node's /metrics around the window. W3K (only when named, with --nodes 2 or more, last)
// kills node 1 as its load ends and measures how long the others take to finish every
// execution. W5 and W5A are skipped on PostgreSQL.
//
// --cpuprofile FILE makes the W1-W4 server write a CPU profile of its whole life to FILE
// (and the W5 server to FILE.w5), --memprofile FILE its live heap at shutdown; read them
// with `go tool pprof -top FILE`. Profile one workload at a time (--workloads W2) to see
// where that workload's time goes.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	if os.Getenv(envServe) == "1" {
		os.Exit(serveChild(os.Getenv, os.Stdout, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the benchmark command: parse flags, run the workloads, print (and write) the report.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	opts, err := parseFlags(args, stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "actionflow-bench: %v\n", err)
		return 2
	}
	// The progress lines and the servers' logs (copied by goroutines of their own) meet
	// on stderr: one write at a time.
	rep, err := runBench(ctx, opts, &lockedWriter{w: stderr})
	if rep != nil {
		printReport(stdout, rep)
		if opts.JSONPath != "" {
			if werr := writeJSON(opts.JSONPath, rep); werr != nil {
				fmt.Fprintf(stderr, "actionflow-bench: %v\n", werr)
				return 1
			}
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "actionflow-bench: %v\n", err)
		return 1
	}
	return 0
}

// lockedWriter serialises the writes of several goroutines to w.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
