package record

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/actionflow/actionflow/core/value"
)

// The record value types (see Record) are encoded and decoded here by hand: encoding/json's
// reflection over map[string]any, its key sorting and its json.Number values followed by a
// normalisation pass were the top JSON cost of record writes, reads and responses.
//
// Both directions are exact stand-ins for encoding/json, never approximations: the encoder
// writes the bytes json.Marshal writes (sorted keys, HTML-safe escaping, invalid UTF-8 as
// \ufffd, the same float format), and hands anything it does not know, or any error, to
// json.Marshal. The decoder reads the JSON that json.Marshal writes (and well-formed JSON in
// general) and hands anything unusual (syntax errors, invalid UTF-8, lone surrogates, numbers
// out of range, deep nesting, trailing data) to the encoding/json path, so results and error
// messages stay what they were. FuzzJSONEncode and FuzzJSONDecode compare both paths.

// marshalJSON is json.Marshal, faster for record values.
func marshalJSON(v any) ([]byte, error) {
	if b, ok := AppendJSON(make([]byte, 0, 256), v, 0); ok {
		return b, nil
	}
	return json.Marshal(v)
}

// maxEncodeDepth bounds the fast encoder's nesting; deeper values (or cycles, which
// json.Marshal reports) take json.Marshal.
const maxEncodeDepth = 500

// AppendJSON appends v as json.Marshal encodes it; false means: use json.Marshal instead.
func AppendJSON(dst []byte, v any, depth int) ([]byte, bool) {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...), true
	case string:
		return AppendJSONString(dst, x), true
	case bool:
		if x {
			return append(dst, "true"...), true
		}
		return append(dst, "false"...), true
	case int64:
		return strconv.AppendInt(dst, x, 10), true
	case int:
		return strconv.AppendInt(dst, int64(x), 10), true
	case float64:
		return appendJSONFloat(dst, x)
	case map[string]any:
		return appendJSONObject(dst, x, depth)
	case []any:
		return appendJSONArray(dst, x, depth)
	case []map[string]any:
		return appendJSONArray(dst, x, depth)
	}
	// Anything else (structs, json.Number, other maps and slices): json.Marshal's own bytes,
	// which are the same standalone as nested.
	b, err := json.Marshal(v)
	if err != nil {
		return dst, false
	}
	return append(dst, b...), true
}

// appendJSONArray appends a slice whose elements AppendJSON encodes.
func appendJSONArray[E any](dst []byte, x []E, depth int) ([]byte, bool) {
	if x == nil {
		return append(dst, "null"...), true
	}
	if depth > maxEncodeDepth {
		return dst, false
	}
	dst = append(dst, '[')
	for i, e := range x {
		if i > 0 {
			dst = append(dst, ',')
		}
		var ok bool
		if dst, ok = AppendJSON(dst, e, depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, ']'), true
}

func appendJSONObject(dst []byte, m map[string]any, depth int) ([]byte, bool) {
	if m == nil {
		return append(dst, "null"...), true
	}
	if depth > maxEncodeDepth {
		return dst, false
	}
	var buf [24]string
	keys := buf[:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	dst = append(dst, '{')
	for i, k := range keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, k)
		dst = append(dst, ':')
		var ok bool
		if dst, ok = AppendJSON(dst, m[k], depth+1); !ok {
			return dst, false
		}
	}
	return append(dst, '}'), true
}

// appendJSONFloat is encoding/json's float64 encoding; NaN and infinities are errors there.
func appendJSONFloat(dst []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return dst, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// e-09 → e-9, as encoding/json does
		n := len(dst)
		if n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst, true
}

const hexDigits = "0123456789abcdef"

// jsonSafe[b] is whether ASCII byte b is written as is in a JSON string with HTML
// escaping (encoding/json's htmlSafeSet): printable, not ", \, <, > or &.
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// AppendJSONString is encoding/json's appendString with escapeHTML.
func AppendJSONString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// jsonReader is the fast decoder: a cursor over one JSON document. Its methods report
// false for anything they leave to encoding/json.
type jsonReader struct {
	b []byte
	i int
	// record: numbers become int64 or float64 as normalizeJSON makes them, and nesting is
	// bounded by MaxJSONDepth; otherwise numbers are json.Number.
	record bool
	// scratch holds unescaped string bytes.
	scratch []byte
}

// maxDecodeDepth bounds the nesting of a generic document on the fast path.
const maxDecodeDepth = 1000

