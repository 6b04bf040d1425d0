package main

import (
	"testing"
	"time"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		name string
		v    uint64
	}{
		{"zero", 0},
		{"small", 1},
		{"last exact", 2*histSub - 1},
		{"first shifted", 2 * histSub},
		{"second shifted", 2*histSub + 1},
		{"1ms", 1000},
		{"1s", 1_000_000},
		{"odd", 123_456_789},
		{"max", maxMicros},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := bucketOf(tt.v)
			if i < 0 || i >= histBuckets {
				t.Fatalf("bucketOf(%d) = %d, outside [0, %d)", tt.v, i, histBuckets)
			}
			low, width := bucketRange(i)
			if tt.v < low || tt.v >= low+width {
				t.Fatalf("bucketOf(%d) = %d with range [%d, %d)", tt.v, i, low, low+width)
			}
			if tt.v >= 2*histSub && float64(width)/float64(low) > 1.0/histSub {
				t.Fatalf("bucket of %d is %d wide at %d: more than 1/%d", tt.v, width, low, histSub)
			}
			if tt.v < 2*histSub && width != 1 {
				t.Fatalf("bucket of %d is %d wide, want exact", tt.v, width)
			}
		})
	}
}

func TestBucketsAreContiguous(t *testing.T) {
	next := uint64(0)
	for i := range histBuckets {
		low, width := bucketRange(i)
		if low != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, low, next)
		}
		if got := bucketOf(low); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", low, got, i)
		}
		if got := bucketOf(low + width - 1); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", low+width-1, got, i)
		}
		next = low + width
	}
	if next != maxMicros+1 {
		t.Fatalf("buckets end at %d, want %d", next, uint64(maxMicros+1))
	}
}

func TestHistogramQuantile(t *testing.T) {
	us := time.Microsecond
	seq := func(from, to int, unit time.Duration) []time.Duration {
		var out []time.Duration
		for i := from; i <= to; i++ {
			out = append(out, time.Duration(i)*unit)
		}
		return out
	}
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
		tol    float64 // relative
	}{
		{"empty", nil, 0.5, 0, 0},
		{"one value p50", []time.Duration{300 * us}, 0.5, 300 * us, 0},
		{"one value p99", []time.Duration{300 * us}, 0.99, 300 * us, 0},
		{"exact range p50", seq(1, 100, us), 0.5, 50 * us, 0},
		{"exact range p99", seq(1, 100, us), 0.99, 99 * us, 0},
		{"exact range p100", seq(1, 100, us), 1, 100 * us, 0},
		{"exact range p0 is the smallest", seq(1, 100, us), 0, 1 * us, 0},
		{"ms range p50", seq(1, 1000, time.Millisecond), 0.5, 500 * time.Millisecond, 1.0 / histSub},
		{"ms range p99", seq(1, 1000, time.Millisecond), 0.99, 990 * time.Millisecond, 1.0 / histSub},
		{"never above the max", []time.Duration{99841 * us}, 0.99, 99841 * us, 0},
		{"middle of a wide bucket", []time.Duration{99840 * us, 99841 * us, 100000 * us}, 0.5, 99967 * us, 0},
		{"sub-microsecond counts as 0", []time.Duration{100 * time.Nanosecond}, 0.5, 0, 0},
		{"negative counts as 0", []time.Duration{-time.Second}, 0.5, 0, 0},
		{"huge is clamped", []time.Duration{1000 * time.Hour}, 0.5, maxMicros * us, 1.0 / histSub},
		{"outlier does not move p50", append(seq(1, 99, us), time.Minute), 0.5, 50 * us, 0},
		{"outlier is p100", append(seq(1, 99, us), time.Minute), 1, time.Minute, 1.0 / histSub},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHistogram()
			for _, v := range tt.values {
				h.Record(v)
			}
			if h.Count() != uint64(len(tt.values)) {
				t.Fatalf("Count() = %d, want %d", h.Count(), len(tt.values))
			}
			got := h.Quantile(tt.q)
			if diff := float64(got-tt.want) / float64(max(tt.want, 1)); diff > tt.tol || diff < -tt.tol {
				t.Fatalf("Quantile(%v) = %v, want %v (±%.2f%%)", tt.q, got, tt.want, tt.tol*100)
			}
		})
	}
}

func TestHistogramMerge(t *testing.T) {
	tests := []struct {
		name   string
		a, b   []time.Duration
		q      float64
		want   time.Duration
		wantN  uint64
		wantTo time.Duration // the max after merging
	}{
		{"both empty", nil, nil, 0.5, 0, 0, 0},
		{"one empty", []time.Duration{5 * time.Microsecond}, nil, 0.5, 5 * time.Microsecond, 1, 5 * time.Microsecond},
		{"halves", []time.Duration{1 * time.Microsecond, 2 * time.Microsecond}, []time.Duration{3 * time.Microsecond, 4 * time.Microsecond}, 0.5, 2 * time.Microsecond, 4, 4 * time.Microsecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := newHistogram(), newHistogram()
			for _, v := range tt.a {
				a.Record(v)
			}
			for _, v := range tt.b {
				b.Record(v)
			}
			a.Merge(b)
			if a.Count() != tt.wantN {
				t.Fatalf("Count() = %d, want %d", a.Count(), tt.wantN)
			}
			if got := a.Quantile(tt.q); got != tt.want {
				t.Fatalf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
			if got := a.Quantile(1); got != tt.wantTo {
				t.Fatalf("Quantile(1) = %v, want %v", got, tt.wantTo)
			}
		})
	}
}

func TestQuantileOf(t *testing.T) {
	tests := []struct {
		name   string
		values []time.Duration
		q      float64
		want   time.Duration
	}{
		{"empty", nil, 0.99, 0},
		{"one", []time.Duration{7}, 0.99, 7},
		{"unsorted p50", []time.Duration{5, 1, 4, 2, 3}, 0.5, 3},
		{"unsorted p99 of 5", []time.Duration{5, 1, 4, 2, 3}, 0.99, 5},
		{"p99 of 100", func() []time.Duration {
			var out []time.Duration
			for i := 100; i >= 1; i-- {
				out = append(out, time.Duration(i))
			}
			return out
		}(), 0.99, 99},
		{"p0 is the smallest", []time.Duration{3, 2, 9}, 0, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := quantileOf(tt.values, tt.q); got != tt.want {
				t.Fatalf("quantileOf(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}
