package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestParseStatusKB(t *testing.T) {
	tests := []struct {
		name    string
		status  string
		want    int64
		wantErr bool
	}{
		{"typical", "Name:\tactionflow\nVmPeak:\t  900 kB\nVmHWM:\t  123456 kB\nVmRSS:\t 100 kB\n", 123456 * 1024, false},
		{"spaces", "VmHWM:   42 kB", 42 * 1024, false},
		{"missing", "Name:\tx\nVmRSS:\t1 kB\n", 0, true},
		{"bad unit", "VmHWM:\t12 MB\n", 0, true},
		{"bad number", "VmHWM:\tx kB\n", 0, true},
		{"a field that starts like another", "VmHWMx:\t1 kB\nVmHWM:\t2 kB\n", 2 * 1024, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatusKB(tt.status, "VmHWM")
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// Fields 3 to 15 of a real line; utime (14) is 250 ticks, stime (15) 30.
	const tail = " S 1 4321 4321 0 -1 4194560 2000 0 0 0 250 30 0 0 20 0 9 0 12345 1500000000 30000\n"
	tests := []struct {
		name    string
		stat    string
		want    time.Duration
		wantErr bool
	}{
		{"typical", "4321 (actionflow-bench)" + tail, 2800 * time.Millisecond, false},
		{"comm with spaces and parentheses", "4321 (a (b) c) d)" + tail, 2800 * time.Millisecond, false},
		{"comm that looks like fields", "4321 ( S 1 2 3 4 5 6 7 8 9 10 11 12))" + tail, 2800 * time.Millisecond, false},
		{"zero", "1 (x) R 0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 1 1 1", 0, false},
		{"no closing parenthesis", "4321 (actionflow-bench S 1 4321 4321 0 -1 4194560 2000 0 0 0 250 30", 0, true},
		{"truncated", "4321 (actionflow-bench) S 1 4321 4321 0 -1 4194560 2000 0 0 0 250", 0, true},
		{"not a number", "4321 (x) S 1 4321 4321 0 -1 4194560 2000 0 0 0 25x 30 0", 0, true},
		{"empty", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseStatCPU(tt.stat)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPerRequest(t *testing.T) {
	d := func(v time.Duration) *time.Duration { return &v }
	tests := []struct {
		name     string
		from, to *time.Duration
		n        int64
		want     float64 // -1: nil
	}{
		{"typical", d(time.Second), d(3 * time.Second), 50_000, 40},
		{"no start", nil, d(time.Second), 10, -1},
		{"no end", d(time.Second), nil, 10, -1},
		{"no requests", d(0), d(time.Second), 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := perRequest(tt.from, tt.to, tt.n)
			if (got == nil) != (tt.want < 0) || got != nil && *got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSummarize(t *testing.T) {
	st := func(s int) *int { return &s }
	window := time.Date(2026, 1, 1, 0, 0, 0, 300_000_000, time.UTC) // the measured window starts at .300
	tests := []struct {
		name  string
		execs []execution
		want  drain
	}{
		{"none", nil, drain{}},
		{"all resolved", []execution{
			{ID: 1, Status: st(1), CreatedAt: "2026-01-01T00:00:00.000Z", StartedAt: "2026-01-01T00:00:00.010Z", FinishedAt: "2026-01-01T00:00:00.011Z"},
			{ID: 2, Status: st(1), CreatedAt: "2026-01-01T00:00:00.500Z", StartedAt: "2026-01-01T00:00:00.600Z", FinishedAt: "2026-01-01T00:00:01.000Z"},
		}, drain{Executions: 2, Finished: 2, PerSec: 2, SpanSec: 1, QueueP50ms: 10, QueueP99ms: 100, RunP50ms: 1, RunP99ms: 400}},
		{"backlog: queued before the window, started in it", []execution{
			{ID: 1, Status: st(1), CreatedAt: "2026-01-01T00:00:00.000Z", StartedAt: "2026-01-01T00:00:00.100Z", FinishedAt: "2026-01-01T00:00:00.200Z"},
			{ID: 2, Status: st(1), CreatedAt: "2026-01-01T00:00:00.200Z", StartedAt: "2026-01-01T00:00:00.300Z", FinishedAt: "2026-01-01T00:00:00.400Z"},
			{ID: 3, Status: st(1), CreatedAt: "2026-01-01T00:00:00.350Z", StartedAt: "2026-01-01T00:00:00.400Z", FinishedAt: "2026-01-01T00:00:00.500Z"},
		}, drain{Executions: 3, Finished: 3, PerSec: 6, SpanSec: 0.5, QueueP50ms: 100, QueueP99ms: 100, RunP50ms: 100, RunP99ms: 100, Backlog: 1}},
		{"unfinished and failed", []execution{
			{ID: 1, Status: st(-2), CreatedAt: "2026-01-01T00:00:00.000Z", StartedAt: "2026-01-01T00:00:00.000Z", FinishedAt: "2026-01-01T00:00:00.500Z"},
			{ID: 2, Status: st(0), CreatedAt: "2026-01-01T00:00:00.100Z", StartedAt: "2026-01-01T00:00:00.200Z"},
			{ID: 3, Status: nil, CreatedAt: "2026-01-01T00:00:00.200Z"},
		}, drain{Executions: 3, Finished: 1, Failed: 1, Unfinished: 2, PerSec: 2, SpanSec: 0.5, RunP50ms: 500, RunP99ms: 500}},
		{"canceled without start", []execution{
			{ID: 1, Status: st(-4), CreatedAt: "2026-01-01T00:00:00.000Z", FinishedAt: "2026-01-01T00:00:00.250Z"},
		}, drain{Executions: 1, Finished: 1, Failed: 1, PerSec: 4, SpanSec: 0.25}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := summarize(tt.execs, window); *got != tt.want {
				t.Fatalf("got  %+v\nwant %+v", *got, tt.want)
			}
		})
	}
}

func TestAppendRecordBody(t *testing.T) {
	tests := []struct {
		name      string
		w, seq    int
		wantTitle string
		wantViews int
	}{
		{"first", 0, 1, "post 0-1", 1},
		{"wraps views", 31, 250, "post 31-250", 50},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec struct {
				Title string `json:"title"`
				Body  string `json:"body"`
				Views int    `json:"views"`
			}
			b := appendRecordBody([]byte("junk")[:0], tt.w, tt.seq)
			if err := json.Unmarshal(b, &rec); err != nil {
				t.Fatalf("not JSON: %v: %s", err, b)
			}
			if rec.Title != tt.wantTitle || rec.Views != tt.wantViews || rec.Body == "" {
				t.Fatalf("got %+v", rec)
			}
		})
	}
}

func TestPrintReport(t *testing.T) {
	w2, cpuW3 := 0.5, 0.2345
	srv1, cli1, srv3 := 31.25, 18.04, 140.0
	rss, anon := int64(150<<20), int64(90<<20)
	retries := 2.5
	rep := &report{
		Config: reportConfig{Duration: "2s", Warmup: "500ms", Concurrency: 32, CPUs: 2, GoVersion: "go1.26"},
		Results: []result{
			{Name: "W1", Title: "create", RPS: 10000, P50ms: 1.5, P99ms: 9.25, ServerCPUus: &srv1, ClientCPUus: &cli1, RetriesPerSec: &retries},
			{Name: "W3", Title: "create + async Lua", RPS: 8000, P50ms: 2, P99ms: 12, Errors: 3,
				Drain: &drain{PerSec: 5123, QueueP99ms: 812, Unfinished: 7}, ServerCPUus: &srv3},
		},
		Ratios:   ratios{W2W1: &w2, CPUW1W3: &cpuW3},
		PeakRSS:  peakRSSes{Main: &rss, Durable: &rss},
		PeakAnon: peakRSSes{Main: &anon},
		Notes:    []string{"W5 skipped"},
	}
	var out strings.Builder
	printReport(&out, rep)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tests := []struct {
		name string
		line int
		want string
	}{
		{"header", 1, "workload               req/s  p50ms  p99ms  errors  srv-us/req  cli-us/req  retries/s"},
		{"W1", 2, "W1 create              10000   1.50   9.25       0        31.2        18.0        2.5"},
		{"W3 with drain", 3, "W3 create + async Lua   8000   2.00  12.00       3       140.0         n/a        n/a  drain=5123/s queue-p99=812ms unfinished=7"},
		{"ratios", 4, "W2/W1=0.50  W3/W1=n/a"},
		{"cpu ratios", 5, "cpu W1/W2=n/a  W1/W3=0.23"},
		{"rss", 6, "server peak RSS: W1-W4 150 MB (anonymous 90 MB), W5 150 MB"},
		{"notes", 7, "note: W5 skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.line >= len(lines) || lines[tt.line] != tt.want {
				t.Fatalf("line %d:\n got %q\nwant %q\nreport:\n%s", tt.line, lines[min(tt.line, len(lines)-1)], tt.want, out.String())
			}
		})
	}
}

// TestPrintReportNodes: on PostgreSQL a pg-us/req column, W3's check of executions
// against records, and W3K's kill, finished or not.
func TestPrintReportNodes(t *testing.T) {
	srv, pgus, retries := 200.0, 150.0, 12.0
	rep := &report{
		Config: reportConfig{Duration: "2s", Warmup: "500ms", Concurrency: 32, CPUs: 2, GoVersion: "go1.26", Store: "postgres", Nodes: 2},
		Results: []result{
			{Name: "W3", Title: "create + async Lua", RPS: 900, P50ms: 30, P99ms: 90, ServerCPUus: &srv, PostgresCPUus: &pgus, RetriesPerSec: &retries,
				Drain: &drain{PerSec: 800, QueueP99ms: 5}, Check: &execCheck{Records: 10, Executions: 10}},
			{Name: "W3K", Title: "create + async Lua, node 1 killed", RPS: 800, P50ms: 30, P99ms: 90,
				Kill: &killDrain{AtKill: 120, Left: 40, Seconds: 60, Lost: 40}},
			{Name: "W3K", Title: "create + async Lua, node 1 killed", RPS: 800, P50ms: 30, P99ms: 90,
				Kill: &killDrain{AtKill: 120, Seconds: 31.25, Finished: true, Reruns: 2}},
		},
	}
	var out strings.Builder
	printReport(&out, rep)
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	tests := []struct {
		name string
		line int
		want string
	}{
		{"store and nodes", 0, "actionflow-bench: 2s per workload after 500ms warm-up, 32 connections, 2 CPUs, go1.26, store postgres, 2 node(s)"},
		{"postgres column", 1, "workload                               req/s  p50ms  p99ms  errors  srv-us/req  cli-us/req  pg-us/req  retries/s"},
		{"W3 checked", 2, "W3 create + async Lua                    900  30.00  90.00       0       200.0         n/a      150.0       12.0  drain=800/s queue-p99=5ms lost=0 doubled=0"},
		{"W3K not yet", 3, "W3K create + async Lua, node 1 killed    800  30.00  90.00       0         n/a         n/a        n/a        n/a  node 1 killed with 120 unfinished: not yet: 40 left after 60s lost=40 reruns=0"},
		{"W3K done", 4, "W3K create + async Lua, node 1 killed    800  30.00  90.00       0         n/a         n/a        n/a        n/a  node 1 killed with 120 unfinished: all done 31.2s later lost=0 reruns=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.line >= len(lines) || lines[tt.line] != tt.want {
				t.Fatalf("line %d:\n got %q\nwant %q\nreport:\n%s", tt.line, lines[min(tt.line, len(lines)-1)], tt.want, out.String())
			}
		})
	}
}

// TestPrintReportW2N: W2N's ratios follow the others on their lines, only when it ran.
func TestPrintReportW2N(t *testing.T) {
	w2, w2n, cpuW2N := 0.35, 0.6, 0.5
	var out strings.Builder
	printReport(&out, &report{Ratios: ratios{W2W1: &w2, W2NW1: &w2n, CPUW1W2N: &cpuW2N}})
	for _, want := range []string{"\nW2/W1=0.35  W3/W1=n/a  W2N/W1=0.60\n", "\ncpu W1/W2=n/a  W1/W3=n/a  W1/W2N=0.50\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("no %q in:\n%s", want, out.String())
		}
	}
}

