package value

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ParseID reads a record id given as a string (filterByTk, a path segment, a list item):
// decimal digits only, from 1 to MaxSafeInt.
func ParseID(s string) (uint64, bool) {
	id, err := strconv.ParseUint(s, 10, 64)
	return id, err == nil && id > 0 && id <= MaxSafeInt
}

// ID reads a record id given as a JSON value: a positive integral number (json.Number,
// float64, int64, int) or a string ParseID accepts.
func ID(v any) (uint64, error) {
	var (
		id uint64
		ok bool
	)
	switch x := v.(type) {
	case json.Number:
		id, ok = ParseID(string(x))
		if !ok {
			if f, err := x.Float64(); err == nil {
				id, ok = floatID(f)
			}
		}
	case float64:
		id, ok = floatID(x)
	case int64:
		id, ok = uint64(x), x > 0 && x <= MaxSafeInt
	case int:
		id, ok = uint64(x), x > 0 && x <= MaxSafeInt
	case string:
		id, ok = ParseID(x)
	}
	if !ok {
		return 0, fmt.Errorf("%v is not a record id", v)
	}
	return id, nil
}

func floatID(f float64) (uint64, bool) {
	if f < 1 || f > MaxSafeInt || f != math.Trunc(f) {
		return 0, false
	}
	return uint64(f), true
}

// ParseIDs reads lists of record ids such as "1,2" (each item trimmed, empty items skipped):
// the ids in order, each once, and the first item that is not an id ("" when all are).
func ParseIDs(lists ...string) (ids []uint64, bad string) {
	seen := map[uint64]bool{}
	for _, list := range lists {
		for _, s := range strings.Split(list, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			id, ok := ParseID(s)
			if !ok {
				if bad == "" {
					bad = s
				}
				continue
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, bad
}

// IDOf is the id of a record in stored form (its "id" an int64), 0 when it has none.
func IDOf(r map[string]any) uint64 {
	if id, ok := r["id"].(int64); ok && id > 0 {
		return uint64(id)
	}
	return 0
}
