package time_test

import (
	"context"
	"reflect"
	"testing"
	gotime "time"

	"github.com/actionflow/actionflow/runtime"
	luatime "github.com/actionflow/actionflow/runtime/lib/time"
)

func TestTime(t *testing.T) {
	clock := gotime.Date(2023, 12, 31, 23, 59, 59, 123456789, gotime.UTC)
	e, err := runtime.New(runtime.Config{Workers: 1}, luatime.Module(func() gotime.Time { return clock }))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	cases := []struct {
		name, src string
		want      any
	}{
		{"unix", `return require("time").unix()`, int64(1704067199)},
		{"now has microseconds", `return require("time").now()`, 1704067199.123456},
		{"format default", `local time = require("time") return time.format(time.unix())`, "2023-12-31T23:59:59Z"},
		{"format datetime", `return require("time").format(86400, "datetime")`, "1970-01-02 00:00:00"},
		{"format go layout", `return require("time").format(0, "Jan 2, 2006")`, "Jan 1, 1970"},
		{"format bad ts", `return pcall(require("time").format, 0/0)`, false},
		{"parse round trip", `local time = require("time") return time.parse(time.format(1e9))`, int64(1e9)},
		{"parse layout", `return require("time").parse("31/12/2023", "02/01/2006")`, int64(1703980800)},
		{"parse error", `local v, err = require("time").parse("nope") return err`, `time.parse: cannot parse "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := e.Compile("time", tc.src)
			if err != nil {
				t.Fatal(err)
			}
			res := e.Run(context.Background(), runtime.Request{Script: s})
			if res.Err != nil || !reflect.DeepEqual(res.Output, tc.want) {
				t.Fatalf("got %#v (%v), want %#v", res.Output, res.Err, tc.want)
			}
		})
	}
}
