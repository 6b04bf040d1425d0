package main

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// fakeProc writes a /proc with the given processes: pid → stat fields after the command
// name (state ppid ... utime stime cutime cstime) and cmdline.
func fakeProc(t *testing.T, procs map[int]struct {
	ppid                         int
	utime, stime, cutime, cstime int
	cmdline                      string
}) string {
	t.Helper()
	dir := t.TempDir()
	for pid, p := range procs {
		d := filepath.Join(dir, strconv.Itoa(pid))
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		// Fields 3 to 17: state ppid pgrp session tty tpgid flags minflt cminflt majflt
		// cmajflt utime stime cutime cstime, then a few more.
		stat := strconv.Itoa(pid) + " (postgres: x) S " + strconv.Itoa(p.ppid) + " 1 1 0 -1 4194560 10 0 0 0 " +
			strconv.Itoa(p.utime) + " " + strconv.Itoa(p.stime) + " " + strconv.Itoa(p.cutime) + " " + strconv.Itoa(p.cstime) + " 20 0 1 0\n"
		if err := os.WriteFile(filepath.Join(d, "stat"), []byte(stat), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(d, "cmdline"), []byte(p.cmdline), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Entries that are not processes are skipped.
	if err := os.MkdirAll(filepath.Join(dir, "sys"), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestPostgresCPU(t *testing.T) {
	type proc = struct {
		ppid                         int
		utime, stime, cutime, cstime int
		cmdline                      string
	}
	procs := map[int]proc{
		1:   {0, 1, 1, 5000, 5000, "/sbin/init\x00"},
		100: {1, 10, 5, 100, 50, "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/tmp/pg/data\x00"},
		101: {100, 7, 3, 0, 0, "postgres: checkpointer \x00"},
		102: {100, 20, 10, 0, 0, "postgres: postgres actionflow [local] idle\x00"},
		// Another cluster on the same machine, and the bench itself: not counted.
		200: {1, 1000, 1000, 1000, 1000, "/usr/lib/postgresql/15/bin/postgres\x00-D\x00/other\x00"},
		201: {200, 500, 500, 0, 0, "postgres: postgres other [local] idle\x00"},
		300: {1, 40, 40, 0, 0, "/tmp/go-build/actionflow-bench\x00"},
		301: {300, 40, 40, 0, 0, "/tmp/go-build/actionflow-bench\x00"},
	}
	dir := fakeProc(t, procs)
	tests := []struct {
		name    string
		backend int
		want    time.Duration // -1: an error
	}{
		// postmaster 10+5 + reaped children 100+50 + live children 7+3 and 20+10.
		{"a backend's cluster", 102, 205 * clockTick},
		{"another backend of it finds the same", 101, 205 * clockTick},
		{"the other cluster", 201, (4000 + 1000) * clockTick},
		{"a process whose parent is not postgres", 100, -1},
		{"a process that is not postgres", 301, -1},
		{"no such process", 999, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pg, err := postmasterOf(dir, tt.backend)
			if tt.want < 0 {
				if err == nil {
					t.Fatalf("found postmaster %d, want an error", pg.postmaster)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, err := pg.CPU()
			if err != nil || got != tt.want {
				t.Fatalf("CPU() = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
	t.Run("a child that ended moves into the postmaster's cutime", func(t *testing.T) {
		pg, err := postmasterOf(dir, 102)
		if err != nil {
			t.Fatal(err)
		}
		procs[100] = proc{1, 10, 5, 100 + 20, 50 + 10, procs[100].cmdline}
		delete(procs, 102)
		pg.proc = fakeProc(t, procs)
		if got, err := pg.CPU(); err != nil || got != 205*clockTick {
			t.Fatalf("CPU() = %v, %v; want the same 205 ticks", got, err)
		}
	})
}

func TestLocalHost(t *testing.T) {
	tests := []struct {
		host string
		want bool
	}{
		{"/tmp/actionflow-pg.x", true},
		{"localhost", true},
		{"127.0.0.1", true},
		{"::1", true},
		{"db.example.com", false},
		{"10.0.0.5", false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			if got := localHost(tt.host); got != tt.want {
				t.Fatalf("localHost(%q) = %v, want %v", tt.host, got, tt.want)
			}
		})
	}
}

func TestMetricValue(t *testing.T) {
	text := "# HELP x\nactionflow_store_conflict_retries_total_other 9\nactionflow_store_conflict_retries_total 42\nactionflow_http_requests_total{action=\"a\",code=\"200\"} 3\n"
	tests := []struct {
		name   string
		series string
		want   float64
		ok     bool
	}{
		{"exact name", "actionflow_store_conflict_retries_total", 42, true},
		{"a longer name is another series", "actionflow_store_conflict_retries", 0, false},
		{"absent", "actionflow_nope", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ok := metricValue(text, tt.series)
			if v != tt.want || ok != tt.ok {
				t.Fatalf("metricValue = %v, %v; want %v, %v", v, ok, tt.want, tt.ok)
			}
		})
	}
}

func TestRetriesPerSec(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	f := func(v float64) *float64 { return &v }
	tests := []struct {
		name     string
		from, to cpuReading
		want     *float64
	}{
		{"20 in 2 s", cpuReading{At: t0, Retries: f(100)}, cpuReading{At: t0.Add(2 * time.Second), Retries: f(120)}, f(10)},
		{"none", cpuReading{At: t0, Retries: f(5)}, cpuReading{At: t0.Add(time.Second), Retries: f(5)}, f(0)},
		{"unread at the start", cpuReading{At: t0}, cpuReading{At: t0.Add(time.Second), Retries: f(5)}, nil},
		{"no time passed", cpuReading{At: t0, Retries: f(1)}, cpuReading{At: t0, Retries: f(2)}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := retriesPerSec(tt.from, tt.to)
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Fatalf("retriesPerSec = %v, want %v", got, tt.want)
			}
		})
	}
}
