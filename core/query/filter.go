package query

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Op is a filter operator.
type Op string

// The filter operators (API.md §2).
const (
	OpAnd         Op = "$and"
	OpOr          Op = "$or"
	OpEq          Op = "$eq"
	OpNe          Op = "$ne"
	OpGt          Op = "$gt"
	OpGte         Op = "$gte"
	OpLt          Op = "$lt"
	OpLte         Op = "$lte"
	OpIn          Op = "$in"
	OpNotIn       Op = "$notIn"
	OpIncludes    Op = "$includes"
	OpNotIncludes Op = "$notIncludes"
	OpStartsWith  Op = "$startsWith"
	OpEndsWith    Op = "$endsWith"
	OpEmpty       Op = "$empty"
	OpNotEmpty    Op = "$notEmpty"
)

// Limits of a filter.
const (
	// MaxFilterDepth is how deeply the objects of a filter may nest: the filter object itself
	// is level 1, and every object inside it (an operator object, an element of $and/$or, a
	// nesting prefix, an object or array inside a json value) adds one level.
	MaxFilterDepth = 16
	// MaxFilterNodes is how many nodes (conditions plus $and/$or) a compiled filter may hold.
	MaxFilterNodes = 256
	// MaxInValues is how many values one $in or $notIn may list.
	MaxInValues = 1000
)

// Node is the compiled filter tree. For $and/$or, Children is set; otherwise Path, Op, Value.
//
// Value is already coerced to the field's kind: int64 for KindInteger, float64 for KindFloat,
// string for KindString, bool for KindBool, time.Time (UTC) for KindDate, and for KindJSON a
// decoded JSON value (nil, bool, int64, float64, string, []any, map[string]any). For $in and
// $notIn it is a []any of coerced values; for $empty and $notEmpty it is nil. A nil Value with
// $eq/$ne/$in/$notIn stands for JSON null, which matches a missing or null field.
type Node struct {
	Op       Op
	Path     string
	Value    any
	Children []*Node
}

// ParseFilter decodes a JSON filter (API.md §2) against the schema s.
//
// Empty input, "null" and "{}" give nil, nil: no filter. Errors are *Error with Param
// "filter", naming the path or operator that is wrong. See the package documentation for the
// accepted forms and the coercion rules.
func ParseFilter(raw []byte, s Schema) (*Node, error) {
	if isBlankJSON(raw) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errorf(paramFilter, "invalid JSON: %v", err)
	}
	if off := dec.InputOffset(); off < 0 || off > int64(len(raw)) || !isBlankJSON(raw[off:]) {
		return nil, errorf(paramFilter, "invalid JSON: unexpected data after the filter object")
	}
	return ParseFilterValue(v, s)
}

// ParseFilterValue is ParseFilter for an already decoded value: a map[string]any as produced by
// encoding/json (with or without UseNumber) or by ParseBracket, whose leaves may be strings,
// bools, nil, float64, json.Number or Go integers. nil and an empty map give nil, nil.
func ParseFilterValue(v any, s Schema) (*Node, error) {
	if v == nil {
		return nil, nil
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errorf(paramFilter, "the filter must be a JSON object, got %s", describe(v))
	}
	if s == nil {
		return nil, errorf(paramFilter, "no schema to resolve fields with")
	}
	p := &parser{schema: s}
	return p.object(obj, "", 1)
}

const paramFilter = "filter"

func isBlankJSON(b []byte) bool {
	for _, c := range b {
		switch c {
		case ' ', '\t', '\n', '\r':
		default:
			return false
		}
	}
	return true
}

// parser compiles one filter; it lives for one call.
type parser struct {
	schema Schema
	nodes  int
}

// at renders the location of an error: ` at "path"`, or nothing at the top level.
func at(path string) string {
	if path == "" {
		return ""
	}
	return " at " + quote(path)
}

func (p *parser) count() error {
	p.nodes++
	if p.nodes > MaxFilterNodes {
		return errorf(paramFilter, "too many conditions (max %d)", MaxFilterNodes)
	}
	return nil
}

func checkDepth(depth int, path string) error {
	if depth > MaxFilterDepth {
		return errorf(paramFilter, "nested too deeply%s (max %d levels)", at(path), MaxFilterDepth)
	}
	return nil
}

