package offline

import (
	"bytes"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core/value"
)

// TestLuaRun: lua run reads like the server's execution of the same workflow.
func TestLuaRun(t *testing.T) {
	dir := t.TempDir()
	fx := writeFile(t, dir, "fx.json", `{"collections": [{"name": "posts", "fields": [{"name": "title", "type": "string"}]}],
		"records": {"posts": [{"title": "first"}, {"title": "second"}]}}`)
	dataFile := writeFile(t, dir, "data.json", `{"n": 41}`)
	cases := []struct {
		name     string
		src      string
		flags    []string
		code     int
		status   int
		output   any
		errMsg   string
		errLine  any
		logs     []string
		messages []any
	}{
		{
			name:   "resolved with ctx",
			src:    "local log = require('log')\nlog.info('hi ' .. ctx.user.nickname)\nreturn {total = ctx.data.price * ctx.data.qty, tags = ctx.data.tags, role = ctx.roleName}",
			flags:  []string{"--data", `{"price":2.5,"qty":4,"tags":[]}`, "--user", `{"email":"ann@example.com","nickname":"ann","roles":["member"]}`},
			status: 1,
			output: map[string]any{"total": float64(10), "tags": []any{}, "role": "member"},
			logs:   []string{"hi ann"},
		},
		{
			name:   "print goes to the logs",
			src:    "print('a', 1, nil)\nreturn 1",
			status: 1,
			output: float64(1),
			logs:   []string{"a\t1\tnil"},
		},
		{
			name:   "flags after the file, data from a file",
			src:    "return ctx.data.n + 1",
			flags:  []string{"AFTER", "--data", "@" + dataFile},
			status: 1,
			output: float64(42),
		},
		{
			name:   "role",
			src:    "return ctx.roleName",
			flags:  []string{"--role", "admin"},
			status: 1,
			output: "admin",
		},
		{
			name:    "script error",
			src:     "local x = 1\nerror('boom')",
			code:    1,
			status:  -2,
			errMsg:  "boom",
			errLine: float64(2),
		},
		{
			name:    "timeout flag, with its line",
			src:     "local x = 0\nwhile true do x = x + 1 end",
			flags:   []string{"--timeout", "100ms"},
			code:    1,
			status:  -3,
			errMsg:  "the workflow ran past its timeout",
			errLine: float64(2),
		},
		{
			name:    "timeout of the header",
			src:     "--- options: {\"timeout\": 100}\nlocal x = 0\nwhile true do x = x + 1 end",
			code:    1,
			status:  -3,
			errMsg:  "the workflow ran past its timeout",
			errLine: float64(3),
		},
		{
			name:     "flow.fail has its line",
			src:      "flow.message('checked')\nflow.fail('not allowed')",
			code:     1,
			status:   -1,
			errMsg:   "not allowed",
			errLine:  float64(2),
			messages: []any{"checked"},
		},
		{
			name:   "flow.finish",
			src:    "flow.finish()",
			status: 1,
		},
		{
			name:   "record workflow with fixtures",
			src:    "--- type: action\n--- config: {\"collection\": \"posts\"}\nreturn ctx.data.title",
			flags:  []string{"--fixtures", fx, "--data", "2"},
			status: 1,
			output: "second",
		},
		{
			name:   "pre-action params",
			src:    "--- type: request-interception\n--- config: {\"collection\": \"posts\"}\nreturn ctx.params.values.title .. ctx.params.filterByTk",
			flags:  []string{"--fixtures", fx, "--params", `{"values": {"title": "x"}, "filterByTk": 1}`},
			status: 1,
			output: "x1",
		},
		{
			name:   "previous of a collection update",
			src:    "--- type: collection\n--- config: {\"collection\": \"posts\", \"mode\": 2}\nreturn ctx.previous.title .. '->' .. ctx.data.title",
			flags:  []string{"--fixtures", fx, "--data", "1", "--previous", `{"id": 1, "title": "zero"}`},
			status: 1,
			output: "zero->first",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "wf.lua", tc.src)
			args := append(append([]string{}, tc.flags...), path)
			if len(tc.flags) > 0 && tc.flags[0] == "AFTER" {
				args = append([]string{path}, tc.flags[1:]...)
			}
			code, got, stderr := luaRunJSON(t, args...)
			if code != tc.code || got == nil {
				t.Fatalf("exit %d, want %d (report %v, stderr %s)", code, tc.code, got, stderr)
			}
			for _, k := range []string{"status", "output", "error", "logs", "messages", "writes"} {
				if _, ok := got[k]; !ok {
					t.Fatalf("key %q missing in %v", k, got)
				}
			}
			if fmt.Sprint(got["status"]) != fmt.Sprint(tc.status) {
				t.Fatalf("status %v, want %d: %v", got["status"], tc.status, got)
			}
			if !value.Equal(got["output"], tc.output) {
				t.Fatalf("output %#v, want %#v", got["output"], tc.output)
			}
			if tc.status == 1 && got["error"] != nil {
				t.Fatalf("error %v on success", got["error"])
			}
			if tc.status != 1 {
				e, _ := got["error"].(map[string]any)
				if e == nil || !strings.Contains(e["message"].(string), tc.errMsg) || (tc.errLine != nil && !value.Equal(e["line"], tc.errLine)) {
					t.Fatalf("error %#v, want message %q line %v", got["error"], tc.errMsg, tc.errLine)
				}
			}
			var logs []string
			for _, l := range got["logs"].([]any) {
				m := l.(map[string]any)
				if m["level"] != "info" || m["time"] == "" {
					t.Fatalf("log line %v", m)
				}
				logs = append(logs, m["message"].(string))
			}
			if !reflect.DeepEqual(logs, tc.logs) {
				t.Fatalf("logs %q, want %q", logs, tc.logs)
			}
			if tc.messages != nil && !reflect.DeepEqual(got["messages"], tc.messages) {
				t.Fatalf("messages %v", got["messages"])
			}
		})
	}
}