func (r *jsonReader) skipSpace() {
	for r.i < len(r.b) {
		switch r.b[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// end reports whether only white space is left.
func (r *jsonReader) end() bool {
	r.skipSpace()
	return r.i == len(r.b)
}

// value reads one value at a nesting depth (a record field's value is depth 0).
func (r *jsonReader) value(depth int) (any, bool) {
	if r.record && depth > MaxJSONDepth || depth > maxDecodeDepth {
		return nil, false
	}
	r.skipSpace()
	if r.i >= len(r.b) {
		return nil, false
	}
	switch c := r.b[r.i]; {
	case c == '"':
		return r.str()
	case c == '{':
		return r.object(depth)
	case c == '[':
		return r.array(depth)
	case c == 't':
		return true, r.literal("true")
	case c == 'f':
		return false, r.literal("false")
	case c == 'n':
		return nil, r.literal("null")
	case c == '-' || c >= '0' && c <= '9':
		lit, isInt, ok := r.number()
		if !ok {
			return nil, false
		}
		if !r.record {
			return json.Number(lit), true
		}
		return recordNumber(lit, isInt)
	}
	return nil, false
}

func (r *jsonReader) literal(s string) bool {
	if len(r.b)-r.i < len(s) || string(r.b[r.i:r.i+len(s)]) != s {
		return false
	}
	r.i += len(s)
	return true
}

func (r *jsonReader) object(depth int) (any, bool) {
	r.i++ // {
	m := make(map[string]any)
	r.skipSpace()
	if r.i < len(r.b) && r.b[r.i] == '}' {
		r.i++
		return m, true
	}
	for {
		r.skipSpace()
		if r.i >= len(r.b) || r.b[r.i] != '"' {
			return nil, false
		}
		kb, ok := r.strBytes()
		if !ok {
			return nil, false
		}
		k := string(kb)
		if !r.colon() {
			return nil, false
		}
		v, ok := r.value(depth + 1)
		if !ok {
			return nil, false
		}
		m[k] = v
		if done, ok := r.next('}'); !ok {
			return nil, false
		} else if done {
			return m, true
		}
	}
}

func (r *jsonReader) array(depth int) (any, bool) {
	r.i++ // [
	a := []any{}
	r.skipSpace()
	if r.i < len(r.b) && r.b[r.i] == ']' {
		r.i++
		return a, true
	}
	for {
		v, ok := r.value(depth + 1)
		if !ok {
			return nil, false
		}
		a = append(a, v)
		if done, ok := r.next(']'); !ok {
			return nil, false
		} else if done {
			return a, true
		}
	}
}

func (r *jsonReader) colon() bool {
	r.skipSpace()
	if r.i >= len(r.b) || r.b[r.i] != ':' {
		return false
	}
	r.i++
	return true
}

// next reads the comma after an element or the closing bracket; done at the bracket.
func (r *jsonReader) next(closing byte) (done, ok bool) {
	r.skipSpace()
	if r.i >= len(r.b) {
		return false, false
	}
	switch r.b[r.i] {
	case ',':
		r.i++
		return false, true
	case closing:
		r.i++
		return true, true
	}
	return false, false
}

// strBytes reads a string at r.i (a quote) and returns its bytes, which alias r.b or
// r.scratch until the next call.
func (r *jsonReader) strBytes() ([]byte, bool) {
	r.i++ // "
	start := r.i
	ascii := true
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			s := r.b[start:r.i]
			r.i++
			if !ascii && !utf8.Valid(s) {
				return nil, false // encoding/json replaces invalid bytes
			}
			return s, true
		case c == '\\':
			return r.escaped(start)
		case c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
		r.i++
	}
	return nil, false
}

// escaped continues a string that has escapes, from its start, into r.scratch.
func (r *jsonReader) escaped(start int) ([]byte, bool) {
	out := append(r.scratch[:0], r.b[start:r.i]...)
	for r.i < len(r.b) {
		c := r.b[r.i]
		switch {
		case c == '"':
			r.i++
			r.scratch = out
			if !utf8.Valid(out) {
				return nil, false
			}
			return out, true
		case c < 0x20:
			return nil, false
		case c != '\\':
			out = append(out, c)
			r.i++
			continue
		}
		if r.i+1 >= len(r.b) {
			return nil, false
		}
		switch e := r.b[r.i+1]; e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			c1, ok := hex4(r.b, r.i+2)
			if !ok {
				return nil, false
			}
			if utf16.IsSurrogate(c1) {
				// Only a well-formed pair here; encoding/json decides the rest.
				if c1 >= 0xdc00 || r.i+11 >= len(r.b) || r.b[r.i+6] != '\\' || r.b[r.i+7] != 'u' {
					return nil, false
				}
				c2, ok := hex4(r.b, r.i+8)
				if !ok || c2 < 0xdc00 || c2 > 0xdfff {
					return nil, false
				}
				out = utf8.AppendRune(out, utf16.DecodeRune(c1, c2))
				r.i += 12
				continue
			}
			out = utf8.AppendRune(out, c1)
			r.i += 6
			continue
		default:
			return nil, false
		}
		r.i += 2
	}
	return nil, false
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

func (r *jsonReader) str() (any, bool) {
	s, ok := r.strBytes()
	if !ok {
		return nil, false
	}
	return string(s), true
}

// number reads a number literal per the JSON grammar; isInt when it has no fraction or
// exponent.
func (r *jsonReader) number() (lit []byte, isInt, ok bool) {
	b, start := r.b, r.i
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return nil, false, false
	}
	isInt = true
	if i < len(b) && b[i] == '.' {
		isInt = false
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		isInt = false
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return nil, false, false
		}
	}
	r.i = i
	return b[start:i], isInt, true
}

