package query

import (
	"strings"
	"time"
)

// Getter returns the value at a (dotted) path of one record, and whether it exists.
// Record values are string, int64, float64, bool, nil, map[string]any and []any; dates are
// stored as RFC 3339 strings with millisecond precision in UTC ("2006-01-02T15:04:05.000Z").
type Getter func(path string) (any, bool)

// Match reports whether the record read by get matches the filter. A nil node matches
// everything; a nil get reads every field as missing.
//
//   - $eq/$ne, $in/$notIn: numbers compare numerically across int64 and float64; dates compare
//     as instants (the stored string is parsed); json values compare deeply; null (a nil
//     Value) equals a missing or null field.
//   - $gt/$gte/$lt/$lte: numbers numerically, dates as instants, strings byte-wise
//     (lexicographically), booleans false < true. Values of different types do not compare.
//   - $includes/$notIncludes: a case-insensitive substring test on strings (as NocoBase's
//     iLike); element membership (with $eq's equality) on arrays.
//   - $startsWith/$endsWith: case-insensitive, strings only.
//   - $empty: missing, null, "", an empty array or an empty object; $notEmpty the opposite.
//   - Any comparison with a missing or null field is false, except $ne (unless comparing with
//     null), $notIn, $notIncludes and $empty, which are true.
//   - $and of nothing is true; $or of nothing is false.
//
// Match does not allocate for scalar comparisons.
func (n *Node) Match(get Getter) bool {
	if n == nil {
		return true
	}
	switch n.Op {
	case OpAnd:
		for _, c := range n.Children {
			if !c.Match(get) {
				return false
			}
		}
		return true
	case OpOr:
		for _, c := range n.Children {
			if c.Match(get) {
				return true
			}
		}
		return false
	}
	var v any
	if get != nil {
		if got, ok := get(n.Path); ok {
			v = got
		}
	}
	return matchLeaf(n.Op, v, n.Value)
}

func matchLeaf(op Op, v, want any) bool {
	switch op {
	case OpEq:
		return equal(v, want)
	case OpNe:
		return !equal(v, want)
	case OpGt:
		c, ok := order(v, want)
		return ok && c > 0
	case OpGte:
		c, ok := order(v, want)
		return ok && c >= 0
	case OpLt:
		c, ok := order(v, want)
		return ok && c < 0
	case OpLte:
		c, ok := order(v, want)
		return ok && c <= 0
	case OpIn:
		return in(v, want)
	case OpNotIn:
		return !in(v, want)
	case OpIncludes:
		return includes(v, want)
	case OpNotIncludes:
		return !includes(v, want)
	case OpStartsWith:
		s, ok1 := v.(string)
		w, ok2 := want.(string)
		return ok1 && ok2 && len(s) >= len(w) && strings.EqualFold(s[:len(w)], w)
	case OpEndsWith:
		s, ok1 := v.(string)
		w, ok2 := want.(string)
		return ok1 && ok2 && len(s) >= len(w) && strings.EqualFold(s[len(s)-len(w):], w)
	case OpEmpty:
		return isEmpty(v)
	case OpNotEmpty:
		return !isEmpty(v)
	}
	return false
}

// equal is $eq's equality between a record value v and an operand want.
func equal(v, want any) bool {
	switch w := want.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == w
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case time.Time:
		t, ok := asTime(v)
		return ok && t.Equal(w)
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok || len(m) != len(w) {
			return false
		}
		for k, wv := range w {
			mv, ok := m[k]
			if !ok || !equal(mv, wv) {
				return false
			}
		}
		return true
	case []any:
		l, ok := v.([]any)
		if !ok || len(l) != len(w) {
			return false
		}
		for i := range w {
			if !equal(l[i], w[i]) {
				return false
			}
		}
		return true
	}
	wn, ok := toNum(want)
	if !ok {
		return false
	}
	vn, ok := toNum(v)
	if !ok {
		return false
	}
	c, ok := cmpNum(vn, wn)
	return ok && c == 0
}

