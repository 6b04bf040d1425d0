package offline

import (
	"bytes"
	"strings"
	"testing"
)

// TestTestCommand: one line per case, a failure names what differs, the last line counts,
// and the exit status says whether all passed.
func TestTestCommand(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "a/double.lua", "return ctx.data * 2")
	writeFile(t, dir, "a/double.test.json", `{"cases": [
		{"name": "two", "context": {"data": 2}, "expect": {"output": 4}},
		{"name": "wrong", "context": {"data": 3}, "expect": {"output": 7}},
		{"name": "fails", "context": {"data": "x"}, "expect": {"status": -2, "error": "cannot perform mul", "line": 1}}]}`)
	writeFile(t, dir, "untested.lua", "return 1")
	empty := t.TempDir()
	tests := []struct {
		name  string
		dir   string
		code  int
		lines []string
	}{
		{"mixed", dir, 1, []string{"ok   a/double.lua/two", "FAIL a/double.lua/wrong: output: want 7, got 6", "ok   a/double.lua/fails", "2 passed, 1 failed"}},
		{"none found", empty, 1, []string{"no tests found under " + empty + " (want FILE.lua with FILE.test.json next to it)", "0 passed, 0 failed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := TestCommand([]string{tc.dir}, &out, &errb, stdPlugins)
			got := strings.Split(strings.TrimSpace(out.String()), "\n")
			if code != tc.code || strings.Join(got, "\n") != strings.Join(tc.lines, "\n") {
				t.Fatalf("exit %d, output:\n%s\nwant exit %d:\n%s", code, out.String(), tc.code, strings.Join(tc.lines, "\n"))
			}
		})
	}
}
