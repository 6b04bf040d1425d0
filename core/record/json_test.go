package record

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
)

func TestMarshalJSONMatchesEncodingJSON(t *testing.T) {
	deep := any("leaf")
	for i := 0; i < maxEncodeDepth+10; i++ {
		deep = []any{deep}
	}
	cyclic := map[string]any{}
	cyclic["self"] = cyclic
	tests := []struct {
		name string
		v    any
	}{
		{"nil", nil},
		{"empty record", Record{}},
		{"nil record", Record(nil)},
		{"nil array", []any(nil)},
		{"empty array", []any{}},
		{"sorted keys", Record{"b": int64(1), "a": int64(2), "B": true, "": nil, "aa": false}},
		{"html", "<script>a && b > c</script>"},
		{"quotes and backslashes", `say "hi" \ there /`},
		{"control characters", "\x00\x01\b\f\n\r\t\x1f\x7f"},
		{"line separators", "a\u2028b\u2029c"},
		{"invalid utf-8", "a\xffb\xc3(c\xed\xa0\x80d"},
		{"unicode", "héllo 世界 🎉"},
		{"html in keys", Record{"<k>": "&", "\u2028": "x", "\xff": int64(1)}},
		{"int64 bounds", []any{int64(math.MaxInt64), int64(math.MinInt64), int64(0), int64(-1)}},
		{"int", int(42)},
		{"zero floats", []any{0.0, math.Copysign(0, -1)}},
		{"float f range", []any{1e-6, 0.1, 1.5, -2.25, 123456789.125, 1e20, 999999999999999999999.0}},
		{"float e range", []any{1e21, 1e-7, -1e-7, 5e-324, math.MaxFloat64, 1.5e300, 1e-100}},
		{"integral floats", []any{1.0, -3.0, 1e15}},
		{"json number", json.Number("12.50")},
		{"empty json number", json.Number("")},
		{"nested", Record{"m": map[string]any{"x": []any{map[string]any{"y": nil}}, "a": "b"}}},
		{"records", []map[string]any{{"id": int64(1)}, nil, {}}},
		{"other types", map[string]any{"s": []string{"a"}, "t": struct {
			A int `json:"a"`
		}{1}, "i": int32(5), "u": uint64(7)}},
		{"deep", deep},
		// Errors must be encoding/json's own.
		{"nan", math.NaN()},
		{"inf", Record{"x": []any{math.Inf(1)}}},
		{"bad json number", json.Number("1x")},
		{"cycle", cyclic},
		{"channel", Record{"c": make(chan int)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSameEncoding(t, tt.v)
		})
	}
}

func assertSameEncoding(t *testing.T, v any) {
	t.Helper()
	want, wantErr := json.Marshal(v)
	got, gotErr := marshalJSON(v)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("error: got %v, want %v", gotErr, wantErr)
	}
	if string(got) != string(want) {
		t.Fatalf("got  %s\nwant %s", got, want)
	}
}

func testCollection() *Collection {
	c := &Collection{Name: "things", Fields: []*Field{
		{Name: "id", Type: TypeInteger},
		{Name: "title", Type: TypeString},
		{Name: "views", Type: TypeInteger},
		{Name: "price", Type: TypeFloat},
		{Name: "meta", Type: TypeJSON},
	}}
	c.Reindex()
	return c
}

func TestDecodeRecordMatchesSlowPath(t *testing.T) {
	deep := strings.Repeat("[", MaxJSONDepth+2) + strings.Repeat("]", MaxJSONDepth+2)
	tests := []struct {
		name string
		in   string
		fast bool // whether the fast path answers alone
	}{
		{"plain", `{"id":1,"title":"hello","views":3,"price":2,"meta":{"a":[1,2.5,"x",true,null]}}`, true},
		{"float field integral", `{"price":3}`, true},
		{"float field huge", `{"price":1e400}`, true},
		{"number forms", `{"a":-0,"b":0.5,"c":1e3,"d":1E-3,"e":-12.5e+2,"f":9223372036854775807,"g":9223372036854775808,"h":123456789012345678}`, true},
		{"white space", " {\n\t\"id\" : 1 ,\r\n \"meta\" : [ ] } \n", true},
		{"empty", `{}`, true},
		{"escapes", `{"title":"\u003cb\u003e \u0026 \"q\" \\ \/ \b\f\n\r\t \u2028 \ud83c\udf89 é"}`, true},
		{"escaped key", `{"ti\u0074le":"x","\u00e9":1}`, true},
		{"unknown fields", `{"zzz":1.25,"yyy":{"k":"v"}}`, true},
		{"duplicate keys", `{"views":1,"views":2}`, true},
		{"deep within bound", `{"meta":` + strings.Repeat("[", MaxJSONDepth+1) + strings.Repeat("]", MaxJSONDepth+1) + `}`, true},
		// Left to encoding/json.
		{"too deep", `{"meta":` + deep + `}`, false},
		{"number out of range top", `{"views":1e400}`, false},
		{"number out of range nested", `{"meta":{"x":1e400}}`, false},
		{"invalid utf-8", "{\"title\":\"a\xffb\"}", false},
		{"lone surrogate", `{"title":"\ud800x"}`, false},
		{"reversed surrogates", `{"title":"\udc00\ud800"}`, false},
		{"control character", "{\"title\":\"a\x01\"}", false},
		{"null document", `null`, false},
		{"array document", `[1]`, false},
		{"trailing brace", `{"id":1}}`, false},
		{"trailing data", `{"id":1} x`, false},
		{"trailing comma", `{"id":1,}`, false},
		{"leading zero", `{"id":01}`, false},
		{"bad fraction", `{"id":1.}`, false},
		{"bad exponent", `{"id":1e}`, false},
		{"plus sign", `{"id":+1}`, false},
		{"bad escape", `{"title":"\x"}`, false},
		{"truncated", `{"id":1`, false},
		{"bad literal", `{"a":tru}`, false},
		{"empty input", ``, false},
	}
	c := testCollection()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, fast := decodeRecordFast(c, []byte(tt.in))
			if fast != tt.fast {
				t.Errorf("fast path answered: %v, want %v", fast, tt.fast)
			}
			assertSameRecord(t, c, []byte(tt.in))
		})
	}
}