// order compares a record value v with an operand want for $gt and friends; ok is false when
// they do not compare (missing, null, different types).
func order(v, want any) (int, bool) {
	if v == nil || want == nil {
		return 0, false
	}
	switch w := want.(type) {
	case string:
		s, ok := v.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(s, w), true
	case bool:
		b, ok := v.(bool)
		if !ok {
			return 0, false
		}
		return cmpBool(b, w), true
	case time.Time:
		t, ok := asTime(v)
		if !ok {
			return 0, false
		}
		return t.Compare(w), true
	}
	wn, ok := toNum(want)
	if !ok {
		return 0, false
	}
	vn, ok := toNum(v)
	if !ok {
		return 0, false
	}
	return cmpNum(vn, wn)
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// asTime reads a stored date: an RFC 3339 string (or a time.Time).
func asTime(v any) (time.Time, bool) {
	switch x := v.(type) {
	case string:
		return parseDate(x)
	case time.Time:
		return x, true
	}
	return time.Time{}, false
}

func in(v, list any) bool {
	l, _ := list.([]any)
	for _, w := range l {
		if equal(v, w) {
			return true
		}
	}
	return false
}

func includes(v, want any) bool {
	switch x := v.(type) {
	case string:
		w, ok := want.(string)
		return ok && containsFold(x, w)
	case []any:
		for _, e := range x {
			if equal(e, want) {
				return true
			}
		}
	}
	return false
}

func isEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return x == ""
	case []any:
		return len(x) == 0
	case map[string]any:
		return len(x) == 0
	}
	return false
}

// Paths lists the distinct field paths the filter reads, in the order they first appear, so
// that the caller can pre-load associations. It is nil for a nil node.
func (n *Node) Paths() []string {
	var out []string
	n.walk(func(leaf *Node) {
		for _, p := range out {
			if p == leaf.Path {
				return
			}
		}
		out = append(out, leaf.Path)
	})
	return out
}

func (n *Node) walk(fn func(leaf *Node)) {
	if n == nil {
		return
	}
	if n.Op == OpAnd || n.Op == OpOr {
		for _, c := range n.Children {
			c.walk(fn)
		}
		return
	}
	fn(n)
}

// Cond is a condition usable for an index lookup: the field at Path equals one of Values.
type Cond struct {
	Path   string
	Values []any
}

// IndexableEq returns the conditions usable for an index lookup: the top-level $eq/$in
// conditions that every matching record satisfies (the root node itself, or direct children of
// a root $and), as (path, values). Conditions with null, object or array values are left out.
// The caller picks one whose path is indexed; an empty Values means nothing can match.
func (n *Node) IndexableEq() []Cond {
	if n == nil {
		return nil
	}
	if n.Op != OpAnd {
		if c, ok := indexable(n); ok {
			return []Cond{c}
		}
		return nil
	}
	var out []Cond
	for _, child := range n.Children {
		if c, ok := indexable(child); ok {
			out = append(out, c)
		}
	}
	return out
}

func indexable(n *Node) (Cond, bool) {
	if n == nil {
		return Cond{}, false
	}
	switch n.Op {
	case OpEq:
		if !isIndexKey(n.Value) {
			return Cond{}, false
		}
		return Cond{Path: n.Path, Values: []any{n.Value}}, true
	case OpIn:
		list, ok := n.Value.([]any)
		if !ok {
			return Cond{}, false
		}
		for _, v := range list {
			if !isIndexKey(v) {
				return Cond{}, false
			}
		}
		return Cond{Path: n.Path, Values: append([]any{}, list...)}, true
	}
	return Cond{}, false
}

func isIndexKey(v any) bool {
	switch v.(type) {
	case string, bool, time.Time:
		return true
	}
	_, ok := toNum(v)
	return ok
}

// Without returns the filter minus the condition c as returned by IndexableEq, so that a
// caller who answered c with an index knows what is left to check: nil when nothing is.
// When c is not one of n's indexable conditions, n is returned unchanged. n is not modified.
func (n *Node) Without(c Cond) *Node {
	if n == nil {
		return nil
	}
	if sameCond(n, c) {
		return nil
	}
	if n.Op != OpAnd {
		return n
	}
	rest := make([]*Node, 0, len(n.Children))
	for _, child := range n.Children {
		if !sameCond(child, c) {
			rest = append(rest, child)
		}
	}
	switch len(rest) {
	case len(n.Children):
		return n
	case 0:
		return nil
	case 1:
		return rest[0]
	}
	return &Node{Op: OpAnd, Children: rest}
}

func sameCond(n *Node, c Cond) bool {
	got, ok := indexable(n)
	if !ok || got.Path != c.Path || len(got.Values) != len(c.Values) {
		return false
	}
	for i := range got.Values {
		if !equal(got.Values[i], c.Values[i]) || !equal(c.Values[i], got.Values[i]) {
			return false
		}
	}
	return true
}

// containsFold reports whether sub is within s, ignoring case, without allocating.
func containsFold(s, sub string) bool {
	if sub == "" {
		return true
	}
	for i := 0; i+len(sub) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(sub)], sub) {
			return true
		}
	}
	return false
}
