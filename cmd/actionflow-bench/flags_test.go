package main

import (
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	t.Setenv("ACTIONFLOW_ROOT_PASSWORD", "")
	t.Setenv("ACTIONFLOW_ROOT_EMAIL", "")
	all := []string{"W1", "W2", "W3", "W4", "W5"}
	tests := []struct {
		name    string
		args    []string
		check   func(t *testing.T, o options)
		wantErr string
	}{
		{name: "defaults", args: nil, check: func(t *testing.T, o options) {
			if o.Duration != 10*time.Second || o.Warmup != 500*time.Millisecond || o.Concurrency != 32 ||
				o.Records != 100_000 || o.DrainTimeout != time.Minute || o.Quick || o.URL != "" ||
				o.RootEmail != "root@actionflow.local" || !slices.Equal(o.Workloads, all) {
				t.Fatalf("defaults: %+v", o)
			}
		}},
		{name: "quick", args: []string{"--quick"}, check: func(t *testing.T, o options) {
			if !o.Quick || o.Duration != 2*time.Second || o.Records != 10_000 || o.DrainTimeout != 20*time.Second {
				t.Fatalf("quick: %+v", o)
			}
		}},
		{name: "quick keeps explicit settings", args: []string{"--quick", "--duration", "5s", "--records", "500", "--drain-timeout", "3s"}, check: func(t *testing.T, o options) {
			if o.Duration != 5*time.Second || o.Records != 500 || o.DrainTimeout != 3*time.Second {
				t.Fatalf("quick with explicit values: %+v", o)
			}
		}},
		{name: "single dash works", args: []string{"-duration=1s", "-concurrency=4"}, check: func(t *testing.T, o options) {
			if o.Duration != time.Second || o.Concurrency != 4 {
				t.Fatalf("got %+v", o)
			}
		}},
		{name: "workloads normalized and ordered", args: []string{"--workloads", " w3,W1 ,w3,"}, check: func(t *testing.T, o options) {
			if !slices.Equal(o.Workloads, []string{"W1", "W3"}) {
				t.Fatalf("workloads %v", o.Workloads)
			}
		}},
		{name: "W2N only when named, after W2", args: []string{"--workloads", "w2n,W1,W2"}, check: func(t *testing.T, o options) {
			if !slices.Equal(o.Workloads, []string{"W1", "W2", "W2N"}) {
				t.Fatalf("workloads %v", o.Workloads)
			}
		}},
		{name: "url with password", args: []string{"--url", "http://127.0.0.1:13000", "--root-password", "pw"}, check: func(t *testing.T, o options) {
			if o.URL != "http://127.0.0.1:13000" || o.RootPassword != "pw" {
				t.Fatalf("got %+v", o)
			}
		}},
		{name: "url with trailing slash", args: []string{"--url", "http://localhost:13000/", "--root-password", "pw"}, check: func(t *testing.T, o options) {}},
		{name: "json and profiles", args: []string{"--json", "out.json", "--cpuprofile", "cpu.out", "--memprofile", "mem.out"}, check: func(t *testing.T, o options) {
			if o.JSONPath != "out.json" || o.CPUProfile != "cpu.out" || o.MemProfile != "mem.out" {
				t.Fatalf("got %+v", o)
			}
		}},
		{name: "unknown workload", args: []string{"--workloads", "W1,W9"}, wantErr: `unknown workload "W9"`},
		{name: "no workload", args: []string{"--workloads", ","}, wantErr: "names no workload"},
		{name: "zero duration", args: []string{"--duration", "0s"}, wantErr: "--duration"},
		{name: "negative warmup", args: []string{"--warmup", "-1s"}, wantErr: "--warmup"},
		{name: "zero concurrency", args: []string{"--concurrency", "0"}, wantErr: "--concurrency"},
		{name: "zero records", args: []string{"--records", "0"}, wantErr: "--records"},
		{name: "url without password", args: []string{"--url", "http://127.0.0.1:13000"}, wantErr: "--root-password"},
		{name: "url without scheme", args: []string{"--url", "127.0.0.1:13000", "--root-password", "x"}, wantErr: "--url"},
		{name: "url with path", args: []string{"--url", "http://127.0.0.1:13000/api", "--root-password", "x"}, wantErr: "without path"},
		{name: "durable url alone", args: []string{"--url-durable", "http://127.0.0.1:13001"}, wantErr: "needs --url"},
		{name: "value threshold", args: []string{"--value-threshold", "512"}, check: func(t *testing.T, o options) {
			if o.ValueThresh != 512 {
				t.Errorf("ValueThresh = %d, want 512", o.ValueThresh)
			}
		}},
		{name: "value threshold with url", args: []string{"--value-threshold", "512", "--url", "http://127.0.0.1:13000", "--root-password", "x"}, wantErr: "not one at --url"},
		{name: "one node by default", args: nil, check: func(t *testing.T, o options) {
			if o.Nodes != 1 || o.Store != "" {
				t.Fatalf("Nodes %d, Store %q; want 1 node on badger", o.Nodes, o.Store)
			}
		}},
		{name: "store and nodes", args: []string{"--store", "postgres://u:p@127.0.0.1:5432/db?sslmode=disable", "--nodes", "2"}, check: func(t *testing.T, o options) {
			if o.Nodes != 2 || o.Store != "postgres://u:p@127.0.0.1:5432/db?sslmode=disable" {
				t.Fatalf("got %+v", o)
			}
		}},
		{name: "postgresql scheme", args: []string{"--store", "postgresql://u@/db?host=/tmp"}, check: func(t *testing.T, o options) {
			if o.Nodes != 1 || o.Store == "" {
				t.Fatalf("got %+v", o)
			}
		}},
		{name: "W3K runs last among the main workloads", args: []string{"--store", "postgres://u@/db", "--nodes", "2", "--workloads", "W3K,W4,W1"}, check: func(t *testing.T, o options) {
			if !slices.Equal(o.Workloads, []string{"W1", "W4", "W3K"}) {
				t.Fatalf("workloads %v", o.Workloads)
			}
		}},
		{name: "nodes without store", args: []string{"--nodes", "2"}, wantErr: "needs --store"},
		{name: "zero nodes", args: []string{"--nodes", "0"}, wantErr: "--nodes must be at least 1"},
		{name: "store not postgres", args: []string{"--store", "badger:///tmp/x"}, wantErr: "want a postgres:// URL"},
		{name: "store without scheme", args: []string{"--store", "/tmp/x"}, wantErr: "want a postgres:// URL"},
		{name: "store with url", args: []string{"--store", "postgres://u@/db", "--url", "http://127.0.0.1:13000", "--root-password", "x"}, wantErr: "not one at --url"},
		{name: "W3K on one node", args: []string{"--store", "postgres://u@/db", "--workloads", "W3K"}, wantErr: "W3K kills a node"},
		{name: "positional argument", args: []string{"W1"}, wantErr: "unexpected argument"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "not defined"},
		{name: "bad duration", args: []string{"--duration", "soon"}, wantErr: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := parseFlags(tt.args, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v", err)
			}
			tt.check(t, o)
		})
	}
}

func TestParseFlagsHelp(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"long", []string{"--help"}},
		{"short", []string{"-h"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			_, err := parseFlags(tt.args, &out)
			if !errors.Is(err, flag.ErrHelp) {
				t.Fatalf("err = %v, want flag.ErrHelp", err)
			}
			for _, want := range []string{"W1  create", "W2", "W2N", "W3", "W4", "W5", "-concurrency", "-quick", "-url", "-store", "-nodes", "W3K"} {
				if !strings.Contains(out.String(), want) {
					t.Fatalf("usage lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}
