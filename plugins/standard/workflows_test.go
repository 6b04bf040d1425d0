package standard

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/workflow"
)

func TestWorkflowsUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{name: "help", args: []string{"workflows", "apply", "--help"}, code: 0, out: "--dry-run"},
		{name: "help command", args: []string{"workflows", "help"}, code: 0, out: "use a new key"},
		{name: "no subcommand", args: []string{"workflows"}, code: 2, err: "workflows apply"},
		{name: "unknown subcommand", args: []string{"workflows", "push"}, code: 2, err: `unknown command "push"`},
		{name: "no files", args: []string{"workflows", "apply", "--token", "x"}, code: 2, err: "no FILE_OR_DIR"},
		{name: "no credentials", args: []string{"workflows", "apply", "--password", "", "--token", "", "x.lua"}, code: 2, err: "--password"},
		{name: "bad flag", args: []string{"workflows", "apply", "--nope"}, code: 2, err: "nope"},
		{name: "main usage names it", args: []string{"help"}, code: 0, out: "actionflow workflows apply"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(tc.args, &out, &errb)
			if code != tc.code || !strings.Contains(out.String(), tc.out) || !strings.Contains(errb.String(), tc.err) {
				t.Fatalf("code %d (want %d)\nstdout: %s\nstderr: %s", code, tc.code, out.String(), errb.String())
			}
		})
	}
}

// applyEnv is an App with the workflow plugins served on a loopback listener, and a small
// client for checking what "workflows apply" did.
type applyEnv struct {
	t     *testing.T
	url   string
	token string
	dir   string
}

func newApplyEnv(t *testing.T) *applyEnv {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
	app, err := core.New(core.Config{InMemory: true, BcryptCost: 4, RootPassword: "pw"}, core.WithPlugins(wf, actiontrigger.New(wf)))
	if err != nil {
		t.Fatal(err)
	}
	e := &applyEnv{t: t, url: coretest.ServeTCP(t, app), dir: t.TempDir()}
	e.token = e.must("POST", "/api/auth:signIn", map[string]any{"email": "root@actionflow.local", "password": "pw"})["token"].(string)
	return e
}

