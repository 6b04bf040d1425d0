package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"
)

const usage = `actionflow-bench — load benchmark of an actionflow server.

Usage:
  go run ./cmd/actionflow-bench [flags]

Starts an actionflow server on a fresh temporary store (a child process, so that its
memory is its own), prepares the data and drives HTTP load over loopback connections,
then prints per workload: requests/s, p50 and p99 latency (ms), errors, and the CPU time
per request (µs) of the server (srv-us/req; n/a with --url) and of this process
(cli-us/req); the ratios W2/W1 and W3/W1, and cpu W1/W2 and W1/W3 of the server's CPU
time per request (steadier than req/s on a busy machine); and the server's peak RSS,
with its anonymous part (heap and stacks; the rest is mapped files, mostly the store's
tables).

Workloads (--workloads, default W1,W2,W3,W4,W5):
  W1  create a 3-field record (title, body, views) as an authenticated member user
  W2  W1 with ?triggerWorkflows= binding one sync Lua workflow that reads ctx.data and
      ctx.user, does a little string and arithmetic work and returns a small table
  W3  W1 with the same script as an async workflow; also the drain rate (executions
      finished per second, first enqueue to last finish) and the p99 queue delay; its
      CPU time is counted until the executions have finished
  W4  list 20 records with a filter on an indexed field (categoryId) and sort -id, over
      --records records seeded through the API first
  W5  W1 on a second server in durable mode (fsync on every commit)

Also, only when named (it runs after W2):
  W2N W2 with the workflow's option deleteExecutionOnStatus [1]: a resolved run keeps no
      execution, so nothing is written beyond W1's create. W2N/W1 is what W2/W1 could be
      if keeping execution history cost nothing.
  W5A W3 on the durable server (after W5): how fast durable mode drains async
      executions while creates keep coming
  W6  fairness (after W4): 50 concurrent creates bound to a sync workflow that loops
      until its 3 s timeout, and meanwhile 20 creates one after another bound to an
      unrelated quick sync workflow; the row's latency columns are the quick ones', and
      it prints when the slow ones were answered (all 500s, the timeout)
  W3K kill a node (last; needs --nodes 2 or more): W3 through every node, then node 1
      is killed (SIGKILL) as the load ends, and it measures how long until the other
      nodes have finished every execution ("not yet: N left" when they do not within
      --drain-timeout); the script counts its runs in the record, so it also reports
      executions lost and run more than once

Several nodes (--store, --nodes): with --store postgres://... the servers use that
PostgreSQL database, each run in a fresh schema (bench_<random>, created and dropped by
the bench); --nodes N starts N servers on it and spreads the load connections across
them round-robin. Then srv-us/req is the CPU time of all the nodes, pg-us/req that of
the PostgreSQL server's processes (a local cluster only, else n/a), and after W3 the
executions are checked against the records: lost (a record without a resolved
execution) and doubled (a record with more than one). W5 and W5A are badger's durable
mode and are skipped on PostgreSQL. retries/s, on every store, is the store's conflict
retries per second (actionflow_store_conflict_retries_total scraped from /metrics).

Each workload runs a warm-up (--warmup, not measured), then --duration. Errors are
non-2xx answers and transport errors over the whole run. Nothing is sent anywhere but
127.0.0.1 or the --url given.

Flags:
`

// options are the benchmark's settings.
type options struct {
	Duration     time.Duration
	Warmup       time.Duration
	Concurrency  int
	Workloads    []string
	Quick        bool
	URL          string
	URLDurable   string
	RootEmail    string
	RootPassword string
	Records      int
	JSONPath     string
	DrainTimeout time.Duration
	CPUProfile   string
	MemProfile   string
	ValueThresh  int
	Store        string // postgres:// URL of the servers' store; empty: badger in a temp dir
	Nodes        int    // server processes on the store
}

// allWorkloads returns the workload names in the order they run.
func allWorkloads() []string {
	return []string{"W1", "W2", "W2N", "W3", "W4", "W6", "W3K", "W5", "W5A"}
}

// defaultWorkloads are the ones run unless --workloads names others: the five.
func defaultWorkloads() []string { return []string{"W1", "W2", "W3", "W4", "W5"} }

// Defaults, and the ones --quick uses for the settings not given explicitly.
const (
	defaultDuration     = 10 * time.Second
	defaultWarmup       = 500 * time.Millisecond
	defaultConcurrency  = 32
	defaultRecords      = 100_000
	defaultDrainTimeout = 60 * time.Second
	quickDuration       = 2 * time.Second
	quickRecords        = 10_000
	quickDrainTimeout   = 20 * time.Second
	defaultRootEmail    = "root@actionflow.local"
)

