package admin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/admin"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// chromium finds the browser: $CHROMIUM, else chromium on PATH. Without one the browser
// tests skip, except under CI=true, where they fail (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (apt-get install -y chromium); CI needs it for the console's browser test")
	}
	t.Skip("chromium is not installed; skipping the console's browser test")
	return ""
}

// artifacts is where screenshots go: $ACTIONFLOW_ARTIFACTS/console, else a temporary folder.
// With ACTIONFLOW_UPDATE_SCREENSHOTS=1 they are also copied to docs/console for README.
func artifacts(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if root := os.Getenv("ACTIONFLOW_ARTIFACTS"); root != "" {
		dir = filepath.Join(root, "console")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("console screenshots in %s", dir)
	return dir
}

// server serves the standard plugins and the console over loopback TCP.
func server(t *testing.T) (base, root string) {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 2})
	// the Lua modules of the actionflow binary (log, json, time, ...)
	cfg := core.Config{InMemory: true, BcryptCost: 4, RootPassword: coretest.RootPassword, LuaModules: lib.Standard(lib.StdConfig{})}
	app, err := core.New(cfg,
		core.WithPlugins(wf, interceptor.New(wf), actiontrigger.New(wf), collectiontrigger.New(wf), customaction.New(wf), admin.New()))
	if err != nil {
		t.Fatal(err)
	}
	base = coretest.ServeTCP(t, app)
	r := call(t, base, "", "auth:signIn", map[string]any{"email": "root@actionflow.local", "password": coretest.RootPassword})
	root, _ = r["token"].(string)
	return base, root
}

