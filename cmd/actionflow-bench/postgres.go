package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// pgCluster is a local PostgreSQL server whose CPU time the bench reads: its postmaster
// and the processes it started (backends, background workers).
type pgCluster struct {
	proc       string // the /proc directory ("/proc"; a fake one in tests)
	postmaster int
}

// findPostgres finds the postmaster of the PostgreSQL server at url when it runs on this
// machine (a Unix socket or a loopback address): the parent of the bench's own backend
// (SELECT pg_backend_pid()). Nil, with the reason, when the server is remote or its
// processes cannot be read.
func findPostgres(ctx context.Context, url string) (*pgCluster, string) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Sprintf("bad URL: %v", err)
	}
	if !localHost(cfg.Host) {
		return nil, "the server is not on this machine (" + cfg.Host + ")"
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Sprintf("connect: %v", err)
	}
	defer func() { _ = conn.Close(context.Background()) }()
	var backend int
	if err := conn.QueryRow(ctx, "SELECT pg_backend_pid()").Scan(&backend); err != nil {
		return nil, fmt.Sprintf("pg_backend_pid: %v", err)
	}
	pg, err := postmasterOf("/proc", backend)
	if err != nil {
		return nil, err.Error()
	}
	return pg, ""
}

// localHost reports whether a libpq host names this machine: a Unix socket directory or
// a loopback address.
func localHost(host string) bool {
	if strings.HasPrefix(host, "/") || host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// postmasterOf returns the cluster whose backend is the process backend: its parent,
// which must be a postgres process too.
func postmasterOf(proc string, backend int) (*pgCluster, error) {
	st, err := readStat(proc, backend)
	if err != nil {
		return nil, fmt.Errorf("pg cpu: backend %d: %w", backend, err)
	}
	for _, pid := range []int{backend, st.ppid} {
		cmd, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "cmdline"))
		if err != nil {
			return nil, fmt.Errorf("pg cpu: %w", err)
		}
		if !isPostgres(string(cmd)) {
			return nil, fmt.Errorf("pg cpu: process %d is not PostgreSQL's (%q)", pid, firstArg(string(cmd)))
		}
	}
	return &pgCluster{proc: proc, postmaster: st.ppid}, nil
}

// isPostgres reports whether a /proc/<pid>/cmdline is a PostgreSQL server process's: the
// postmaster (".../bin/postgres -D ...") or one of its children, which rename themselves
// ("postgres: walwriter", "postgres: user db [local] idle").
func isPostgres(cmdline string) bool {
	name := filepath.Base(firstArg(cmdline))
	return name == "postgres" || name == "postmaster" || strings.HasPrefix(name, "postgres:")
}

func firstArg(cmdline string) string {
	arg, _, _ := strings.Cut(cmdline, "\x00")
	return arg
}

// CPU is the CPU time (user + system) the cluster has used: the postmaster's own, that
// of its children that have ended (the kernel adds it to the postmaster's cutime and
// cstime when it reaps them), and that of its children alive now.
func (c *pgCluster) CPU() (time.Duration, error) {
	st, err := readStat(c.proc, c.postmaster)
	if err != nil {
		return 0, fmt.Errorf("pg cpu: postmaster: %w", err)
	}
	total := st.self + st.children
	entries, err := os.ReadDir(c.proc)
	if err != nil {
		return 0, fmt.Errorf("pg cpu: %w", err)
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == c.postmaster {
			continue
		}
		child, err := readStat(c.proc, pid)
		if err != nil || child.ppid != c.postmaster {
			continue // gone since the listing, or not ours
		}
		total += child.self
	}
	return total, nil
}

// procStat is what the bench reads of /proc/<pid>/stat.
type procStat struct {
	ppid     int
	self     time.Duration // utime + stime
	children time.Duration // cutime + cstime: children waited for
}

func readStat(proc string, pid int) (procStat, error) {
	b, err := os.ReadFile(filepath.Join(proc, strconv.Itoa(pid), "stat"))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// parseStat reads the parent (field 4), utime + stime (14, 15) and cutime + cstime (16,
// 17) of a /proc/<pid>/stat line, counting fields from the last ')' as parseStatCPU does.
func parseStat(stat string) (procStat, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return procStat{}, errors.New("malformed stat: no ')'")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3
	if len(f) < 15 {
		return procStat{}, fmt.Errorf("malformed stat: %d fields after the command name", len(f))
	}
	var n [5]int64
	for j, k := range []int{1, 11, 12, 13, 14} {
		v, err := strconv.ParseInt(f[k], 10, 64)
		if err != nil {
			return procStat{}, fmt.Errorf("malformed stat: %w", err)
		}
		n[j] = v
	}
	return procStat{ppid: int(n[0]), self: time.Duration(n[1]+n[2]) * clockTick, children: time.Duration(n[3]+n[4]) * clockTick}, nil
}

// freshSchema creates a schema bench_<random> on the PostgreSQL server at url and returns
// url with search_path set to it, so that the servers of this run see no other run's
// data, and a function that drops it.
func freshSchema(ctx context.Context, url string) (string, func() error, error) {
	schema := "bench_" + randomSecret(6)
	exec := func(ctx context.Context, sql string) error {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		conn, err := pgx.Connect(ctx, url)
		if err != nil {
			return err
		}
		defer func() { _ = conn.Close(context.Background()) }()
		_, err = conn.Exec(ctx, sql)
		return err
	}
	if err := exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, fmt.Errorf("postgres: create schema: %w", err)
	}
	drop := func() error {
		if err := exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("postgres: drop schema %s: %w", schema, err)
		}
		return nil
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema, drop, nil
}
