package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTick is the unit of utime and stime in /proc/<pid>/stat: USER_HZ, which Linux fixes
// at 100 per second for user space on the architectures we run on (sysconf(_SC_CLK_TCK)
// would need cgo to ask).
const clockTick = time.Second / 100

// cpuReading is the CPU time (user + system) used so far by the server processes (all
// nodes), by the bench process itself and by the PostgreSQL cluster, and the servers'
// store conflict retries so far; a field is nil when it could not be read (the server is
// not our child, a node has died, there is no /proc, a remote PostgreSQL, no metric).
type cpuReading struct {
	At       time.Time
	Server   *time.Duration
	Client   *time.Duration
	Postgres *time.Duration
	Retries  *float64
}

// readCPU reads the CPU time of the server processes serverPids (none when empty: Server
// stays nil), of this process and of the PostgreSQL cluster pg (when not nil). It never
// fails: what cannot be read stays nil.
func readCPU(serverPids []int, pg *pgCluster) cpuReading {
	c := cpuReading{At: time.Now()}
	if len(serverPids) > 0 {
		var sum time.Duration
		ok := true
		for _, pid := range serverPids {
			d, err := procCPU(pid)
			if err != nil {
				ok = false
				break
			}
			sum += d
		}
		if ok {
			c.Server = &sum
		}
	}
	if d, err := procCPU(os.Getpid()); err == nil {
		c.Client = &d
	}
	if pg != nil {
		if d, err := pg.CPU(); err == nil {
			c.Postgres = &d
		}
	}
	return c
}

// retriesPerSec is the rate of store conflict retries between two readings; nil when
// either lacks them.
func retriesPerSec(from, to cpuReading) *float64 {
	if from.Retries == nil || to.Retries == nil || !to.At.After(from.At) {
		return nil
	}
	v := (*to.Retries - *from.Retries) / to.At.Sub(from.At).Seconds()
	return &v
}

// procCPU reads utime + stime of a process from /proc (Linux only).
func procCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, fmt.Errorf("cpu time: %w", err)
	}
	return parseStatCPU(string(b))
}

// parseStatCPU returns utime + stime (fields 14 and 15) of a /proc/<pid>/stat line. The
// command name (field 2) is in parentheses and may hold spaces and ')', so the fields
// are counted from the last ')'.
func parseStatCPU(stat string) (time.Duration, error) {
	i := strings.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, errors.New("cpu time: malformed stat: no ')'")
	}
	f := strings.Fields(stat[i+1:]) // f[0] is field 3, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("cpu time: malformed stat: %d fields after the command name", len(f))
	}
	var ticks uint64
	for _, s := range f[11:13] {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("cpu time: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * clockTick, nil
}

// perRequest is the CPU time between two readings divided by n requests, in µs; nil
// when a reading is missing or there were no requests.
func perRequest(from, to *time.Duration, n int64) *float64 {
	if from == nil || to == nil || n <= 0 {
		return nil
	}
	v := float64(*to-*from) / float64(time.Microsecond) / float64(n)
	return &v
}