func TestLuaCheck(t *testing.T) {
	cases := []struct {
		name string
		src  string
		code int
		want string
	}{
		{"ok", "return 1", 0, "ok\n"},
		{"syntax error", "local a = 1\nlocal = 2", 1, ":2: "},
		{"too deep", "return " + strings.Repeat("{", 300) + strings.Repeat("}", 300), 1, ":1: nesting deeper than 200 levels"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeFile(t, t.TempDir(), "wf.lua", tc.src)
			var stdout, stderr bytes.Buffer
			code := LuaCommand([]string{"check", path}, &stdout, &stderr, stdPlugins)
			if code != tc.code || !strings.Contains(stdout.String(), tc.want) {
				t.Fatalf("exit %d stdout %q, want %d and %q", code, stdout.String(), tc.code, tc.want)
			}
			if tc.code != 0 && !strings.HasPrefix(stdout.String(), path+":") {
				t.Fatalf("message %q does not start with FILE:", stdout.String())
			}
		})
	}
}

func TestLuaUsage(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "wf.lua", "return 1")
	badHeader := writeFile(t, dir, "bad.lua", "--- colour: red\nreturn 1")
	noCompile := writeFile(t, dir, "nc.lua", "local = 1")
	cases := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no subcommand", nil, 2, ""},
		{"unknown subcommand", []string{"fly"}, 2, ""},
		{"help", []string{"--help"}, 0, ""},
		{"run help", []string{"run", "--help"}, 0, ""},
		{"check help", []string{"check", "-h"}, 0, ""},
		{"run without file", []string{"run"}, 2, "want exactly one FILE"},
		{"run two files", []string{"run", path, "extra"}, 2, `actionflow lua run: unexpected argument "extra" (it takes one FILE; see --help)`},
		{"missing file", []string{"run", filepath.Join(dir, "nope.lua")}, 2, "nope.lua"},
		{"bad data", []string{"run", path, "--data", "{nope"}, 2, "--data: bad JSON"},
		{"missing data file", []string{"run", path, "--data", "@" + filepath.Join(dir, "nope.json")}, 2, "--data"},
		{"bad flag", []string{"run", "--frobnicate", path}, 2, "frobnicate"},
		{"bad timeout", []string{"run", "--timeout", "-1s", path}, 2, "--timeout"},
		{"bad header", []string{"run", badHeader}, 2, `line 1: unknown header key "colour"`},
		{"does not compile", []string{"run", noCompile}, 2, "line 1"},
		{"record not in fixtures", []string{"run", "--type", "action", path}, 2, "collection"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := LuaCommand(tc.args, &stdout, &stderr, stdPlugins); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, tc.code, stderr.String())
			}
			if tc.code == 0 && !strings.Contains(stdout.String(), "actionflow lua run FILE") {
				t.Fatalf("usage not printed: %q", stdout.String())
			}
			if !strings.Contains(stderr.String(), tc.msg) {
				t.Fatalf("stderr %q lacks %q", stderr.String(), tc.msg)
			}
		})
	}
}