// parseFlags reads the command line. --help prints the usage and returns flag.ErrHelp.
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("actionflow-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	var o options
	var workloads string
	fs.DurationVar(&o.Duration, "duration", defaultDuration, "measured time per workload (2s with --quick)")
	fs.DurationVar(&o.Warmup, "warmup", defaultWarmup, "warm-up per workload, excluded from the statistics")
	fs.IntVar(&o.Concurrency, "concurrency", defaultConcurrency, "client goroutines, each with its own keep-alive connection")
	fs.StringVar(&workloads, "workloads", strings.Join(defaultWorkloads(), ","), "comma-separated workloads to run (also W2N, W3K, W5A, W6)")
	fs.BoolVar(&o.Quick, "quick", false, "CI mode: 2s per workload, W4 over 10k records, 20s drain cap; the whole run takes under 30s")
	fs.StringVar(&o.URL, "url", "", "benchmark the server at this base URL (e.g. http://127.0.0.1:13000) instead of starting one")
	fs.StringVar(&o.URLDurable, "url-durable", "", "with --url: the base URL of a server in durable mode, for W5 (else W5 is skipped)")
	fs.StringVar(&o.RootEmail, "root-email", envOr("ACTIONFLOW_ROOT_EMAIL", defaultRootEmail), "with --url: root user's email (env ACTIONFLOW_ROOT_EMAIL)")
	fs.StringVar(&o.RootPassword, "root-password", os.Getenv("ACTIONFLOW_ROOT_PASSWORD"), "with --url: root user's password (env ACTIONFLOW_ROOT_PASSWORD)")
	fs.IntVar(&o.Records, "records", defaultRecords, "records seeded for W4 (10000 with --quick)")
	fs.StringVar(&o.JSONPath, "json", "", "also write the results as JSON to this file")
	fs.DurationVar(&o.DrainTimeout, "drain-timeout", defaultDrainTimeout, "W3: longest wait for the queued executions to finish after the load (20s with --quick)")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write the W1-W4 server's CPU profile to this file (and the W5 server's to FILE.w5)")
	fs.IntVar(&o.ValueThresh, "value-threshold", 0, "the servers' --value-threshold (0: its default); not with --url")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write the W1-W4 server's live heap at shutdown to this file (and the W5 server's to FILE.w5)")
	fs.StringVar(&o.Store, "store", "", "run the servers on this PostgreSQL store (postgres://user:password@host:port/db?sslmode=disable), each run in a fresh schema; not with --url")
	fs.IntVar(&o.Nodes, "nodes", 1, "server processes to start on --store; the load connections are spread across them")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected argument %q (see --help)", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if o.Quick {
		if !set["duration"] {
			o.Duration = quickDuration
		}
		if !set["records"] {
			o.Records = quickRecords
		}
		if !set["drain-timeout"] {
			o.DrainTimeout = quickDrainTimeout
		}
	}
	var err error
	if o.Workloads, err = parseWorkloads(workloads); err != nil {
		return options{}, err
	}
	if err := o.validate(); err != nil {
		return options{}, err
	}
	return o, nil
}

func (o *options) validate() error {
	switch {
	case o.Duration <= 0:
		return errors.New("--duration must be positive")
	case o.Warmup < 0:
		return errors.New("--warmup must not be negative")
	case o.Concurrency < 1:
		return errors.New("--concurrency must be at least 1")
	case o.Records < 1:
		return errors.New("--records must be at least 1")
	case o.DrainTimeout <= 0:
		return errors.New("--drain-timeout must be positive")
	case o.URLDurable != "" && o.URL == "":
		return errors.New("--url-durable needs --url")
	case o.ValueThresh != 0 && o.URL != "":
		return errors.New("--value-threshold sets up the servers the bench starts, not one at --url")
	case o.Store != "" && o.URL != "":
		return errors.New("--store sets up the servers the bench starts, not one at --url")
	case o.Nodes < 1:
		return errors.New("--nodes must be at least 1")
	case o.Nodes > 1 && o.Store == "":
		return errors.New("--nodes 2 or more needs --store postgres://... (badger is one process's store)")
	case slices.Contains(o.Workloads, "W3K") && o.Nodes < 2:
		return errors.New("W3K kills a node: it needs --nodes 2 or more")
	}
	if o.Store != "" {
		scheme, _, _ := strings.Cut(o.Store, "://")
		if scheme = strings.ToLower(scheme); scheme != "postgres" && scheme != "postgresql" {
			return errors.New("--store: want a postgres:// URL (the default store, badger, needs no flag)")
		}
	}
	for _, u := range []struct{ name, val string }{{"url", o.URL}, {"url-durable", o.URLDurable}} {
		if u.val == "" {
			continue
		}
		if err := checkBaseURL(u.val); err != nil {
			return fmt.Errorf("--%s: %w", u.name, err)
		}
	}
	if o.URL != "" && o.RootPassword == "" {
		return errors.New("--url needs --root-password (or ACTIONFLOW_ROOT_PASSWORD)")
	}
	return nil
}

// parseWorkloads reads "W1,w3" into the canonical names, in run order, each once.
func parseWorkloads(s string) ([]string, error) {
	want := map[string]bool{}
	for _, item := range strings.Split(s, ",") {
		item = strings.ToUpper(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		if !slices.Contains(allWorkloads(), item) {
			return nil, fmt.Errorf("unknown workload %q (want some of %s)", item, strings.Join(allWorkloads(), ","))
		}
		want[item] = true
	}
	if len(want) == 0 {
		return nil, errors.New("--workloads names no workload")
	}
	var out []string
	for _, w := range allWorkloads() {
		if want[w] {
			out = append(out, w)
		}
	}
	return out, nil
}

// checkBaseURL accepts http(s)://host[:port] with no path beyond "/".
func checkBaseURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("bad URL: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("bad URL %q: scheme must be http or https", raw)
	}
	if u.Host == "" {
		return fmt.Errorf("bad URL %q: no host", raw)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return fmt.Errorf("bad URL %q: want a base URL without path or query", raw)
	}
	return nil
}

func envOr(name, def string) string {
	if v, ok := os.LookupEnv(name); ok && v != "" {
		return v
	}
	return def
}
