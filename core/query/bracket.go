package query

import (
	"slices"
	"strconv"
)

// Limits of bracket notation.
const (
	// MaxBracketDepth is how many bracket segments one key may have.
	MaxBracketDepth = 2 * MaxFilterDepth
	// maxBracketIndex bounds an explicit array index ("[12]").
	maxBracketIndex = 1_000_000
)

// ParseBracket decodes bracket notation into the nested value it stands for, as qs (used by
// NocoBase clients) writes it:
//
//	filter[title]=abc               → {"title": "abc"}
//	filter[views][$gt]=5            → {"views": {"$gt": "5"}}
//	filter[$and][0][a]=1            → {"$and": [{"a": "1"}]}
//	filter[id][$in][]=1&...[]=2     → {"id": {"$in": ["1", "2"]}}
//	filter[a]=1&filter[a]=2         → {"a": ["1", "2"]}
//
// args are the (key, value) pairs of the query string, decoded, in order; only keys that start
// with prefix+"[" are used. Leaves are strings (ParseFilterValue coerces them). A container is an
// array when its first segment is a number or empty ("[]" appends); array indices only order
// the elements (gaps are closed up, as qs does). It returns nil when no key uses the prefix.
// A malformed key ("filter[a", "filter[a]b", "filter[a[b]]"), a key that is both a value and a
// container, a key in an array or "[]" on an object is an *Error with Param prefix.
func ParseBracket(prefix string, args [][2]string) (map[string]any, error) {
	open := prefix + "["
	var root map[string]any
	segs := make([]string, 0, 8)
	for _, kv := range args {
		key := kv[0]
		if len(key) < len(open) || key[:len(open)] != open {
			continue
		}
		var ok bool
		segs, ok = splitBrackets(key[len(prefix):], segs[:0])
		if !ok {
			return nil, errorf(prefix, "malformed key %s", quote(key))
		}
		if len(segs) > MaxBracketDepth {
			return nil, errorf(prefix, "key %s is nested too deeply (max %d levels)", quote(key), MaxBracketDepth)
		}
		if root == nil {
			root = map[string]any{}
		}
		if err := putBracket(root, segs, kv[1]); err != nil {
			return nil, errorf(prefix, "key %s: %s", quote(key), err.Message)
		}
	}
	if root == nil {
		return nil, nil
	}
	return finishMap(root), nil
}

// splitBrackets splits "[a][b][]" into "a", "b", "". Segments may not hold brackets.
func splitBrackets(s string, segs []string) ([]string, bool) {
	for s != "" {
		if s[0] != '[' {
			return segs, false
		}
		end := -1
		for i := 1; i < len(s); i++ {
			if s[i] == '[' {
				return segs, false
			}
			if s[i] == ']' {
				end = i
				break
			}
		}
		if end < 0 {
			return segs, false
		}
		segs = append(segs, s[1:end])
		s = s[end+1:]
	}
	return segs, len(segs) > 0
}

// sparseList is an array under construction: elements by index.
type sparseList struct {
	items map[int]any
	next  int
}

func newSparseList() *sparseList { return &sparseList{items: map[int]any{}} }

// putBracket stores val at segs below container c (a map[string]any or a *sparseList).
func putBracket(c any, segs []string, val string) *Error {
	seg, last := segs[0], len(segs) == 1
	switch c := c.(type) {
	case map[string]any:
		if seg == "" {
			return &Error{Message: "\"[]\" appends to an array, but this level holds keys"}
		}
		existing, has := c[seg]
		if last {
			v, err := addLeaf(existing, has, val)
			if err != nil {
				return err
			}
			c[seg] = v
			return nil
		}
		child, err := childContainer(existing, has, segs[1])
		if err != nil {
			return err
		}
		c[seg] = child
		return putBracket(child, segs[1:], val)
	case *sparseList:
		idx := c.next
		if seg != "" {
			n, ok := parseIndex(seg)
			if !ok {
				return &Error{Message: "key " + quote(seg) + " given where array indices are used"}
			}
			idx = n
		}
		if idx >= c.next {
			c.next = idx + 1
		}
		existing, has := c.items[idx]
		if last {
			v, err := addLeaf(existing, has, val)
			if err != nil {
				return err
			}
			c.items[idx] = v
			return nil
		}
		child, err := childContainer(existing, has, segs[1])
		if err != nil {
			return err
		}
		c.items[idx] = child
		return putBracket(child, segs[1:], val)
	}
	return &Error{Message: "conflicting keys"}
}

// addLeaf stores a value where existing may already be: a repeated value becomes a list.
func addLeaf(existing any, has bool, val string) (any, *Error) {
	if !has {
		return val, nil
	}
	switch x := existing.(type) {
	case string:
		l := newSparseList()
		l.items[0], l.items[1], l.next = x, val, 2
		return l, nil
	case *sparseList:
		x.items[x.next] = val
		x.next++
		return x, nil
	}
	return nil, &Error{Message: "is given both as a value and with nested keys"}
}

// childContainer returns the container at a key, creating it by the kind of its first segment.
func childContainer(existing any, has bool, next string) (any, *Error) {
	if !has {
		if next == "" || isDigits(next) {
			return newSparseList(), nil
		}
		return map[string]any{}, nil
	}
	switch existing.(type) {
	case map[string]any, *sparseList:
		return existing, nil
	}
	return nil, &Error{Message: "is given both as a value and with nested keys"}
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func parseIndex(s string) (int, bool) {
	if !isDigits(s) || len(s) > 7 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n < maxBracketIndex
}

func finishMap(m map[string]any) map[string]any {
	for k, v := range m {
		m[k] = finish(v)
	}
	return m
}

func finish(v any) any {
	switch x := v.(type) {
	case map[string]any:
		return finishMap(x)
	case *sparseList:
		idx := make([]int, 0, len(x.items))
		for i := range x.items {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		out := make([]any, len(idx))
		for j, i := range idx {
			out[j] = finish(x.items[i])
		}
		return out
	}
	return v
}