// object compiles a filter object whose keys are fields, comparison operators on prefix, and
// $and/$or. It returns nil when the object puts no condition (e.g. {}).
func (p *parser) object(obj map[string]any, prefix string, depth int) (*Node, error) {
	if err := checkDepth(depth, prefix); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var children []*Node
	for _, k := range keys {
		val := obj[k]
		var n *Node
		var err error
		switch op := Op(k); {
		case op == OpAnd || op == OpOr:
			n, err = p.logical(op, val, prefix, depth)
		case strings.HasPrefix(k, "$"):
			if !isComparison(op) {
				return nil, errorf(paramFilter, "unknown operator %s%s", quote(k), at(prefix))
			}
			if prefix == "" {
				return nil, errorf(paramFilter, "operator %s needs a field, e.g. {\"title\": {%q: ...}}", quote(k), k)
			}
			n, err = p.leaf(op, prefix, val, depth)
		default:
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			if !validPath(path) {
				return nil, errorf(paramFilter, "invalid field path %s", quote(path))
			}
			n, err = p.field(path, val, depth)
		}
		if err != nil {
			return nil, err
		}
		if n != nil {
			children = append(children, n)
		}
	}
	return p.combine(OpAnd, children)
}

// field compiles the value given for a field key: an object is a set of operators and/or a
// nesting prefix; a bare array is $in (or $eq for a json field); anything else is $eq.
func (p *parser) field(path string, val any, depth int) (*Node, error) {
	if m, ok := val.(map[string]any); ok {
		return p.object(m, path, depth+1)
	}
	if _, ok := asList(val); ok {
		kind, err := p.resolve(path)
		if err != nil {
			return nil, err
		}
		if kind != KindJSON {
			return p.leafKind(OpIn, path, kind, val, depth)
		}
		return p.leafKind(OpEq, path, kind, val, depth)
	}
	return p.leaf(OpEq, path, val, depth)
}

// logical compiles $and/$or: an array of filter objects, all relative to prefix.
func (p *parser) logical(op Op, val any, prefix string, depth int) (*Node, error) {
	list, ok := asList(val)
	if !ok {
		return nil, errorf(paramFilter, "%s%s expects an array of conditions, got %s", op, at(prefix), describe(val))
	}
	var children []*Node
	matchAll := false
	for i, el := range list {
		m, ok := el.(map[string]any)
		if !ok {
			return nil, errorf(paramFilter, "%s%s expects an array of objects, element %d is %s", op, at(prefix), i, describe(el))
		}
		n, err := p.object(m, prefix, depth+1)
		if err != nil {
			return nil, err
		}
		if n == nil {
			// An empty element puts no condition: it is true.
			matchAll = true
			continue
		}
		children = append(children, n)
	}
	if op == OpOr {
		if matchAll {
			return nil, nil
		}
		if len(children) == 0 {
			// $or of nothing matches nothing.
			if err := p.count(); err != nil {
				return nil, err
			}
			return &Node{Op: OpOr}, nil
		}
	}
	return p.combine(op, children)
}

// combine joins children under op: none gives nil (only used for $and, where it means true),
// one gives the child itself, and children of the same op are flattened into the new node.
func (p *parser) combine(op Op, children []*Node) (*Node, error) {
	switch len(children) {
	case 0:
		return nil, nil
	case 1:
		return children[0], nil
	}
	flat := make([]*Node, 0, len(children))
	for _, c := range children {
		if c.Op == op {
			flat = append(flat, c.Children...)
		} else {
			flat = append(flat, c)
		}
	}
	if err := p.count(); err != nil {
		return nil, err
	}
	return &Node{Op: op, Children: flat}, nil
}

func (p *parser) resolve(path string) (Kind, error) {
	kind, err := p.schema.Resolve(path)
	if err != nil {
		return 0, errorf(paramFilter, "cannot filter on %s: %v", quote(path), err)
	}
	if !kind.valid() {
		return 0, errorf(paramFilter, "cannot filter on %s: unsupported field kind", quote(path))
	}
	return kind, nil
}

