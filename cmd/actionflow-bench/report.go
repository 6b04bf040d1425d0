package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"
)

// printReport writes the human report: one aligned line per workload, the ratios of the
// request rates and of the server CPU time per request, the servers' peak RSS and the
// notes.
func printReport(w io.Writer, rep *report) {
	c := rep.Config
	fmt.Fprintf(w, "actionflow-bench: %s per workload after %s warm-up, %d connections, %d CPUs, %s",
		c.Duration, c.Warmup, c.Concurrency, c.CPUs, c.GoVersion)
	if c.Store != "" {
		fmt.Fprintf(w, ", store %s, %d node(s)", c.Store, c.Nodes)
	}
	fmt.Fprintln(w)
	pg := c.Store == "postgres"
	head := []string{"workload", "req/s", "p50ms", "p99ms", "errors", "srv-us/req", "cli-us/req"}
	if pg {
		head = append(head, "pg-us/req")
	}
	rows := [][]string{append(head, "retries/s", "")}
	for _, r := range rep.Results {
		row := []string{r.Name + " " + r.Title, fmt.Sprintf("%.0f", r.RPS),
			fmt.Sprintf("%.2f", r.P50ms), fmt.Sprintf("%.2f", r.P99ms), fmt.Sprint(r.Errors),
			microsText(r.ServerCPUus), microsText(r.ClientCPUus)}
		if pg {
			row = append(row, microsText(r.PostgresCPUus))
		}
		rows = append(rows, append(row, microsText(r.RetriesPerSec), extras(r)))
	}
	writeTable(w, rows)
	fmt.Fprintf(w, "W2/W1=%s  W3/W1=%s", ratioText(rep.Ratios.W2W1), ratioText(rep.Ratios.W3W1))
	if r := rep.Ratios.W2NW1; r != nil {
		fmt.Fprintf(w, "  W2N/W1=%s", ratioText(r))
	}
	fmt.Fprintf(w, "\ncpu W1/W2=%s  W1/W3=%s", ratioText(rep.Ratios.CPUW1W2), ratioText(rep.Ratios.CPUW1W3))
	if r := rep.Ratios.CPUW1W2N; r != nil {
		fmt.Fprintf(w, "  W1/W2N=%s", ratioText(r))
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "server peak RSS: W1-W4 %s, W5 %s\n", rssText(rep.PeakRSS.Main, rep.PeakAnon.Main), rssText(rep.PeakRSS.Durable, rep.PeakAnon.Durable))
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// rssText is a peak RSS with its anonymous part, when known.
func rssText(rss, anon *int64) string {
	if rss == nil || anon == nil {
		return mbText(rss)
	}
	return fmt.Sprintf("%s (anonymous %s)", mbText(rss), mbText(anon))
}

// extras are the workload's fields beyond the common columns.
func extras(r result) string {
	var parts []string
	if d := r.Drain; d != nil {
		parts = append(parts, fmt.Sprintf("drain=%.0f/s queue-p99=%.0fms", d.PerSec, d.QueueP99ms))
		if d.Unfinished > 0 {
			parts = append(parts, fmt.Sprintf("unfinished=%d", d.Unfinished))
		}
		if d.Failed > 0 {
			parts = append(parts, fmt.Sprintf("failed=%d", d.Failed))
		}
	}
	if c := r.Check; c != nil {
		parts = append(parts, fmt.Sprintf("lost=%d doubled=%d", c.Lost, c.Doubled))
	}
	if k := r.Kill; k != nil {
		if k.Finished {
			parts = append(parts, fmt.Sprintf("node 1 killed with %d unfinished: all done %.1fs later", k.AtKill, k.Seconds))
		} else {
			parts = append(parts, fmt.Sprintf("node 1 killed with %d unfinished: not yet: %d left after %.0fs", k.AtKill, k.Left, k.Seconds))
		}
		parts = append(parts, fmt.Sprintf("lost=%d reruns=%d", k.Lost, k.Reruns))
	}
	if f := r.Fairness; f != nil {
		parts = append(parts, fmt.Sprintf("slow: %d timeouts, p50 %.0fms max %.0fms; quick max %.0fms", f.SlowTimeouts, f.SlowP50ms, f.SlowMaxMs, f.QuickMaxMs))
	}
	if s := r.Seed; s != nil {
		parts = append(parts, fmt.Sprintf("seeded %d at %.0f/s", s.Records, s.PerSec))
	}
	return strings.Join(parts, " ")
}

// writeTable writes rows in aligned columns: the first and the last left-aligned, the
// numbers between right-aligned, two spaces apart.
func writeTable(w io.Writer, rows [][]string) {
	var width []int
	for _, row := range rows {
		for i, cell := range row {
			if i >= len(width) {
				width = append(width, 0)
			}
			width[i] = max(width[i], utf8.RuneCountInString(cell))
		}
	}
	for _, row := range rows {
		var b strings.Builder
		for i, cell := range row {
			pad := strings.Repeat(" ", width[i]-utf8.RuneCountInString(cell))
			switch {
			case i == 0:
				b.WriteString(cell + pad)
			case i == len(row)-1:
				b.WriteString("  " + cell)
			default:
				b.WriteString("  " + pad + cell)
			}
		}
		fmt.Fprintln(w, strings.TrimRight(b.String(), " "))
	}
}

func ratioText(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2f", *v)
}

// microsText is a CPU time per request in µs, to a tenth.
func microsText(v *float64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", *v)
}

func mbText(v *int64) string {
	if v == nil {
		return "n/a"
	}
	return fmt.Sprintf("%d MB", (*v+(1<<19))>>20)
}

// writeJSON writes the report as indented JSON.
func writeJSON(path string, rep *report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write json: %w", err)
	}
	return nil
}