// recordNumber is value.Number of a json.Number: int64 when it parses as one, else a
// finite float64; anything else is left to the slow path (and its error).
func recordNumber(lit []byte, isInt bool) (any, bool) {
	if isInt {
		if n, ok := smallInt(lit); ok {
			return n, true
		}
		if n, err := strconv.ParseInt(string(lit), 10, 64); err == nil {
			return n, true
		}
	}
	v, err := value.Number(json.Number(lit))
	return v, err == nil
}

// smallInt parses an integer literal of at most 18 digits without strconv (and without
// the string conversion).
func smallInt(lit []byte) (int64, bool) {
	neg := len(lit) > 0 && lit[0] == '-'
	d := lit
	if neg {
		d = lit[1:]
	}
	if len(d) == 0 || len(d) > 18 {
		return 0, false
	}
	var n int64
	for _, c := range d {
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

// decodeRecordFast is DecodeRecord for the JSON it can read alone; false: use the slow path.
func decodeRecordFast(c *Collection, b []byte) (Record, bool) {
	r := jsonReader{b: b, record: true}
	r.skipSpace()
	if r.i >= len(b) || b[r.i] != '{' {
		return nil, false
	}
	r.i++
	rec := make(Record, len(c.Fields)+4)
	r.skipSpace()
	if r.i < len(b) && b[r.i] == '}' {
		r.i++
		return rec, r.end()
	}
	for {
		r.skipSpace()
		if r.i >= len(b) || b[r.i] != '"' {
			return nil, false
		}
		kb, ok := r.strBytes()
		if !ok {
			return nil, false
		}
		// The field's own name string: no allocation for known fields.
		f, known := c.byName[string(kb)]
		var k string
		if known {
			k = f.Name
		} else {
			k = string(kb)
		}
		if !r.colon() {
			return nil, false
		}
		r.skipSpace()
		var v any
		if r.i < len(b) && (b[r.i] == '-' || b[r.i] >= '0' && b[r.i] <= '9') {
			lit, isInt, ok := r.number()
			if !ok {
				return nil, false
			}
			if known && f.Type == TypeFloat {
				x, _ := strconv.ParseFloat(string(lit), 64) // as json.Number.Float64 did
				v = x
			} else if v, ok = recordNumber(lit, isInt); !ok {
				return nil, false
			}
		} else if v, ok = r.value(0); !ok {
			return nil, false
		}
		rec[k] = v
		if done, ok := r.next('}'); !ok {
			return nil, false
		} else if done {
			return rec, r.end()
		}
	}
}

// decodeValuesFast is DecodeJSON into a nil map (numbers as json.Number); false: use the
// slow path.
func decodeValuesFast(b []byte) (map[string]any, bool) {
	r := jsonReader{b: b}
	r.skipSpace()
	if r.i >= len(b) || b[r.i] != '{' {
		return nil, false
	}
	v, ok := r.object(0)
	if !ok || !r.end() {
		return nil, false
	}
	return v.(map[string]any), true
}