// leaf compiles one comparison on path.
func (p *parser) leaf(op Op, path string, val any, depth int) (*Node, error) {
	kind, err := p.resolve(path)
	if err != nil {
		return nil, err
	}
	return p.leafKind(op, path, kind, val, depth)
}

func (p *parser) leafKind(op Op, path string, kind Kind, val any, depth int) (*Node, error) {
	if err := p.count(); err != nil {
		return nil, err
	}
	c := coercer{op: op, path: path, kind: kind}
	n := &Node{Op: op, Path: path}
	switch op {
	case OpEq, OpNe:
		v, err := c.value(val, true, depth)
		if err != nil {
			return nil, err
		}
		n.Value = v
	case OpGt, OpGte, OpLt, OpLte:
		if kind == KindJSON {
			if err := c.scalar(val); err != nil {
				return nil, err
			}
		}
		v, err := c.value(val, false, depth)
		if err != nil {
			return nil, err
		}
		n.Value = v
	case OpIn, OpNotIn:
		list, ok := asList(val)
		if !ok {
			return nil, errorf(paramFilter, "%s at %s expects an array, got %s", op, quote(path), describe(val))
		}
		if len(list) > MaxInValues {
			return nil, errorf(paramFilter, "%s at %s lists too many values (max %d)", op, quote(path), MaxInValues)
		}
		out := make([]any, len(list))
		for i, el := range list {
			v, err := c.value(el, true, depth)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		n.Value = out
	case OpIncludes, OpNotIncludes:
		switch kind {
		case KindString:
			v, err := c.value(val, false, depth)
			if err != nil {
				return nil, err
			}
			n.Value = v
		case KindJSON:
			v, err := c.value(val, true, depth)
			if err != nil {
				return nil, err
			}
			n.Value = v
		default:
			return nil, errorf(paramFilter, "%s at %s needs a string or json field, the field is %s", op, quote(path), kind)
		}
	case OpStartsWith, OpEndsWith:
		if kind != KindString && kind != KindJSON {
			return nil, errorf(paramFilter, "%s at %s needs a string or json field, the field is %s", op, quote(path), kind)
		}
		s, ok := val.(string)
		if !ok {
			return nil, errorf(paramFilter, "invalid %s value at %s: want a string, got %s", op, quote(path), describe(val))
		}
		n.Value = s
	case OpEmpty, OpNotEmpty:
		// The operand is ignored (NocoBase sends true), except that a false one is refused
		// rather than silently read as true.
		if isFalse(val) {
			return nil, errorf(paramFilter, "%s at %s takes true, got %s; use %s instead", op, quote(path), describe(val), opposite(op))
		}
	default:
		return nil, errorf(paramFilter, "unknown operator %s at %s", quote(string(op)), quote(path))
	}
	return n, nil
}

func opposite(op Op) Op {
	if op == OpEmpty {
		return OpNotEmpty
	}
	return OpEmpty
}

func isFalse(v any) bool {
	switch x := v.(type) {
	case bool:
		return !x
	case string:
		return x == "false" || x == "0"
	case json.Number:
		return x == "0"
	}
	if n, ok := toNum(v); ok {
		return (n.isInt && n.i == 0) || (!n.isInt && n.f == 0)
	}
	return false
}

func isComparison(op Op) bool {
	switch op {
	case OpEq, OpNe, OpGt, OpGte, OpLt, OpLte, OpIn, OpNotIn, OpIncludes, OpNotIncludes,
		OpStartsWith, OpEndsWith, OpEmpty, OpNotEmpty:
		return true
	}
	return false
}

// validPath reports whether path is a non-empty list of non-empty dot-separated segments.
// Which names exist is the schema's business.
func validPath(path string) bool {
	if path == "" {
		return false
	}
	for seg := range strings.SplitSeq(path, ".") {
		if seg == "" {
			return false
		}
	}
	return true
}

// asList returns v as a []any when it is an array.
func asList(v any) ([]any, bool) {
	switch x := v.(type) {
	case []any:
		return x, true
	case []string:
		out := make([]any, len(x))
		for i, s := range x {
			out[i] = s
		}
		return out, true
	}
	return nil, false
}
