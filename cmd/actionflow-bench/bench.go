package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	goruntime "runtime"
	"strings"
	"time"
)

// report is the whole run's outcome.
type report struct {
	Started time.Time    `json:"started"`
	Config  reportConfig `json:"config"`
	Results []result     `json:"results"`
	Ratios  ratios       `json:"ratios"`
	PeakRSS peakRSSes    `json:"serverPeakRSSBytes"`
	// PeakAnon is the anonymous part of the servers' RSS at its peak (heap and stacks;
	// the rest is mapped files, badger's tables), sampled every 100 ms.
	PeakAnon peakRSSes `json:"serverPeakAnonBytes"`
	Notes    []string  `json:"notes,omitempty"`
}

type reportConfig struct {
	Duration    string   `json:"duration"`
	Warmup      string   `json:"warmup"`
	Concurrency int      `json:"concurrency"`
	Workloads   []string `json:"workloads"`
	Quick       bool     `json:"quick"`
	Records     int      `json:"records"`
	URL         string   `json:"url,omitempty"`
	URLDurable  string   `json:"urlDurable,omitempty"`
	Store       string   `json:"store"` // "badger" or "postgres"
	Nodes       int      `json:"nodes"`
	CPUs        int      `json:"cpus"`
	GOMAXPROCS  int      `json:"gomaxprocs"`
	GoVersion   string   `json:"goVersion"`
}

// ratios are request-rate ratios to W1, and the ratios of W1's server CPU time per
// request to W2's and W3's (the rates the server's CPU alone would allow); nil when a
// side did not run or its CPU time is unknown.
type ratios struct {
	W2W1     *float64 `json:"W2/W1"`
	W3W1     *float64 `json:"W3/W1"`
	W2NW1    *float64 `json:"W2N/W1,omitempty"`
	CPUW1W2  *float64 `json:"cpuW1/W2,omitempty"`
	CPUW1W3  *float64 `json:"cpuW1/W3,omitempty"`
	CPUW1W2N *float64 `json:"cpuW1/W2N,omitempty"`
}

// peakRSSes are the servers' VmHWM (or RssAnon peaks); nil when unknown (--url, not
// Linux, or not run).
type peakRSSes struct {
	Main    *int64 `json:"W1-W4"`
	Durable *int64 `json:"W5"`
}

// runBench runs the chosen workloads: W1-W4 on one server, W5 on a durable one. It
// returns the report so far even when it fails.
func runBench(ctx context.Context, opts options, stderr io.Writer) (*report, error) {
	rep := &report{Started: time.Now(), Config: reportConfig{
		Duration: opts.Duration.String(), Warmup: opts.Warmup.String(), Concurrency: opts.Concurrency,
		Workloads: opts.Workloads, Quick: opts.Quick, Records: opts.Records, URL: opts.URL, URLDurable: opts.URLDurable,
		Store: storeKind(opts.Store), Nodes: opts.Nodes,
		CPUs: goruntime.NumCPU(), GOMAXPROCS: goruntime.GOMAXPROCS(0), GoVersion: goruntime.Version(),
	}}
	var main, durable []string
	for _, w := range opts.Workloads {
		if w == "W5" || w == "W5A" {
			durable = append(durable, w)
		} else {
			main = append(main, w)
		}
	}
	var err error
	if len(main) > 0 {
		var rs []result
		rs, rep.PeakRSS.Main, rep.PeakAnon.Main, err = runOnServer(ctx, opts, false, main, stderr)
		rep.Results = append(rep.Results, rs...)
	}
	if err == nil && len(durable) > 0 {
		switch {
		case opts.Store != "":
			rep.Notes = append(rep.Notes, strings.Join(durable, ",")+" skipped: durable mode is badger's (on PostgreSQL every commit is durable as the server is configured)")
		case opts.URL != "" && opts.URLDurable == "":
			rep.Notes = append(rep.Notes, strings.Join(durable, ",")+" skipped: with --url it needs --url-durable")
		default:
			var rs []result
			rs, rep.PeakRSS.Durable, rep.PeakAnon.Durable, err = runOnServer(ctx, opts, true, durable, stderr)
			rep.Results = append(rep.Results, rs...)
		}
	}
	rep.Ratios = ratiosOf(rep.Results)
	for _, r := range rep.Results {
		if r.Errors > 0 {
			rep.Notes = append(rep.Notes, fmt.Sprintf("%s: %d errors, e.g. %s", r.Name, r.Errors, r.FirstError))
		}
		for _, n := range r.Notes {
			rep.Notes = append(rep.Notes, r.Name+": "+n)
		}
	}
	return rep, err
}

