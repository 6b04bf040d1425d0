package json_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
	luajson "github.com/actionflow/actionflow/runtime/lib/json"
)

func run(t *testing.T, e *runtime.Engine, src string) *runtime.Result {
	t.Helper()
	s, err := e.Compile("json", src)
	if err != nil {
		t.Fatal(err)
	}
	return e.Run(context.Background(), runtime.Request{Script: s})
}

func TestModule(t *testing.T) {
	e, err := runtime.New(runtime.Config{Workers: 1}, luajson.Module(64))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cases := []struct {
		name string
		src  string
		want any
	}{
		{"encode", `return require("json").encode({a = {1, 2}, b = "x"})`, `{"a":[1,2],"b":"x"}`},
		{"decode", `return require("json").decode('{"a":[1,2.5],"b":{"c":true}}')`,
			map[string]any{"a": []any{int64(1), 2.5}, "b": map[string]any{"c": true}}},
		{"array of empty", `local json = require("json") return json.encode({json.array(), {}})`, `[[],{}]`},
		{"array marks an existing table", `local json = require("json") local t = {} return json.array(t) == t and json.encode(t)`, `[]`},
		{"encode over the cap", `local v, err = require("json").encode(("x"):rep(100)) return err`, "json: encode: result larger than 64 bytes: runtime: limit exceeded"},
		{"decode over the cap", `local v, err = require("json").decode("[" .. ("1,"):rep(40) .. "1]") return err`, "json: decode: input larger than 64 bytes: runtime: limit exceeded"},
		{"decode too deep", `local v, err = require("json").decode(("["):rep(33) .. ("]"):rep(33)) return v == nil and err ~= nil`, true},
		{"bad argument raises", `return pcall(require("json").decode)`, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, e, tc.src)
			if res.Err != nil {
				t.Fatal(res.Err)
			}
			if !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("got %#v, want %#v", res.Output, tc.want)
			}
		})
	}
}

func TestEncodeDecode(t *testing.T) {
	L := lua.NewState()
	defer L.Close()
	v, err := luajson.Decode(L, `{"list":[1,null],"empty":[],"obj":{}}`, luajson.DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	out, err := luajson.Encode(v, luajson.DefaultMaxBytes)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"empty":[],"list":[1,null],"obj":{}}`; out != want {
		t.Fatalf("got %s, want %s", out, want)
	}
	if _, err := luajson.Encode(v, 10); !errors.Is(err, runtime.ErrLimit) {
		t.Fatalf("cap: %v", err)
	}
	if _, err := luajson.Decode(L, strings.Repeat(" ", 11), 10); !errors.Is(err, runtime.ErrLimit) {
		t.Fatalf("decode cap: %v", err)
	}
}