// call sends a request and decodes the answer.
func (e *applyEnv) call(method, path string, body any) (int, map[string]any) {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.token != "" {
		req.Header.Set("Authorization", "Bearer "+e.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	return res.StatusCode, out
}

// must sends a request that must succeed and returns its data as an object.
func (e *applyEnv) must(method, path string, body any) map[string]any {
	e.t.Helper()
	code, out := e.call(method, path, body)
	if code != 200 {
		e.t.Fatalf("%s %s: %d %v", method, path, code, out)
	}
	m, _ := out["data"].(map[string]any)
	return m
}

// versions lists the workflow versions of a key, by id.
func (e *applyEnv) versions(key string) []map[string]any {
	e.t.Helper()
	f := url.QueryEscape(fmt.Sprintf(`{"key":%q}`, key))
	code, out := e.call("GET", "/api/workflows:list?sort=id&pageSize=1000&filter="+f, nil)
	if code != 200 {
		e.t.Fatalf("list: %d %v", code, out)
	}
	var list []map[string]any
	for _, x := range out["data"].([]any) {
		list = append(list, x.(map[string]any))
	}
	return list
}

// current is the key's current version.
func (e *applyEnv) current(key string) map[string]any {
	e.t.Helper()
	var cur map[string]any
	for _, v := range e.versions(key) {
		if v["current"] == true {
			if cur != nil {
				e.t.Fatalf("two current versions of %s", key)
			}
			cur = v
		}
	}
	if cur == nil {
		e.t.Fatalf("no current version of %s", key)
	}
	return cur
}

func (e *applyEnv) write(name, src string) {
	e.t.Helper()
	if err := os.WriteFile(filepath.Join(e.dir, name), []byte(src), 0o644); err != nil {
		e.t.Fatal(err)
	}
}

// apply runs "actionflow workflows apply" on the directory, with credentials from flags.
func (e *applyEnv) apply(extra ...string) (int, string, string) {
	e.t.Helper()
	args := append([]string{"apply", "--url", e.url, "--email", "root@actionflow.local", "--password", "pw"}, extra...)
	args = append(args, e.dir)
	var out, errb bytes.Buffer
	code := workflowsCommand(args, &out, &errb)
	return code, out.String(), errb.String()
}

// waitExecutions waits until the key has n executions, all ended.
func (e *applyEnv) waitExecutions(key string, n int) []map[string]any {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second) // a guard, not a measurement
	f := url.QueryEscape(fmt.Sprintf(`{"key":%q}`, key))
	for {
		code, out := e.call("GET", "/api/executions:list?sort=id&filter="+f, nil)
		if code != 200 {
			e.t.Fatalf("executions: %d %v", code, out)
		}
		list, _ := out["data"].([]any)
		done := len(list) == n
		var xs []map[string]any
		for _, x := range list {
			m := x.(map[string]any)
			if s, ok := m["status"].(float64); !ok || s == 0 {
				done = false
			}
			xs = append(xs, m)
		}
		if done {
			return xs
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("executions of %s did not end: %v", key, list)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func id(m map[string]any) int64 { return int64(m["id"].(float64)) }

const (
	checkV1 = "--- key: post-check\n--- title: Check a post\n--- type: action\n--- sync: true\n--- config: {\"collection\": \"posts\"}\n" +
		"if ctx.data.title == \"\" then flow.fail(\"title is empty\") end\n"
	logHeader = "--- key: post-log\n--- title: Log a post\n--- type: action\n--- config: {\"collection\": \"posts\", \"appends\": [\"category\"]}\n--- options: {\"timeout\": 2000}\n"
)

func TestWorkflowsApply(t *testing.T) {
	e := newApplyEnv(t)
	e.must("POST", "/api/collections:create", map[string]any{"name": "categories", "fields": []any{map[string]any{"name": "name", "type": "string"}}})
	e.must("POST", "/api/collections:create", map[string]any{"name": "posts", "fields": []any{
		map[string]any{"name": "title", "type": "string"},
		map[string]any{"name": "category", "type": "belongsTo", "target": "categories"},
	}})
	e.write("post-check.lua", checkV1)
	e.write("post-log.lua", logHeader+"return \"v1\"\n")
	e.write("README.md", "not a workflow")

	var checkID, logID, logID2 int64
	t.Run("first apply creates both", func(t *testing.T) {
		code, out, errs := e.apply()
		if code != 0 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		chk, lg := e.current("post-check"), e.current("post-log")
		checkID, logID = id(chk), id(lg)
		want := fmt.Sprintf("created post-check (id %d)\ncreated post-log (id %d)\n", checkID, logID)
		if out != want {
			t.Fatalf("output:\n%s\nwant:\n%s", out, want)
		}
		if chk["title"] != "Check a post" || chk["sync"] != true || chk["enabled"] != true || chk["script"] != checkV1 ||
			fmt.Sprint(chk["config"]) != "map[collection:posts]" {
			t.Fatalf("post-check = %v", chk)
		}
		if lg["sync"] != false || lg["enabled"] != true || fmt.Sprint(lg["options"]) != "map[timeout:2000]" ||
			fmt.Sprint(lg["config"]) != "map[appends:[category] collection:posts]" {
			t.Fatalf("post-log = %v", lg)
		}
	})
	t.Run("second apply changes nothing", func(t *testing.T) {
		before := []map[string]any{e.current("post-check"), e.current("post-log")}
		// The server keeps config and options as values ({"appends":[...],"collection":...}),
		// not as the header's text: they compare as JSON.
		code, out, errs := e.apply()
		if code != 0 || out != "unchanged post-check\nunchanged post-log\n" {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		after := []map[string]any{e.current("post-check"), e.current("post-log")}
		if fmt.Sprint(before) != fmt.Sprint(after) {
			t.Fatalf("workflows changed:\n%v\n%v", before, after)
		}
		if n := len(e.versions("post-check")) + len(e.versions("post-log")); n != 2 {
			t.Fatalf("%d versions, want 2", n)
		}
	})
	t.Run("an edited script of a version that never ran is updated in place", func(t *testing.T) {
		e.write("post-log.lua", logHeader+"return \"v2\"\n")
		code, out, errs := e.apply()
		want := fmt.Sprintf("unchanged post-check\nupdated post-log (id %d)\n", logID)
		if code != 0 || out != want {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if v := e.versions("post-log"); len(v) != 1 || v[0]["script"] != logHeader+"return \"v2\"\n" {
			t.Fatalf("versions = %v", v)
		}
	})
	t.Run("the workflow runs once", func(t *testing.T) {
		e.must("POST", "/api/posts:create?triggerWorkflows=post-log", map[string]any{"title": "hello"})
		x := e.waitExecutions("post-log", 1)[0]
		if x["status"] != float64(1) || x["output"] != "v2" || int64(x["workflowId"].(float64)) != logID {
			t.Fatalf("execution = %v", x)
		}
	})
	t.Run("dry run writes nothing", func(t *testing.T) {
		e.write("post-log.lua", logHeader+"return \"v3\"\n")
		e.write("post-check.lua", strings.Replace(checkV1, "Check a post", "Check a post!", 1))
		code, out, errs := e.apply("--dry-run")
		want := fmt.Sprintf("would update post-check (id %d)\nwould revise post-log (id %d)\n", checkID, logID)
		if code != 0 || out != want {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if v := e.versions("post-log"); len(v) != 1 || v[0]["script"] != logHeader+"return \"v2\"\n" {
			t.Fatalf("versions = %v", v)
		}
		if c := e.current("post-check"); c["title"] != "Check a post" {
			t.Fatalf("post-check = %v", c)
		}
		e.write("post-check.lua", checkV1)
	})
	t.Run("an edited script of a version that ran makes a revision", func(t *testing.T) {
		code, out, errs := e.apply()
		cur := e.current("post-log")
		logID2 = id(cur)
		want := fmt.Sprintf("unchanged post-check\nrevised post-log (id %d → %d)\n", logID, logID2)
		if code != 0 || out != want {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if logID2 == logID || cur["enabled"] != true || cur["script"] != logHeader+"return \"v3\"\n" || cur["title"] != "Log a post" {
			t.Fatalf("new version = %v", cur)
		}
		v := e.versions("post-log")
		if len(v) != 2 || id(v[0]) != logID || v[0]["enabled"] != false || v[0]["current"] != false || v[0]["script"] != logHeader+"return \"v2\"\n" {
			t.Fatalf("versions = %v", v)
		}
		e.must("POST", "/api/posts:create?triggerWorkflows=post-log", map[string]any{"title": "again"})
		if x := e.waitExecutions("post-log", 2)[1]; x["output"] != "v3" || int64(x["workflowId"].(float64)) != logID2 {
			t.Fatalf("execution = %v", x)
		}
		if code, out, _ := e.apply(); code != 0 || out != "unchanged post-check\nunchanged post-log\n" {
			t.Fatalf("apply after revision: exit %d\n%s", code, out)
		}
	})
	t.Run("disabling keeps the version current", func(t *testing.T) {
		e.write("post-check.lua", strings.Replace(checkV1, "--- sync: true\n", "--- sync: true\n--- enabled: false\n", 1))
		code, out, errs := e.apply()
		if want := fmt.Sprintf("updated post-check (id %d)\nunchanged post-log\n", checkID); code != 0 || out != want {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		if c := e.current("post-check"); id(c) != checkID || c["enabled"] != false {
			t.Fatalf("post-check = %v", c)
		}
		if code, out, _ := e.apply(); code != 0 || out != "unchanged post-check\nunchanged post-log\n" {
			t.Fatalf("apply after disabling: exit %d\n%s", code, out)
		}
		e.write("post-check.lua", checkV1)
		if code, out, _ := e.apply(); code != 0 || out != fmt.Sprintf("updated post-check (id %d)\nunchanged post-log\n", checkID) {
			t.Fatalf("apply after enabling: exit %d\n%s", code, out)
		}
	})
	t.Run("errors are reported per file", func(t *testing.T) {
		e.write("post-check.lua", strings.Replace(checkV1, "--- sync: true\n", "", 1))
		e.write("z-bad-config.lua", "--- key: bad-config\n--- type: action\n--- config: {\"collection\": \"nope\"}\nreturn 1\n")
		e.write("z-bad-header.lua", "--- key: bad-header\n--- type: action\n--- colour: red\n")
		e.write("z-bad-script.lua", "--- key: bad-script\n--- type: action\n--- config: {\"collection\": \"posts\"}\nlocal = 1\n")
		code, out, errs := e.apply()
		if code != 1 {
			t.Fatalf("exit %d\n%s%s", code, out, errs)
		}
		dir := e.dir + string(filepath.Separator)
		for _, want := range []string{
			"error " + dir + `z-bad-header.lua: line 3: unknown header key "colour"`,
			"error " + dir + "post-check.lua: ", "type and sync are fixed; use a new key",
			"unchanged post-log\n",
			"error " + dir + `z-bad-config.lua: create: config: collection "nope" does not exist (400)`,
			"error " + dir + "z-bad-script.lua: create: script: line 4",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		if v := e.versions("bad-config"); len(v) != 0 {
			t.Fatalf("bad-config was created: %v", v)
		}
	})
	t.Run("a wrong password fails before any file", func(t *testing.T) {
		var out, errb bytes.Buffer
		code := workflowsCommand([]string{"apply", "--url", e.url, "--password", "wrong", e.dir}, &out, &errb)
		if code != 1 || !strings.Contains(errb.String(), "sign in as root@actionflow.local") || strings.Contains(out.String(), "unchanged") {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
		}
	})
	t.Run("a token and the environment are accepted", func(t *testing.T) {
		t.Setenv("ACTIONFLOW_URL", e.url)
		t.Setenv("ACTIONFLOW_TOKEN", e.token)
		t.Setenv("ACTIONFLOW_PASSWORD", "")
		var out, errb bytes.Buffer
		code := workflowsCommand([]string{"apply", filepath.Join(e.dir, "post-log.lua")}, &out, &errb)
		if code != 0 || out.String() != "unchanged post-log\n" {
			t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out.String(), errb.String())
		}
	})
}
