package runtime

import (
	"context"
	"os"
	goruntime "runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasure prints the numbers quoted in doc.go. It is skipped unless
// ACTIONFLOW_MEASURE=1 (it allocates hundreds of MB and takes a while):
//
//	ACTIONFLOW_MEASURE=1 go test -run TestMeasure -v ./runtime/
func TestMeasure(t *testing.T) {
	if os.Getenv("ACTIONFLOW_MEASURE") != "1" {
		t.Skip("set ACTIONFLOW_MEASURE=1")
	}
	t.Run("memory ceiling", func(t *testing.T) {
		bombs := map[string]string{
			"table growth":  `local t = {} local i = 0 while true do i = i + 1 t[i] = {i, i} end`,
			"string tables": `local t = {} while true do t[#t + 1] = ("x"):rep(1e6 - #t) end`,
			"concat loop":   `local t = {} local s = ("x"):rep(5e5) while true do t[#t + 1] = s .. #t end`,
			"sparse index":  `local t = {} local i = 1 while true do t[i * 1048576] = {} i = i + 1 end`,
			"array part":    `local k = {} while true do local t = {} t[1048575] = 1 k[#k + 1] = t end`,
		}
		for name, src := range bombs {
			goruntime.GC()
			resetPeakRSS(t)
			e := newEngine(t, Config{Workers: 2, Timeout: 30 * time.Second, MemoryLimit: 256 << 20})
			s := mustCompile(t, e, "bomb", src)
			var peak atomic.Uint64
			done := make(chan struct{})
			go func() {
				sample := []metrics.Sample{{Name: heapMetric}}
				for {
					select {
					case <-done:
						return
					case <-time.After(time.Millisecond):
					}
					metrics.Read(sample)
					if v := sample[0].Value.Uint64(); v > peak.Load() {
						peak.Store(v)
					}
				}
			}()
			start := time.Now()
			res := e.Run(context.Background(), Request{Script: s})
			close(done)
			t.Logf("%-14s limit 256 MiB: ended after %v with %v; peak heap %d MiB, peak RSS %d MiB",
				name, time.Since(start).Round(time.Millisecond), res.Err, peak.Load()>>20, peakRSS(t)>>10)
			e.Close()
		}
	})
	t.Run("timeout precision", func(t *testing.T) {
		e := newEngine(t, Config{Workers: 1})
		cases := map[string]string{
			"loop":           `while true do end`,
			"pcall loop":     `while true do pcall(function() while true do end end) end`,
			"pattern budget": `return string.rep("a", 1e6):find(".-.-.-b$")`,
			"sort 1M":        `local t = {} for i = 1, 1e6 do t[i] = (i * 7919) % 1e6 end while true do table.sort(t) end`,
		}
		for name, src := range cases {
			s := mustCompile(t, e, "p", src)
			for _, d := range []time.Duration{10 * time.Millisecond, 100 * time.Millisecond} {
				var worst time.Duration
				for i := 0; i < 5; i++ {
					start := time.Now()
					res := e.Run(context.Background(), Request{Script: s, Timeout: d})
					over := time.Since(start) - d
					if res.Err == nil {
						t.Fatalf("%s ended without error", name)
					}
					worst = max(worst, over)
				}
				t.Logf("%-14s deadline %v: worst overshoot %v", name, d, worst.Round(100*time.Microsecond))
			}
		}
	})
}

func resetPeakRSS(t *testing.T) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Logf("cannot reset peak RSS: %v", err)
	}
}

// peakRSS returns VmHWM in KiB.
func peakRSS(t *testing.T) uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			f := strings.Fields(line)
			n, _ := strconv.ParseUint(f[1], 10, 64)
			return n
		}
	}
	return 0
}
