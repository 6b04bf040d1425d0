package standard

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeScript(t *testing.T, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wf.lua")
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLuaRun(t *testing.T) {
	cases := []struct {
		name     string
		src      string
		flags    []string
		code     int
		status   int
		output   any
		errMsg   string
		errLine  any
		logs     int
		messages []any
	}{
		{
			name:   "resolved with ctx",
			src:    "local log = require('log')\nlog.info('hi', ctx.user.name)\nreturn {total = ctx.data.price * ctx.data.qty, tags = ctx.data.tags, role = ctx.roleName}",
			flags:  []string{"--data", `{"price":2.5,"qty":4,"tags":[]}`, "--user", `{"name":"ann"}`},
			code:   0,
			status: 1,
			output: map[string]any{"total": float64(10), "tags": []any{}},
			logs:   1,
		},
		{
			name:   "flags after the file",
			src:    "return ctx.data.n + 1",
			flags:  []string{"AFTER", "--data", `{"n":1}`},
			code:   0,
			status: 1,
			output: float64(2),
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
			name:    "compile error",
			src:     "local = 1",
			code:    1,
			status:  -2,
			errLine: float64(1),
		},
		{
			name:   "timeout",
			src:    "while true do end",
			flags:  []string{"--timeout", "100ms"},
			code:   1,
			status: -3,
			errMsg: "runtime: run timed out",
		},
		{
			name:     "flow.fail",
			src:      "flow.message('checked')\nflow.fail('not allowed')",
			code:     1,
			status:   -1,
			errMsg:   "not allowed",
			messages: []any{"checked"},
		},
		{
			name:   "flow.finish",
			src:    "flow.finish()",
			code:   0,
			status: 1,
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := writeScript(t, tc.src)
			args := append([]string{"run"}, tc.flags...)
			if len(tc.flags) > 0 && tc.flags[0] == "AFTER" {
				args = append([]string{"run", path}, tc.flags[1:]...)
			} else {
				args = append(args, path)
			}
			var stdout, stderr bytes.Buffer
			code := luaCommand(args, &stdout, &stderr, nil)
			if code != tc.code {
				t.Fatalf("exit %d, want %d (stdout %s, stderr %s)", code, tc.code, stdout.String(), stderr.String())
			}
			if n := strings.Count(stdout.String(), "\n"); n != 1 {
				t.Fatalf("want one JSON line, got %q", stdout.String())
			}
			var got map[string]any
			if err := json.Unmarshal(stdout.Bytes(), &got); err != nil {
				t.Fatal(err)
			}
			for _, k := range []string{"status", "output", "error", "logs"} {
				if _, ok := got[k]; !ok {
					t.Fatalf("key %q missing in %s", k, stdout.String())
				}
			}
			if got["status"] != float64(tc.status) {
				t.Fatalf("status %v, want %d: %s", got["status"], tc.status, stdout.String())
			}
			if !reflect.DeepEqual(got["output"], tc.output) {
				t.Fatalf("output %#v, want %#v", got["output"], tc.output)
			}
			if tc.status == 1 && got["error"] != nil {
				t.Fatalf("error %v on success", got["error"])
			}
			if tc.status != 1 {
				e, _ := got["error"].(map[string]any)
				if e == nil || !strings.Contains(e["message"].(string), tc.errMsg) || (tc.errLine != nil && e["line"] != tc.errLine) {
					t.Fatalf("error %#v, want message %q line %v", got["error"], tc.errMsg, tc.errLine)
				}
			}
			logs, _ := got["logs"].([]any)
			if len(logs) != tc.logs {
				t.Fatalf("logs %v", got["logs"])
			}
			if tc.logs > 0 {
				l := logs[0].(map[string]any)
				if l["level"] != "info" || l["message"] != "hi ann" || l["time"] == "" {
					t.Fatalf("log line %v", l)
				}
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
			path := writeScript(t, tc.src)
			var stdout, stderr bytes.Buffer
			code := luaCommand([]string{"check", path}, &stdout, &stderr, nil)
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
	path := writeScript(t, "return 1")
	cases := []struct {
		name string
		args []string
		code int
	}{
		{"no subcommand", nil, 2},
		{"unknown subcommand", []string{"fly"}, 2},
		{"help", []string{"--help"}, 0},
		{"run help", []string{"run", "--help"}, 0},
		{"check help", []string{"check", "-h"}, 0},
		{"run without file", []string{"run"}, 2},
		{"run two files", []string{"run", path, path}, 2},
		{"missing file", []string{"run", filepath.Join(t.TempDir(), "nope.lua")}, 2},
		{"bad data", []string{"run", path, "--data", "{nope"}, 2},
		{"bad flag", []string{"run", "--frobnicate", path}, 2},
		{"bad timeout", []string{"run", "--timeout", "-1s", path}, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := luaCommand(tc.args, &stdout, &stderr, nil); code != tc.code {
				t.Fatalf("exit %d, want %d (stderr %s)", code, tc.code, stderr.String())
			}
			if tc.code == 0 && !strings.Contains(stdout.String(), "actionflow lua run FILE") {
				t.Fatalf("usage not printed: %q", stdout.String())
			}
		})
	}
}