// call posts to the API over TCP and returns its data as an object.
func call(t *testing.T, base, token, path string, body any) map[string]any {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest("POST", base+"/api/"+path, bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("%s: status %d: %s", path, res.StatusCode, raw)
	}
	var out struct {
		Data map[string]any `json:"data"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s: %v: %s", path, err, raw)
	}
	return out.Data
}

const (
	brokenScript = "local log = require(\"log\")\n" +
		"local total = ctx.data.qty * ctx.data.price\n" +
		"log.info(\"total is \" .. total)\n" +
		"return { total = total, big = total > 100 end\n"
	fixedScript = "local log = require(\"log\")\n" +
		"local total = ctx.data.qty * ctx.data.price\n" +
		"log.info(\"total is \" .. total)\n" +
		"return { total = total, big = total > 100 }\n"
)

// TestBrowserConsole drives the console in headless Chromium: sign in, create a workflow
// whose script does not compile and see the error at its line, fix and enable it, create a
// record that fires it, open its execution and see its output; see a run-time error at its
// line; cancel a long-running execution. Each step waits on the page's DOM, never on time.
func TestBrowserConsole(t *testing.T) {
	exe := chromium(t)
	shots := artifacts(t)
	base, root := server(t)
	call(t, base, root, "collections:create", map[string]any{"name": "orders", "title": "Orders", "fields": []any{
		map[string]any{"name": "qty", "type": "integer"}, map[string]any{"name": "price", "type": "float"}}})
	call(t, base, root, "collections:create", map[string]any{"name": "jobs", "fields": []any{map[string]any{"name": "name", "type": "string"}}})
	spin := call(t, base, root, "workflows:create", map[string]any{"title": "Spin", "key": "spin", "type": "collection", "enabled": true,
		"config": map[string]any{"collection": "jobs", "mode": 1}, "options": map[string]any{"timeout": 600000},
		"script": "while true do end\n"})

	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 820),
	)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(alloc)
	defer cancelCtx()

	// Start the browser on ctx itself: a tab first started on a step's context would close
	// when that step ends.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Script errors on the page fail the test.
	var mu sync.Mutex
	var jsErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			mu.Lock()
			d := e.ExceptionDetails
			desc := d.Text
			if d.Exception != nil {
				desc += " " + d.Exception.Description
			}
			jsErrors = append(jsErrors, fmt.Sprintf("%s:%d: %s", d.URL, d.LineNumber+1, desc))
			mu.Unlock()
		}
	})

	var shotNames []string
	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var png []byte
			if err := chromedp.CaptureScreenshot(&png).Do(ctx); err != nil {
				return err
			}
			shotNames = append(shotNames, name)
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	// setScript replaces the editor's text as typing would (the editor renumbers on input).
	setScript := func(src string) chromedp.Action {
		return chromedp.Tasks{
			chromedp.SetValue("#script", src, chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector('#script').dispatchEvent(new Event('input'))`, nil),
		}
	}
	// hash moves the page to a console route as a click on a link would (a same-document
	// navigation: chromedp.Navigate would wait for a load event that never comes).
	hash := func(route string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf("location.hash = %q", route), nil)
	}
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		// A guard against a hung browser, not a synchronisation: every step waits on the DOM.
		stepCtx, cancel := context.WithTimeout(ctx, 90*time.Second)
		defer cancel()
		if err := chromedp.Run(stepCtx, actions...); err != nil {
			var page string
			_ = chromedp.Run(ctx, chromedp.Text("body", &page, chromedp.ByQuery), shot("failed"))
			t.Fatalf("%s: %v\npage: %.1500s", step, err, page)
		}
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
		return s
	}

	run("sign in",
		chromedp.Navigate(base+"/admin"),
		chromedp.WaitVisible("#email", chromedp.ByQuery),
		chromedp.SendKeys("#email", "root@actionflow.local", chromedp.ByQuery),
		chromedp.SendKeys("#password", coretest.RootPassword, chromedp.ByQuery),
		shot("signin"),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[normalize-space()="Workflows"]`),
		chromedp.WaitVisible(`//a[normalize-space()="Spin"]`),
	)
	if q := text("#queue"); !strings.HasPrefix(q, "Queue: ") {
		t.Errorf("queue depth reads %q", q)
	}

	run("create a workflow that does not compile",
		chromedp.Click(`//a[normalize-space()="New workflow"]`),
		chromedp.WaitVisible("#wf-title", chromedp.ByQuery),
		chromedp.SendKeys("#wf-title", "Order total", chromedp.ByQuery),
		chromedp.SendKeys("#wf-key", "order-total", chromedp.ByQuery),
		chromedp.SetValue("#wf-type", "collection", chromedp.ByQuery),
		chromedp.SetValue("#wf-config", `{"collection": "orders", "mode": 1}`, chromedp.ByQuery),
		setScript(brokenScript),
		chromedp.Click("#save", chromedp.ByQuery),
		chromedp.WaitVisible(`.gutter span.err[data-line="4"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#script-error", chromedp.ByQuery),
		shot("workflow-compile-error"),
	)
	if msg := text("#script-error"); !strings.HasPrefix(msg, "Line 4: ") {
		t.Errorf("compile error reads %q, want it at line 4", msg)
	}

	run("fix and enable it",
		setScript(fixedScript),
		chromedp.WaitNotPresent(`.gutter span.err`, chromedp.ByQuery),
		chromedp.Click("#save", chromedp.ByQuery),
		chromedp.WaitVisible(`//h1[starts-with(normalize-space(), "Order total")]`),
		chromedp.WaitVisible("#enable", chromedp.ByQuery),
		chromedp.Click("#enable", chromedp.ByQuery),
		chromedp.WaitVisible("#disable", chromedp.ByQuery),
		chromedp.WaitVisible(`//h1/small[contains(., "enabled")]`),
		chromedp.Evaluate(`window.scrollTo(0, 0)`, nil),
		shot("workflow"),
	)

	run("create a record that fires it",
		chromedp.Click(`//nav//a[normalize-space()="Collections"]`),
		chromedp.WaitVisible(`//a[normalize-space()="orders"]`),
		shot("collections"),
		chromedp.Click(`//a[normalize-space()="orders"]`),
		chromedp.WaitVisible("#record-values", chromedp.ByQuery),
		chromedp.SetValue("#record-values", `{"qty": 3, "price": 50}`, chromedp.ByQuery),
		chromedp.Click("#create-record", chromedp.ByQuery),
		chromedp.WaitVisible(`//td[normalize-space()="50"]`),
		chromedp.SetValue("#record-values", `{"qty": 2}`, chromedp.ByQuery),
		chromedp.Click("#create-record", chromedp.ByQuery),
		chromedp.WaitVisible(`//div[@id="flash" and contains(., "Record #2 created")]`),
		shot("records"),
	)

	run("see its executions end",
		chromedp.Click(`//nav//a[normalize-space()="Executions"]`),
		chromedp.WaitVisible("#filter-status", chromedp.ByQuery),
		// auto-refresh brings the async runs' ends in
		chromedp.WaitVisible(`#executions .badge.s-resolved`, chromedp.ByQuery),
		chromedp.WaitVisible(`#executions .badge.s-error`, chromedp.ByQuery),
		shot("executions"),
		// without auto-refresh the table holds still for the click
		hash("#/executions?status=resolved&auto=off"),
		chromedp.WaitNotPresent(`#executions .badge.s-error`, chromedp.ByQuery),
		chromedp.Click(`#executions td a[href^="#/executions/"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#output", chromedp.ByQuery),
		chromedp.WaitVisible("#retry", chromedp.ByQuery),
		shot("execution"),
	)
	var out map[string]any
	if err := json.Unmarshal([]byte(text("#output")), &out); err != nil || fmt.Sprint(out["total"]) != "150" || out["big"] != true {
		t.Errorf("output %v (%v), want total 150 and big", out, err)
	}
	if logs := text("#main table"); !strings.Contains(logs, "total is 150") {
		t.Errorf("logs %q lack the script's line", logs)
	}

	run("see a run-time error at its line",
		hash("#/executions?status=error&auto=off"),
		chromedp.WaitVisible(`#executions td a[href^="#/executions/"]`, chromedp.ByQuery),
		chromedp.Click(`#executions td a[href^="#/executions/"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.listing .ln.err[data-line="2"]`, chromedp.ByQuery),
		shot("execution-error"),
	)
	if msg := text("#error-message"); !strings.HasPrefix(msg, "Line 2: ") {
		t.Errorf("error reads %q, want it at line 2", msg)
	}

	call(t, base, root, "jobs:create", map[string]any{"name": "forever"})
	run("cancel a long-running execution",
		hash(fmt.Sprintf("#/executions?workflowId=%v&status=started", spin["id"])),
		chromedp.WaitVisible(`#executions .badge.s-started`, chromedp.ByQuery), // auto-refresh shows it once it runs
		hash(fmt.Sprintf("#/executions?workflowId=%v&status=started&auto=off", spin["id"])),
		chromedp.WaitVisible(`#executions .badge.s-started`, chromedp.ByQuery),
		chromedp.Click(`#executions td a[href^="#/executions/"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#cancel", chromedp.ByQuery),
		shot("execution-running"),
		chromedp.Click("#cancel", chromedp.ByQuery),
		chromedp.WaitVisible(`h1 .badge.s-aborted, h1 .badge.s-canceled`, chromedp.ByQuery),
		chromedp.WaitVisible("#retry", chromedp.ByQuery),
		shot("execution-canceled"),
	)

	run("read it on a phone",
		chromedp.EmulateViewport(390, 844),
		hash("#/executions?auto=off"),
		chromedp.WaitVisible(`#executions td a[href^="#/executions/"]`, chromedp.ByQuery),
		shot("phone-executions"),
		hash("#/workflows"),
		chromedp.WaitVisible(`//a[normalize-space()="Order total"]`),
		shot("phone-workflows"),
	)

	mu.Lock()
	defer mu.Unlock()
	if len(jsErrors) > 0 {
		t.Errorf("the page threw: %s", strings.Join(jsErrors, "\n"))
	}
	if os.Getenv("ACTIONFLOW_UPDATE_SCREENSHOTS") == "1" {
		docs := filepath.Join("..", "..", "docs", "console")
		if err := os.MkdirAll(docs, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, name := range shotNames {
			b, err := os.ReadFile(filepath.Join(shots, name+".png"))
			if err == nil {
				err = os.WriteFile(filepath.Join(docs, name+".png"), b, 0o644)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}