func TestRatiosOf(t *testing.T) {
	us := func(v float64) *float64 { return &v }
	tests := []struct {
		name                 string
		results              []result
		w2, w3, cpuW2, cpuW3 float64 // -1: nil
		w2n, cpuW2N          float64
	}{
		{"both", []result{
			{Name: "W1", RPS: 100, ServerCPUus: us(30)},
			{Name: "W2", RPS: 50, ServerCPUus: us(120)},
			{Name: "W3", RPS: 25, ServerCPUus: us(150)},
		}, 0.5, 0.25, 0.25, 0.2, -1, -1},
		{"W2N", []result{
			{Name: "W1", RPS: 100, ServerCPUus: us(30)},
			{Name: "W2N", RPS: 60, ServerCPUus: us(60)},
		}, -1, -1, -1, -1, 0.6, 0.5},
		{"no W1", []result{{Name: "W2", RPS: 50, ServerCPUus: us(120)}}, -1, -1, -1, -1, -1, -1},
		{"W1 zero", []result{{Name: "W1"}, {Name: "W2", RPS: 50}}, -1, -1, -1, -1, -1, -1},
		{"no server CPU (--url)", []result{{Name: "W1", RPS: 100}, {Name: "W2", RPS: 50}}, 0.5, -1, -1, -1, -1, -1},
		{"W2 without server CPU", []result{{Name: "W1", RPS: 100, ServerCPUus: us(30)}, {Name: "W2", RPS: 50}}, 0.5, -1, -1, -1, -1, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ratiosOf(tt.results)
			for _, c := range []struct {
				name string
				got  *float64
				want float64
			}{{"W2/W1", r.W2W1, tt.w2}, {"W3/W1", r.W3W1, tt.w3}, {"cpu W1/W2", r.CPUW1W2, tt.cpuW2}, {"cpu W1/W3", r.CPUW1W3, tt.cpuW3},
				{"W2N/W1", r.W2NW1, tt.w2n}, {"cpu W1/W2N", r.CPUW1W2N, tt.cpuW2N}} {
				if (c.got == nil) != (c.want < 0) || c.got != nil && *c.got != c.want {
					t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
				}
			}
		})
	}
}