// runOnServer starts the servers (unless --url): one on a fresh temporary badger store,
// or --nodes on a fresh schema of the --store database, one after another (the first
// makes the root user). It runs the workloads on them, reads the first one's peak RSS
// (and samples its anonymous part) and stops them all.
func runOnServer(ctx context.Context, opts options, durable bool, names []string, stderr io.Writer) (rs []result, rss, anon *int64, err error) {
	if opts.URL != "" {
		base := opts.URL
		if durable {
			base = opts.URLDurable
		}
		rs, err = runWorkloads(ctx, target{bases: []string{base}}, opts, credentials{Email: opts.RootEmail, Password: opts.RootPassword}, names, stderr)
		return rs, nil, nil, err
	}
	cfg := serverConfig{Durable: durable, RootPassword: randomSecret(12), CPUProfile: opts.CPUProfile, MemProfile: opts.MemProfile,
		ValueThreshold: opts.ValueThresh, Stderr: stderr}
	if durable {
		cfg.CPUProfile, cfg.MemProfile = suffixed(cfg.CPUProfile, ".w5"), suffixed(cfg.MemProfile, ".w5")
	}
	var tg target
	if opts.Store != "" {
		url, drop, err := freshSchema(ctx, opts.Store)
		if err != nil {
			return nil, nil, nil, err
		}
		defer func() { err = errors.Join(err, drop()) }()
		cfg.Store = url
		var why string
		if tg.pg, why = findPostgres(ctx, url); tg.pg == nil {
			fmt.Fprintf(stderr, "actionflow-bench: PostgreSQL's CPU time is not measured: %s\n", why)
		}
	}
	var srvs []*server
	defer func() {
		for _, srv := range srvs {
			err = errors.Join(err, srv.stop(90*time.Second))
		}
	}()
	for i := range opts.Nodes {
		c := cfg
		if i > 0 {
			c.CPUProfile, c.MemProfile = suffixed(c.CPUProfile, fmt.Sprintf(".node%d", i+1)), suffixed(c.MemProfile, fmt.Sprintf(".node%d", i+1))
		}
		srv, err := startServer(ctx, c)
		if err != nil {
			return nil, nil, nil, err
		}
		srvs = append(srvs, srv)
		tg.bases = append(tg.bases, srv.url)
		tg.pids = append(tg.pids, srv.cmd.Process.Pid)
		kind := "server"
		switch {
		case durable:
			kind = "durable server"
		case opts.Nodes > 1:
			kind = fmt.Sprintf("node %d", i+1)
		}
		where := "data " + srv.dir
		if opts.Store != "" {
			where = "store PostgreSQL"
		}
		fmt.Fprintf(stderr, "actionflow-bench: %s at %s (pid %d, %s)\n", kind, srv.url, srv.cmd.Process.Pid, where)
	}
	tg.kill = func(node int) error { return srvs[node].kill() }
	sampler := sampleAnon(srvs[0].cmd.Process.Pid, 100*time.Millisecond)
	defer func() {
		anon = sampler.Stop()
		if n, rerr := srvs[0].PeakRSS(); rerr == nil {
			rss = &n
		}
	}()
	rs, err = runWorkloads(ctx, tg, opts, credentials{Email: defaultRootEmail, Password: cfg.RootPassword}, names, stderr)
	return rs, rss, anon, err
}

// storeKind names the store of a --store URL.
func storeKind(url string) string {
	if url == "" {
		return "badger"
	}
	return "postgres"
}

// suffixed adds suffix to a file name, if there is one.
func suffixed(path, suffix string) string {
	if path == "" {
		return ""
	}
	return path + suffix
}

func ratiosOf(rs []result) ratios {
	rps := map[string]float64{}
	cpu := map[string]float64{}
	for _, r := range rs {
		rps[r.Name] = r.RPS
		if r.ServerCPUus != nil {
			cpu[r.Name] = *r.ServerCPUus
		}
	}
	ratio := func(m map[string]float64, a, b string) *float64 {
		x, okA := m[a]
		y, okB := m[b]
		if !okA || !okB || y == 0 {
			return nil
		}
		v := x / y
		return &v
	}
	return ratios{W2W1: ratio(rps, "W2", "W1"), W3W1: ratio(rps, "W3", "W1"), W2NW1: ratio(rps, "W2N", "W1"),
		CPUW1W2: ratio(cpu, "W1", "W2"), CPUW1W3: ratio(cpu, "W1", "W3"), CPUW1W2N: ratio(cpu, "W1", "W2N")}
}
