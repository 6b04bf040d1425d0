package query

import (
	"strings"
	"time"
)

// MaxSortKeys is how many keys one sort may have.
const MaxSortKeys = 8

// SortKey is one key of a sort: a field path, descending when Desc.
type SortKey struct {
	Path string
	Desc bool
}

// ParseSort decodes the sort parameter, "-createdAt,title", also given as several values
// (sort=-createdAt&sort=title). A leading "-" means descending (a leading "+" is accepted and
// means ascending). Spaces around keys and empty keys are ignored; a path given twice counts
// once, with its first direction. Each path is resolved with s; errors are *Error with Param
// "sort". No keys gives nil.
func ParseSort(values []string, s Schema) ([]SortKey, error) {
	var keys []SortKey
	for _, v := range values {
		for rest := v; rest != ""; {
			var item string
			item, rest, _ = strings.Cut(rest, ",")
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			key := SortKey{Path: item}
			switch item[0] {
			case '-':
				key = SortKey{Path: item[1:], Desc: true}
			case '+':
				key.Path = item[1:]
			}
			if !validPath(key.Path) || strings.HasPrefix(key.Path, "-") || strings.HasPrefix(key.Path, "+") {
				return nil, errorf("sort", "invalid field path %s", quote(item))
			}
			if hasSortPath(keys, key.Path) {
				continue
			}
			if len(keys) == MaxSortKeys {
				return nil, errorf("sort", "too many keys (max %d)", MaxSortKeys)
			}
			if s == nil {
				return nil, errorf("sort", "no schema to resolve fields with")
			}
			kind, err := s.Resolve(key.Path)
			if err != nil {
				return nil, errorf("sort", "cannot sort by %s: %v", quote(key.Path), err)
			}
			if !kind.valid() {
				return nil, errorf("sort", "cannot sort by %s: unsupported field kind", quote(key.Path))
			}
			keys = append(keys, key)
		}
	}
	return keys, nil
}

func hasSortPath(keys []SortKey, path string) bool {
	for _, k := range keys {
		if k.Path == path {
			return true
		}
	}
	return false
}

// Compare orders two records by keys and returns -1, 0 or 1. For each key, in ascending
// order, a missing or null value comes first, then booleans (false < true), numbers (compared
// numerically across int64 and float64), strings (byte-wise), arrays and objects; a
// descending key reverses that. Dates are stored as fixed-width UTC RFC 3339 strings, so they
// sort as strings in time order. A nil Getter reads every field as missing.
func Compare(keys []SortKey, a, b Getter) int {
	for _, k := range keys {
		c := compareValues(lookup(a, k.Path), lookup(b, k.Path), 0)
		if c != 0 {
			if k.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

func lookup(get Getter, path string) any {
	if get == nil {
		return nil
	}
	v, ok := get(path)
	if !ok {
		return nil
	}
	return v
}

// Ranks of value types in a sort.
const (
	rankNull = iota
	rankBool
	rankNumber
	rankString
	rankTime
	rankArray
	rankObject
	rankOther
)

func rank(v any) int {
	switch v.(type) {
	case nil:
		return rankNull
	case bool:
		return rankBool
	case string:
		return rankString
	case time.Time:
		return rankTime
	case []any:
		return rankArray
	case map[string]any:
		return rankObject
	}
	if _, ok := toNum(v); ok {
		return rankNumber
	}
	return rankOther
}

// maxCompareDepth bounds the recursion into nested arrays of record values.
const maxCompareDepth = 32

// compareValues is a total order on record values.
func compareValues(a, b any, depth int) int {
	ra, rb := rank(a), rank(b)
	if ra != rb {
		return cmpOrdered(int64(ra), int64(rb))
	}
	switch ra {
	case rankBool:
		return cmpBool(a.(bool), b.(bool))
	case rankString:
		return strings.Compare(a.(string), b.(string))
	case rankTime:
		return a.(time.Time).Compare(b.(time.Time))
	case rankNumber:
		na, _ := toNum(a)
		nb, _ := toNum(b)
		if c, ok := cmpNum(na, nb); ok {
			return c
		}
		// NaN sorts before every other number.
		return cmpOrdered(int64(nanRank(na)), int64(nanRank(nb)))
	case rankArray:
		if depth >= maxCompareDepth {
			return 0
		}
		la, lb := a.([]any), b.([]any)
		for i := 0; i < len(la) && i < len(lb); i++ {
			if c := compareValues(la[i], lb[i], depth+1); c != 0 {
				return c
			}
		}
		return cmpOrdered(int64(len(la)), int64(len(lb)))
	case rankObject:
		return cmpOrdered(int64(len(a.(map[string]any))), int64(len(b.(map[string]any))))
	}
	return 0
}

func nanRank(n num) int {
	if !n.isInt && n.f != n.f {
		return 0
	}
	return 1
}
