package main

import (
	"context"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestMain lets the test binary be the server child too, as the real binary is when
// re-executed with ACTIONFLOW_BENCH_SERVE=1: TestRun drives that path.
func TestMain(m *testing.M) {
	if os.Getenv(envServe) == "1" {
		os.Exit(serveChild(os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// tinyOptions are options for a run that proves the workloads work, nothing about speed.
func tinyOptions() options {
	return options{
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond, Concurrency: 4,
		Records: 200, DrainTimeout: 30 * time.Second,
	}
}

// startInProcess serves an app built like the bench server's on a loopback port.
func startInProcess(t *testing.T, durable bool) string {
	t.Helper()
	app, err := newServerApp(core.Config{DataDir: t.TempDir(), SyncWrites: durable, RootPassword: "bench-test", BcryptCost: 4})
	if err != nil {
		t.Fatal(err)
	}
	return coretest.ServeTCP(t, app)
}

func TestRunWorkloads(t *testing.T) {
	tests := []struct {
		name      string
		durable   bool
		workloads []string
	}{
		{"W1 to W4 on one server", false, []string{"W1", "W2", "W2N", "W3", "W4"}},
		{"W5 on a durable server", true, []string{"W5"}},
		{"W6: a slow sync workflow leaves states to a quick one", false, []string{"W6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base := startInProcess(t, tt.durable)
			opts := tinyOptions()
			opts.Workloads = tt.workloads
			var progress strings.Builder
			rs, err := runWorkloads(context.Background(), target{bases: []string{base}}, opts, credentials{Email: defaultRootEmail, Password: "bench-test"}, tt.workloads, &progress)
			if err != nil {
				t.Fatalf("runWorkloads: %v\n%s", err, progress.String())
			}
			if len(rs) != len(tt.workloads) {
				t.Fatalf("got %d results, want %d", len(rs), len(tt.workloads))
			}
			for i, r := range rs {
				if r.Name != tt.workloads[i] {
					t.Errorf("result %d is %s, want %s", i, r.Name, tt.workloads[i])
				}
				if r.Errors != 0 {
					t.Errorf("%s: %d errors, e.g. %s", r.Name, r.Errors, r.FirstError)
				}
				if r.Requests <= 0 || r.RPS <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms {
					t.Errorf("%s: nothing measured: %+v", r.Name, r)
				}
				switch r.Name {
				case "W2", "W2N":
					// W2 keeps an execution per request; W2N's workflow deletes its resolved ones.
					n := executionCount(t, base, "bench "+r.Name)
					if r.Name == "W2" && int64(n) < r.Requests || r.Name == "W2N" && n != 0 {
						t.Errorf("%s: %d executions kept for %d requests", r.Name, n, r.Requests)
					}
				case "W3":
					d := r.Drain
					if d == nil || d.Executions < int(r.Requests) || d.Finished != d.Executions || d.Unfinished != 0 || d.PerSec <= 0 {
						t.Errorf("W3 drain: %+v (requests %d)", d, r.Requests)
					}
				case "W6":
					// Every quick request answered 200 (else Errors) while all the slow
					// ones ran into their timeout, and the first quick one was answered
					// before any slow one: it did not wait for their states.
					if f := r.Fairness; f == nil || f.SlowTimeouts != fairSlowRequests || f.QuickFirstMs >= f.SlowFirstMs {
						t.Errorf("W6: %+v", r.Fairness)
					}
				case "W4":
					if r.Seed == nil || r.Seed.Records != opts.Records {
						t.Errorf("W4 seed: %+v", r.Seed)
					}
				}
			}
		})
	}
}

// executionCount is how many executions the workflow with this title has.
func executionCount(t *testing.T, base, title string) int {
	t.Helper()
	c, err := newClient(base, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root, err := c.signIn(ctx, defaultRootEmail, "bench-test")
	if err != nil {
		t.Fatal(err)
	}
	var wfs []struct {
		Key string `json:"key"`
	}
	q := url.Values{"filter": {mustJSON(map[string]any{"title": title})}}
	if _, err := c.callInto(ctx, "GET", listPath("workflows", q), root, nil, &wfs); err != nil || len(wfs) != 1 {
		t.Fatalf("workflow %q: %v, %d found", title, err, len(wfs))
	}
	q = url.Values{"filter": {mustJSON(map[string]any{"key": wfs[0].Key})}, "pageSize": {"1"}}
	env, err := c.call(ctx, "GET", listPath("executions", q), root, nil)
	if err != nil {
		t.Fatal(err)
	}
	return env.Meta.Count
}

// TestRun runs the command the way `go run ./cmd/actionflow-bench` does: the server is
// this test binary re-executed in server mode (see TestMain).
func TestRun(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	tests := []struct {
		name      string
		workloads string
		want      []string
	}{
		{"one create workload per server", "W1,W5", []string{"W1 create", "W5 create, durable", "W2/W1=n/a", "server peak RSS: W1-W4 "}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			jsonPath := filepath.Join(t.TempDir(), "out.json")
			args := []string{"--duration", "300ms", "--warmup", "100ms", "--concurrency", "4",
				"--workloads", tt.workloads, "--records", "200", "--json", jsonPath}
			var stdout, stderr strings.Builder
			if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
			}
			for _, want := range tt.want {
				if !strings.Contains(stdout.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, stdout.String())
				}
			}
			b, err := os.ReadFile(jsonPath)
			if err != nil {
				t.Fatal(err)
			}
			var rep report
			if err := json.Unmarshal(b, &rep); err != nil {
				t.Fatalf("json: %v\n%s", err, b)
			}
			for _, r := range rep.Results {
				if r.Errors != 0 || r.RPS <= 0 {
					t.Errorf("%s: %d errors, %.0f req/s: %s", r.Name, r.Errors, r.RPS, r.FirstError)
				}
			}
			if goruntime.GOOS == "linux" && (rep.PeakRSS.Main == nil || rep.PeakRSS.Durable == nil) {
				t.Errorf("peak RSS not read: %+v", rep.PeakRSS)
			}
			if goruntime.GOOS == "linux" && rep.PeakRSS.Main != nil && (rep.PeakAnon.Main == nil || *rep.PeakAnon.Main > *rep.PeakRSS.Main) {
				t.Errorf("peak anonymous RSS %v not read or above the peak RSS %v", rep.PeakAnon.Main, rep.PeakRSS.Main)
			}
			if goruntime.GOOS == "linux" {
				for _, r := range rep.Results {
					if r.ServerCPUus == nil || *r.ServerCPUus < 0 || r.ClientCPUus == nil || *r.ClientCPUus < 0 {
						t.Errorf("%s: CPU time per request not read: server %v, client %v", r.Name, r.ServerCPUus, r.ClientCPUus)
					}
				}
			}
		})
	}
}

// TestRunNodes runs the command on PostgreSQL with two nodes, as `actionflow-bench --store
// postgres://... --nodes 2` does: both nodes serve (no errors), the CPU times of the nodes
// and of the local PostgreSQL cluster and the conflict retries are read, and W3's
// executions are checked against its records: none lost, none doubled. It needs
// ACTIONFLOW_TEST_POSTGRES (skipped without it, failed with CI=true).
func TestRunNodes(t *testing.T) {
	pg := os.Getenv("ACTIONFLOW_TEST_POSTGRES")
	if pg == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI=true: ACTIONFLOW_TEST_POSTGRES is not set")
		}
		t.Skip("ACTIONFLOW_TEST_POSTGRES is not set: set it to a postgres:// URL to run this test (.ci/run does)")
	}
	if testing.Short() {
		t.Skip("starts server processes")
	}
	jsonPath := filepath.Join(t.TempDir(), "out.json")
	args := []string{"--store", pg, "--nodes", "2", "--duration", "300ms", "--warmup", "100ms", "--concurrency", "4",
		"--workloads", "W1,W3,W5", "--json", jsonPath}
	var stdout, stderr strings.Builder
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep report
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("json: %v\n%s", err, b)
	}
	t.Run("two nodes on postgres", func(t *testing.T) {
		if rep.Config.Nodes != 2 || rep.Config.Store != "postgres" {
			t.Fatalf("config %+v", rep.Config)
		}
		for _, want := range []string{"node 1 at", "node 2 at"} {
			if !strings.Contains(stderr.String(), want) {
				t.Errorf("progress lacks %q:\n%s", want, stderr.String())
			}
		}
	})
	t.Run("W5 skipped with a note", func(t *testing.T) {
		if len(rep.Results) != 2 || !strings.Contains(stdout.String(), "W5 skipped") {
			t.Fatalf("%d results; output:\n%s", len(rep.Results), stdout.String())
		}
	})
	for _, r := range rep.Results {
		t.Run(r.Name, func(t *testing.T) {
			if r.Errors != 0 || r.RPS <= 0 {
				t.Errorf("%d errors, %.0f req/s: %s", r.Errors, r.RPS, r.FirstError)
			}
			if r.RetriesPerSec == nil || *r.RetriesPerSec < 0 {
				t.Errorf("conflict retries not read: %v", r.RetriesPerSec)
			}
			if goruntime.GOOS == "linux" && (r.ServerCPUus == nil || r.PostgresCPUus == nil || *r.PostgresCPUus <= 0) {
				t.Errorf("CPU time per request not read: nodes %v, postgres %v", r.ServerCPUus, r.PostgresCPUus)
			}
			if r.Name != "W3" {
				return
			}
			if d := r.Drain; d == nil || d.Unfinished != 0 || d.Failed != 0 {
				t.Errorf("drain: %+v", r.Drain)
			}
			if c := r.Check; c == nil || c.Records < int(r.Requests) || c.Lost != 0 || c.Doubled != 0 || c.Executions != c.Records {
				t.Errorf("executions against records: %+v (requests %d)", r.Check, r.Requests)
			}
		})
	}
}
