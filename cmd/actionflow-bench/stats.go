package main

import (
	"math"
	"math/bits"
	"slices"
	"time"
)

// histogram counts durations in microseconds in log-linear buckets: exact below 512µs and
// within 1/256 (0.4%) of the value above, up to maxMicros. Its size is fixed, so a load
// goroutine can record every request for as long as it runs; histograms of several
// goroutines are merged at the end.
type histogram struct {
	counts []uint64
	n      uint64
	max    uint64 // largest value recorded, µs
}

const (
	histSubBits = 8
	histSub     = 1 << histSubBits // values below 2*histSub have their own bucket
	histMaxBits = 36               // ~19 hours in µs; larger values are clamped
	histBuckets = histSub * (histMaxBits - histSubBits + 1)
	maxMicros   = 1<<histMaxBits - 1
)

func newHistogram() *histogram { return &histogram{counts: make([]uint64, histBuckets)} }

// bucketOf maps a value to its bucket. Values below 2*histSub map to themselves; above,
// a bucket keeps the top histSubBits+1 bits of the value.
func bucketOf(v uint64) int {
	if v > maxMicros {
		v = maxMicros
	}
	if v < 2*histSub {
		return int(v)
	}
	shift := bits.Len64(v) - histSubBits - 1
	return histSub*(shift+1) + int(v>>shift) - histSub
}

// bucketRange is the smallest value of a bucket and its width.
func bucketRange(i int) (low, width uint64) {
	if i < 2*histSub {
		return uint64(i), 1
	}
	shift := i/histSub - 1
	m := uint64(i%histSub + histSub)
	return m << shift, 1 << shift
}

// Record adds one duration.
func (h *histogram) Record(d time.Duration) {
	v := uint64(max(d.Microseconds(), 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, min(v, maxMicros))
}

// Count is the number of recorded values.
func (h *histogram) Count() uint64 { return h.n }

// Merge adds the counts of o.
func (h *histogram) Merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// Quantile returns the value at quantile q (0..1) by the nearest-rank method: the middle
// of the bucket holding the ceil(q*n)-th smallest value, never more than the largest
// value recorded. It is 0 for an empty histogram.
func (h *histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := rankOf(q, int(h.n))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= uint64(rank) {
			low, width := bucketRange(i)
			v := min(low+(width-1)/2, h.max)
			return time.Duration(v) * time.Microsecond
		}
	}
	return time.Duration(h.max) * time.Microsecond
}

// rankOf is the 1-based nearest rank of quantile q among n values.
func rankOf(q float64, n int) int {
	r := int(math.Ceil(q * float64(n)))
	return min(max(r, 1), n)
}

// quantileOf returns the nearest-rank quantile q of the values (sorting them in place);
// 0 when there are none.
func quantileOf(values []time.Duration, q float64) time.Duration {
	if len(values) == 0 {
		return 0
	}
	slices.Sort(values)
	return values[rankOf(q, len(values))-1]
}

// ms is a duration in milliseconds, for reports.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