func assertSameRecord(t *testing.T, c *Collection, b []byte) {
	t.Helper()
	want, wantErr := decodeRecordSlow(c, b)
	got, gotErr := DecodeRecord(c, b)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("%q: error: got %v, want %v", b, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\ngot  %#v\nwant %#v", b, got, want)
	}
}

func TestDecodeJSONMatchesSlowPath(t *testing.T) {
	tests := []struct {
		name string
		in   string
	}{
		{"values", `{"title":"a","views":3,"price":1.50,"meta":{"x":[1e2,-0,null]},"ok":false}`},
		{"empty", `{}`},
		{"big number", `{"n":123456789012345678901234567890}`},
		{"trailing brace", `{"a":1}]`},
		{"trailing data", `{"a":1}{}`},
		{"syntax error", `{"a":}`},
		{"invalid utf-8", "{\"a\":\"\xff\"}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assertSameValues(t, []byte(tt.in))
		})
	}
}

func assertSameValues(t *testing.T, b []byte) {
	t.Helper()
	var want, got map[string]any
	wantErr := decodeJSONSlow(b, &want)
	gotErr := DecodeJSON(b, &got)
	if (wantErr == nil) != (gotErr == nil) || wantErr != nil && wantErr.Error() != gotErr.Error() {
		t.Fatalf("%q: error: got %v, want %v", b, gotErr, wantErr)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\ngot  %#v\nwant %#v", b, got, want)
	}
}

// FuzzJSONEncode builds record-like values from the input and compares marshalJSON with
// json.Marshal, and reading the bytes back with the encoding/json path.
func FuzzJSONEncode(f *testing.F) {
	f.Add([]byte("\x05\x03a<b\x01\x02\x00\x00\x00\x00\x00\x00\xf0\x3f\x03\x02\xff\xfe"))
	f.Add([]byte("\x06\x02\x03\x03\xe2\x80\xa8\x04\x01\x00\x00\x00\x00\x00\x00\x80"))
	f.Add([]byte("\x05\x04\x03\x01k\x02\x8d\xed\xb5\xa0\x0b\x3c\x9f\x36\x03\x00\x07\x05\x00"))
	c := testCollection()
	f.Fuzz(func(t *testing.T, data []byte) {
		g := valueGen{data: data}
		v := g.record()
		assertSameEncoding(t, v)
		if b, err := marshalJSON(v); err == nil {
			assertSameRecord(t, c, b)
			assertSameValues(t, b)
		}
	})
}

// FuzzJSONDecode compares the fast decoders with the encoding/json ones on arbitrary input.
func FuzzJSONDecode(f *testing.F) {
	for _, s := range []string{
		`{"id":1,"title":"hello","views":3,"price":2,"meta":{"a":[1,2.5,"x",true,null]}}`,
		`{"title":"\u003cb\u003e \ud83c\udf89 \u2028","price":1e400,"x":-0.0e-0}`,
		`{"meta":[[[[{"a":{}}]]]],"n":12345678901234567890}`,
		"{\"a\":\"\xff\"} ",
	} {
		f.Add([]byte(s))
	}
	c := testCollection()
	f.Fuzz(func(t *testing.T, b []byte) {
		assertSameRecord(t, c, b)
		assertSameValues(t, b)
	})
}

// valueGen turns fuzz bytes into a record value: map[string]any of strings (any bytes),
// int64, float64 (any bits), bool, nil, nested maps and arrays.
type valueGen struct {
	data  []byte
	depth int
}

func (g *valueGen) byte() byte {
	if len(g.data) == 0 {
		return 0
	}
	b := g.data[0]
	g.data = g.data[1:]
	return b
}

func (g *valueGen) bytes(n int) []byte {
	n = min(n, len(g.data))
	b := g.data[:n]
	g.data = g.data[n:]
	return b
}

func (g *valueGen) str() string { return string(g.bytes(int(g.byte() % 24))) }

func (g *valueGen) u64() uint64 {
	var b [8]byte
	copy(b[:], g.bytes(8))
	return binary.LittleEndian.Uint64(b[:])
}

func (g *valueGen) record() Record {
	n := int(g.byte() % 8)
	r := make(Record, n)
	for i := 0; i < n; i++ {
		r[g.str()] = g.value()
	}
	return r
}

func (g *valueGen) value() any {
	if len(g.data) == 0 {
		return nil
	}
	switch op := g.byte() % 9; {
	case op == 0:
		return nil
	case op == 1:
		return g.byte()%2 == 0
	case op == 2:
		return int64(g.u64())
	case op == 3:
		return g.str()
	case op == 4:
		f := math.Float64frombits(g.u64())
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return 0.0 // an error on both sides; covered by the table tests
		}
		return f
	case op == 5 && g.depth < 6:
		g.depth++
		defer func() { g.depth-- }()
		return map[string]any(g.record())
	case op == 6 && g.depth < 6:
		g.depth++
		defer func() { g.depth-- }()
		a := make([]any, g.byte()%5)
		for i := range a {
			a[i] = g.value()
		}
		return a
	case op == 7:
		return float64(int64(g.u64()) >> (g.byte() % 64)) // integral floats
	}
	return int64(int8(g.byte()))
}
