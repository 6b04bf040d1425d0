package offline

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"

	"github.com/actionflow/actionflow/core/value"
)

const testUsage = `Usage:
  actionflow test DIR
      Run the golden tests of the workflow files under DIR and its subfolders:
      each FILE.lua with a FILE.test.json next to it. Every case runs on a fresh
      in-memory server, as 'actionflow lua run' does. Prints "ok   NAME" or
      "FAIL NAME: ..." per case and, last, "N passed, M failed". Exit status 0
      when all passed, 1 when any failed or none was found, 2 on bad usage.

FILE.test.json:
  {"fixtures": FIXTURES or "file.json",            (default of every case)
   "cases": [{"name": "...",
              "fixtures": FIXTURES or "file.json",  (paths relative to the test file)
              "context": {"data", "user", "userId", "role", "params", "previous"},
              "timeout": "2s",
              "expect": {"status": 1, "output": ..., "messages": [...],
                         "error": "substring of error.message", "line": N,
                         "writes": [{"collection", "action", "id", "values"}]}}]}
  Only what expect names is compared: output and messages exactly (as JSON),
  writes in order, each write's values as a subset of what was written.
  "status" defaults to 1.
`

// testFile is a FILE.test.json.
type testFile struct {
	Fixtures json.RawMessage `json:"fixtures"`
	Cases    []testCase      `json:"cases"`
}

type testCase struct {
	Name     string          `json:"name"`
	Fixtures json.RawMessage `json:"fixtures"`
	Context  Context         `json:"context"`
	Timeout  string          `json:"timeout"`
	Expect   expectation     `json:"expect"`
}

type expectation struct {
	Status   *int            `json:"status"`
	Output   json.RawMessage `json:"output"`
	Messages []string        `json:"messages"`
	Error    *string         `json:"error"`
	Line     *int            `json:"line"`
	Writes   []Write         `json:"writes"`
}

// TestCommand implements "actionflow test DIR"; args start after "test".
func TestCommand(args []string, stdout, stderr io.Writer, plugins Plugins) int {
	fl := newFlagSet("test", stderr)
	dir, code, ok := parseFile(fl, args, stdout, testUsage, "DIR")
	if !ok {
		if code == 2 {
			fmt.Fprint(stderr, testUsage)
		}
		return code
	}
	var tests []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(p, ".test.json") {
			tests = append(tests, p)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(stderr, "actionflow test: %v\n", err)
		return 2
	}
	sort.Strings(tests)
	passed, failed := 0, 0
	report := func(name string, problem string) {
		if problem == "" {
			passed++
			fmt.Fprintf(stdout, "ok   %s\n", name)
			return
		}
		failed++
		fmt.Fprintf(stdout, "FAIL %s: %s\n", name, problem)
	}
	for _, p := range tests {
		script := strings.TrimSuffix(p, ".test.json") + ".lua"
		rel, _ := filepath.Rel(dir, script)
		src, err := os.ReadFile(script)
		if err != nil {
			report(rel, err.Error())
			continue
		}
		var tf testFile
		if err := readJSON(p, &tf); err != nil {
			report(rel, err.Error())
			continue
		}
		if len(tf.Cases) == 0 {
			report(rel, "the test file has no cases")
			continue
		}
		for i, c := range tf.Cases {
			name := fmt.Sprintf("%s/%s", rel, c.Name)
			if c.Name == "" {
				name = fmt.Sprintf("%s/case-%d", rel, i+1)
			}
			report(name, runCase(plugins, script, string(src), filepath.Dir(p), tf, c))
		}
	}
	if passed+failed == 0 {
		fmt.Fprintf(stdout, "no tests found under %s (want FILE.lua with FILE.test.json next to it)\n", dir)
	}
	fmt.Fprintf(stdout, "%d passed, %d failed\n", passed, failed)
	if failed > 0 || passed == 0 {
		return 1
	}
	return 0
}

// runCase runs one case and returns what differs from its expectation ("" when nothing).
func runCase(plugins Plugins, file, src, dir string, tf testFile, c testCase) string {
	r := Run{File: file, Source: src, Context: c.Context}
	raw := c.Fixtures
	if len(raw) == 0 {
		raw = tf.Fixtures
	}
	if len(raw) > 0 && string(raw) != "null" {
		r.Fixtures = &Fixtures{}
		var name string
		if json.Unmarshal(raw, &name) == nil {
			if err := readJSON(filepath.Join(dir, name), r.Fixtures); err != nil {
				return err.Error()
			}
		} else if err := decodeJSON(raw, r.Fixtures, "fixtures"); err != nil {
			return err.Error()
		}
	}
	if c.Timeout != "" {
		d, err := parseDuration(c.Timeout)
		if err != nil {
			return err.Error()
		}
		r.Timeout = d
	}
	rep, err := Execute(context.Background(), plugins, r)
	if err != nil {
		return err.Error()
	}
	return compare(c.Expect, rep)
}

// compare lists the differences between e and rep.
func compare(e expectation, rep *Report) string {
	var diffs []string
	want := Resolved
	if e.Status != nil {
		want = *e.Status
	}
	if rep.Status != want {
		msg := ""
		if rep.Error != nil {
			msg = fmt.Sprintf(" (error %q)", rep.Error.Message)
		}
		diffs = append(diffs, fmt.Sprintf("status: want %d, got %d%s", want, rep.Status, msg))
	}
	if len(e.Output) > 0 && !sameJSON(e.Output, rep.Output) {
		diffs = append(diffs, fmt.Sprintf("output: want %s, got %s", compact(e.Output), show(rep.Output)))
	}
	if e.Messages != nil && !reflect.DeepEqual(e.Messages, rep.Messages) {
		diffs = append(diffs, fmt.Sprintf("messages: want %s, got %s", show(e.Messages), show(rep.Messages)))
	}
	if e.Error != nil && (rep.Error == nil || !strings.Contains(rep.Error.Message, *e.Error)) {
		diffs = append(diffs, fmt.Sprintf("error: want one containing %q, got %s", *e.Error, show(rep.Error)))
	}
	if e.Line != nil && (rep.Error == nil || rep.Error.Line == nil || *rep.Error.Line != *e.Line) {
		diffs = append(diffs, fmt.Sprintf("error line: want %d, got %s", *e.Line, show(rep.Error)))
	}
	if e.Writes != nil {
		if d := compareWrites(e.Writes, rep.Writes); d != "" {
			diffs = append(diffs, d)
		}
	}
	return strings.Join(diffs, "; ")
}

func compareWrites(want, got []Write) string {
	if len(want) != len(got) {
		return fmt.Sprintf("writes: want %d, got %d: %s", len(want), len(got), show(got))
	}
	for i, w := range want {
		g := got[i]
		if w.Collection != g.Collection || (w.Action != "" && w.Action != g.Action) || (w.ID != nil && !value.Equal(w.ID, g.ID)) {
			return fmt.Sprintf("write %d: want %s, got %s", i+1, show(w), show(g))
		}
		for k, v := range w.Values {
			if !value.Equal(v, g.Values[k]) {
				return fmt.Sprintf("write %d: %s: want %s, got %s", i+1, k, show(v), show(g.Values[k]))
			}
		}
	}
	return ""
}

func sameJSON(raw json.RawMessage, v any) bool {
	var w any
	if json.Unmarshal(raw, &w) != nil {
		return false
	}
	return value.Equal(w, v)
}

func show(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

func compact(raw json.RawMessage) string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return string(raw)
	}
	return show(v)
}

func readJSON(path string, out any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return decodeJSON(b, out, path)
}
