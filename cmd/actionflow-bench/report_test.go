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

func TestSummarize(t *testing.T) {
	st := func(s int) *int { return &s }
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
			if got := summarize(tt.execs); *got != tt.want {
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
	w2 := 0.5
	rss, anon := int64(150<<20), int64(90<<20)
	rep := &report{
		Config: reportConfig{Duration: "2s", Warmup: "500ms", Concurrency: 32, CPUs: 2, GoVersion: "go1.26"},
		Results: []result{
			{Name: "W1", Title: "create", RPS: 10000, P50ms: 1.5, P99ms: 9.25},
			{Name: "W3", Title: "create + async Lua", RPS: 8000, P50ms: 2, P99ms: 12, Errors: 3,
				Drain: &drain{PerSec: 5123, QueueP99ms: 812, Unfinished: 7}},
		},
		Ratios:   ratios{W2W1: &w2},
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
		{"header", 1, "workload               req/s  p50ms  p99ms  errors"},
		{"W1", 2, "W1 create              10000   1.50   9.25       0"},
		{"W3 with drain", 3, "W3 create + async Lua   8000   2.00  12.00       3  drain=5123/s queue-p99=812ms unfinished=7"},
		{"ratios", 4, "W2/W1=0.50  W3/W1=n/a"},
		{"rss", 5, "server peak RSS: W1-W4 150 MB (anonymous 90 MB), W5 150 MB"},
		{"notes", 6, "note: W5 skipped"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.line >= len(lines) || lines[tt.line] != tt.want {
				t.Fatalf("line %d:\n got %q\nwant %q\nreport:\n%s", tt.line, lines[min(tt.line, len(lines)-1)], tt.want, out.String())
			}
		})
	}
}

func TestRatiosOf(t *testing.T) {
	tests := []struct {
		name       string
		results    []result
		w2, w3     float64
		hasW2, has bool
	}{
		{"both", []result{{Name: "W1", RPS: 100}, {Name: "W2", RPS: 50}, {Name: "W3", RPS: 25}}, 0.5, 0.25, true, true},
		{"no W1", []result{{Name: "W2", RPS: 50}}, 0, 0, false, false},
		{"W1 zero", []result{{Name: "W1"}, {Name: "W2", RPS: 50}}, 0, 0, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ratiosOf(tt.results)
			if (r.W2W1 != nil) != tt.hasW2 || (r.W3W1 != nil) != tt.has {
				t.Fatalf("got %+v", r)
			}
			if tt.hasW2 && (*r.W2W1 != tt.w2 || *r.W3W1 != tt.w3) {
				t.Fatalf("got %v %v, want %v %v", *r.W2W1, *r.W3W1, tt.w2, tt.w3)
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