func TestLoadResultRPS(t *testing.T) {
	tests := []struct {
		name string
		lr   loadResult
		want float64
	}{
		{"no window", loadResult{OK: 10}, 0},
		{"two seconds", loadResult{OK: 10, Window: 2 * time.Second}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.lr.RPS(); got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestHumanCount(t *testing.T) {
	tests := []struct {
		name string
		n    int
		want string
	}{
		{"thousands", 100_000, "100k"},
		{"not round", 1500, "1500"},
		{"small", 200, "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := humanCount(tt.n); got != tt.want {
				t.Fatalf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestLineLimiter(t *testing.T) {
	tests := []struct {
		name        string
		max         int
		writes      []string
		want        string
		wantDropped int
	}{
		{"under the limit", 3, []string{"a\n", "b\n"}, "a\nb\n", 0},
		{"over the limit", 2, []string{"a\nb\nc\n", "d\n"}, "a\nb\n", 2},
		{"split lines", 2, []string{"a", "a\nb", "b\nc", "c\n"}, "aa\nbb\n", 1},
		{"zero", 0, []string{"a\n"}, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			l := &lineLimiter{w: &out, max: tt.max}
			for _, w := range tt.writes {
				if n, err := l.Write([]byte(w)); n != len(w) || err != nil {
					t.Fatalf("Write = %d, %v", n, err)
				}
			}
			if out.String() != tt.want || l.Dropped() != tt.wantDropped {
				t.Fatalf("got %q with %d dropped, want %q with %d", out.String(), l.Dropped(), tt.want, tt.wantDropped)
			}
		})
	}
}
