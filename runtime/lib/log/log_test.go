package log_test

import (
	"context"
	"testing"

	"github.com/actionflow/actionflow/runtime"
	lualog "github.com/actionflow/actionflow/runtime/lib/log"
)

func TestLog(t *testing.T) {
	e, err := runtime.New(runtime.Config{Workers: 1}, lualog.Module())
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s, err := e.Compile("log", `
local log = require("log")
log.info("order", 42, true, nil)
log.warn("careful")
log.error(setmetatable({}, {__tostring = function() return "custom" end}))
return 1`)
	if err != nil {
		t.Fatal(err)
	}
	res := e.Run(context.Background(), runtime.Request{Script: s})
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := []struct{ level, msg string }{{"info", "order 42 true nil"}, {"warn", "careful"}, {"error", "custom"}}
	if len(res.Logs) != len(want) {
		t.Fatalf("logs: %+v", res.Logs)
	}
	for i, w := range want {
		if l := res.Logs[i]; l.Level != w.level || l.Message != w.msg || l.Time.IsZero() {
			t.Errorf("line %d: %+v, want %v", i, l, w)
		}
	}
}
