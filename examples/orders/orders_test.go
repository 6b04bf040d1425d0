package orders_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime/lib"
)

// The requests of README.md, word for word: TestREADMEShowsTheseRequests keeps them in sync.
const (
	rootPassword      = "secret"
	signInBody        = `{"email":"root@actionflow.local","password":"secret"}`
	customersDef      = `{"name":"customers","fields":[{"name":"name","type":"string","required":true},{"name":"email","type":"string","unique":true}]}`
	ordersDef         = `{"name":"orders","fields":[{"name":"customer","type":"belongsTo","target":"customers"},{"name":"item","type":"string","required":true},{"name":"quantity","type":"integer"},{"name":"total","type":"float"},{"name":"status","type":"string","defaultValue":"new"}]}`
	notificationsDef  = `{"name":"notifications","fields":[{"name":"text","type":"string"},{"name":"orderId","type":"integer"}]}`
	customerBody      = `{"name":"Ada Lovelace","email":"ada@example.com"}`
	badOrderBody      = `{"customerId":1,"item":"teapot","quantity":0}`
	goodOrderBody     = `{"customerId":1,"item":"teapot","quantity":2}`
	unknownItemBody   = `{"customerId":1,"item":"spaceship","quantity":1}`
	shipPath          = "/api/orders:update?filterByTk=2"
	shipBody          = `{"status":"shipped"}`
	createOrderPath   = "/api/orders:create?triggerWorkflows=validate-order"
	ordersListPath    = "/api/orders:list?fields=id,item,quantity,status"
	notificationsPath = "/api/notifications:list?fields=id,text,orderId"
	executionsFilter  = `{"key":{"$in":["validate-order","notify-order"]}}`
	executionsFields  = "id,key,status,error,reason,logs,output"
)

// applyCommand is the README's "go run ./cmd/actionflow workflows apply ..." command line.
const applyCommand = "workflows apply --password " + rootPassword + " examples/orders/workflows"

// repoRoot is where the README's commands run.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return root
}

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestREADMEShowsTheseRequests(t *testing.T) {
	doc := readme(t)
	tests := []struct {
		name string
		text string
	}{
		{"serve", "go run ./cmd/actionflow serve --data /tmp/orders-data --root-password " + rootPassword},
		{"sign in", "localhost:13000/api/auth:signIn -d '" + signInBody + "'"},
		{"customers", "localhost:13000/api/collections:create -H \"Authorization: Bearer $TOKEN\" -d '" + customersDef + "'"},
		{"orders", "localhost:13000/api/collections:create -H \"Authorization: Bearer $TOKEN\" -d '" + ordersDef + "'"},
		{"notifications", "localhost:13000/api/collections:create -H \"Authorization: Bearer $TOKEN\" -d '" + notificationsDef + "'"},
		{"apply", "go run ./cmd/actionflow " + applyCommand},
		{"customer", "localhost:13000/api/customers:create -H \"Authorization: Bearer $TOKEN\" -d '" + customerBody + "'"},
		{"bad order", `"localhost:13000` + createOrderPath + `" -H "Authorization: Bearer $TOKEN" -d '` + badOrderBody + "'"},
		{"good order", `"localhost:13000` + createOrderPath + `" -H "Authorization: Bearer $TOKEN" -d '` + goodOrderBody + "'"},
		{"unknown item", `"localhost:13000` + createOrderPath + `" -H "Authorization: Bearer $TOKEN" -d '` + unknownItemBody + "'"},
		{"ship", `"localhost:13000` + shipPath + `" -H "Authorization: Bearer $TOKEN" -d '` + shipBody + "'"},
		{"orders list", `"localhost:13000` + ordersListPath + `"`},
		{"executions", "localhost:13000/api/executions:list -H \"Authorization: Bearer $TOKEN\" --data-urlencode 'filter=" + executionsFilter +
			"' --data-urlencode 'sort=id' --data-urlencode 'fields=" + executionsFields + "'"},
		{"notifications list", `"localhost:13000` + notificationsPath + `"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(doc, tc.text) {
				t.Fatalf("README.md does not show:\n%s", tc.text)
			}
		})
	}
}

// server is the README's server, in process: the workflow engine and the triggers the
// example uses, with the standard Lua modules, as "actionflow serve" builds it, on a loopback
// listener so that the real "workflows apply" command can reach it.
type server struct {
	t     *testing.T
	url   string
	token string
}

func newServer(t *testing.T) *server {
	t.Helper()
	wf := workflow.New(workflow.Config{Workers: 2, SweepInterval: time.Hour})
	app, err := core.New(core.Config{InMemory: true, BcryptCost: 4, RootPassword: rootPassword, LuaModules: lib.Standard(lib.StdConfig{})},
		core.WithPlugins(wf, interceptor.New(wf), actiontrigger.New(wf), collectiontrigger.New(wf)))
	if err != nil {
		t.Fatal(err)
	}
	return &server{t: t, url: coretest.ServeTCP(t, app)}
}

// do sends a request with a raw JSON body ("" for none) and returns the status and body.
func (s *server) do(method, path, body string) (int, string) {
	s.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.url+path, rd)
	if err != nil {
		s.t.Fatal(err)
	}
	if s.token != "" {
		req.Header.Set("Authorization", "Bearer "+s.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	return res.StatusCode, string(raw)
}

// must sends a request that must answer status and decodes its body.
func (s *server) must(status int, method, path, body string) (map[string]any, string) {
	s.t.Helper()
	code, raw := s.do(method, path, body)
	if code != status {
		s.t.Fatalf("%s %s: status %d, want %d: %s", method, path, code, status, raw)
	}
	var out map[string]any
	d := json.NewDecoder(strings.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&out); err != nil {
		s.t.Fatalf("%s %s: %v: %s", method, path, err, raw)
	}
	return out, raw
}

// executions lists the README's executions, fields as in the README.
func (s *server) executions() ([]map[string]any, string) {
	s.t.Helper()
	q := url.Values{"filter": {executionsFilter}, "sort": {"id"}, "fields": {executionsFields}}
	out, raw := s.must(200, "GET", "/api/executions:list?"+q.Encode(), "")
	var list []map[string]any
	for _, x := range out["data"].([]any) {
		list = append(list, x.(map[string]any))
	}
	return list, raw
}

// buildActionflow builds cmd/actionflow, the binary whose "workflows apply" the README runs.
func buildActionflow(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "actionflow")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/actionflow")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/actionflow: %v\n%s", err, out)
	}
	return bin
}

// applyWorkflows runs the README's apply command from the repository root.
func applyWorkflows(t *testing.T, bin, root, serverURL string) string {
	t.Helper()
	return runActionflow(t, bin, root, serverURL, strings.Fields(applyCommand)...)
}

// runActionflow runs the binary with args from the repository root, against serverURL.
func runActionflow(t *testing.T, bin, root, serverURL string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "ACTIONFLOW_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "ACTIONFLOW_URL="+serverURL)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("actionflow %s: %v\nstdout: %s\nstderr: %s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// shown checks that the README shows an answer, with its times written as "..." and the
// line breaks the README adds inside lists taken out.
func shown(t *testing.T, answer string) {
	t.Helper()
	volatile := regexp.MustCompile(`"(createdAt|updatedAt|time)":"[^"]*"`)
	want := volatile.ReplaceAllString(strings.TrimSpace(answer), `"$1":"..."`)
	flat := strings.NewReplacer("[\n ", "[", ",\n ", ",", "\n]", "]").Replace(readme(t))
	if !strings.Contains(flat, want) {
		t.Errorf("README.md does not show the answer:\n%s", want)
	}
}

func TestWalkthrough(t *testing.T) {
	root := repoRoot(t)
	bin := buildActionflow(t, root)
	s := newServer(t)

	login, _ := s.must(200, "POST", "/api/auth:signIn", signInBody)
	s.token = login["data"].(map[string]any)["token"].(string)
	for _, def := range []string{customersDef, ordersDef, notificationsDef} {
		s.must(200, "POST", "/api/collections:create", def)
	}

	t.Run("apply the workflow files, twice", func(t *testing.T) {
		out := applyWorkflows(t, bin, root, s.url)
		if out != "created check-order (id 1)\ncreated notify-order (id 2)\ncreated order-shipped (id 3)\ncreated validate-order (id 4)\n" {
			t.Fatalf("first apply:\n%s", out)
		}
		shown(t, out)
		out = applyWorkflows(t, bin, root, s.url)
		if out != "unchanged check-order\nunchanged notify-order\nunchanged order-shipped\nunchanged validate-order\n" {
			t.Fatalf("second apply:\n%s", out)
		}
		shown(t, out)
		for _, key := range []string{"check-order", "validate-order", "notify-order", "order-shipped"} {
			q := url.Values{"filter": {`{"key":"` + key + `"}`}}
			list, _ := s.must(200, "GET", "/api/workflows:list?"+q.Encode(), "")
			if vs := list["data"].([]any); len(vs) != 1 || vs[0].(map[string]any)["enabled"] != true {
				t.Fatalf("versions of %s: %v", key, vs)
			}
		}
	})

	var customerName string
	t.Run("a customer", func(t *testing.T) {
		out, raw := s.must(200, "POST", "/api/customers:create", customerBody)
		customerName = out["data"].(map[string]any)["name"].(string)
		shown(t, raw)
	})

	t.Run("a bad quantity is a 400 with the message, and the order is saved", func(t *testing.T) {
		out, raw := s.must(400, "POST", createOrderPath, badOrderBody)
		errs := out["errors"].([]any)
		if len(errs) != 1 || errs[0].(map[string]any)["message"] != "quantity must be between 1 and 100" {
			t.Fatalf("errors = %v", errs)
		}
		shown(t, raw)
		list, raw := s.must(200, "GET", ordersListPath, "")
		orders := list["data"].([]any)
		if len(orders) != 1 || orders[0].(map[string]any)["quantity"] != json.Number("0") {
			t.Fatalf("orders = %v", orders)
		}
		shown(t, raw)
	})

	var goodID json.Number
	t.Run("a good order is a 200 with the total filled in and the workflow's message", func(t *testing.T) {
		out, raw := s.must(200, "POST", createOrderPath, goodOrderBody)
		order := out["data"].(map[string]any)
		goodID = order["id"].(json.Number)
		msgs, _ := out["messages"].([]any)
		if order["status"] != "new" || order["total"] != json.Number("39.8") || len(msgs) != 1 || msgs[0].(map[string]any)["message"] != "order "+goodID.String()+" accepted: 2 x teapot" {
			t.Fatalf("answer = %s", raw)
		}
		shown(t, raw)
	})

	t.Run("an unknown item is refused before anything is written", func(t *testing.T) {
		out, raw := s.must(400, "POST", createOrderPath, unknownItemBody)
		if errs := out["errors"].([]any); errs[0].(map[string]any)["message"] != "we do not sell spaceship" {
			t.Fatalf("answer = %s", raw)
		}
		shown(t, raw)
		list, _ := s.must(200, "GET", ordersListPath, "")
		if n := len(list["data"].([]any)); n != 2 {
			t.Fatalf("%d orders after a refused create", n)
		}
	})

	t.Run("the executions", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second) // a guard: the async run is waited for, not timed
		var list []map[string]any
		var raw string
		for {
			list, raw = s.executions()
			ended := len(list) == 4
			for _, x := range list {
				if x["status"] == nil || x["status"] == json.Number("0") {
					ended = false
				}
			}
			if ended {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("executions did not end: %s", raw)
			}
			time.Sleep(20 * time.Millisecond)
		}
		byKey := map[string][]map[string]any{}
		for _, x := range list {
			k := x["key"].(string)
			byKey[k] = append(byKey[k], x)
		}
		v, n := byKey["validate-order"], byKey["notify-order"]
		if len(v) != 2 || len(n) != 2 {
			t.Fatalf("executions = %s", raw)
		}
		if v[0]["status"] != json.Number("-1") || v[0]["error"].(map[string]any)["message"] != "quantity must be between 1 and 100" || v[1]["status"] != json.Number("1") {
			t.Fatalf("validate-order executions = %v", v)
		}
		// The bad order's notification was queued with it, then canceled by the failure.
		if n[0]["status"] != json.Number("-4") || !strings.Contains(n[0]["reason"].(string), "validate-order") {
			t.Fatalf("notify-order for the bad order = %v", n[0])
		}
		logs, _ := n[1]["logs"].([]any)
		if n[1]["status"] != json.Number("1") || len(logs) != 1 || logs[0].(map[string]any)["message"] != customerName+" ordered 2 x teapot" {
			t.Fatalf("notify-order for the good order = %v", n[1])
		}
		shown(t, raw)
	})

	t.Run("shipping the order fires the collection event", func(t *testing.T) {
		if goodID.String() != strings.TrimPrefix(shipPath, "/api/orders:update?filterByTk=") {
			t.Fatalf("the README ships order %s, the good order is %s", shipPath, goodID)
		}
		out, raw := s.must(200, "POST", shipPath, shipBody)
		if recs := out["data"].([]any); len(recs) != 1 || recs[0].(map[string]any)["status"] != "shipped" {
			t.Fatalf("answer = %s", raw)
		}
		shown(t, raw)
		// Shipping again changes nothing: the status did not change, the event does not fire.
		s.must(200, "POST", shipPath, shipBody)
	})

	t.Run("the notifications name the customer", func(t *testing.T) {
		deadline := time.Now().Add(30 * time.Second) // a guard: the async run is waited for, not timed
		var list []any
		var raw string
		for {
			var out map[string]any
			out, raw = s.must(200, "GET", notificationsPath, "")
			list = out["data"].([]any)
			if len(list) >= 2 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if len(list) != 2 {
			t.Fatalf("notifications = %s", raw)
		}
		for _, x := range list {
			n := x.(map[string]any)
			if !strings.Contains(n["text"].(string), customerName) || n["orderId"] != goodID {
				t.Fatalf("notification = %v", n)
			}
		}
		if text := list[1].(map[string]any)["text"]; text != "order "+goodID.String()+" for "+customerName+" shipped (was new)" {
			t.Fatalf("shipping notification = %v", text)
		}
		shown(t, raw)
	})

	// The README's "Changing a workflow": validate-order (id 4) has run, so an edit of its
	// file makes a revision, which becomes the current version.
	t.Run("changing a workflow that has run makes a revision", func(t *testing.T) {
		src, err := os.ReadFile(filepath.Join(root, "examples", "orders", "workflows", "validate-order.lua"))
		if err != nil {
			t.Fatal(err)
		}
		edited := filepath.Join(t.TempDir(), "validate-order.lua")
		if err := os.WriteFile(edited, append(src, "-- an edit\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct{ name, flag, want string }{
			{"dry run", "--dry-run", "would revise validate-order (id 4)"},
			{"apply", "", "revised validate-order (id 4 → 5)"},
		} {
			args := []string{"workflows", "apply", "--password", rootPassword, edited}
			if tc.flag != "" {
				args = append(args, tc.flag)
			}
			out := strings.TrimSpace(runActionflow(t, bin, root, s.url, args...))
			if out != tc.want {
				t.Fatalf("%s: %q, want %q", tc.name, out, tc.want)
			}
			if !strings.Contains(readme(t), "`"+tc.want+"`") {
				t.Errorf("README.md does not show %q", tc.want)
			}
		}
		q := url.Values{"filter": {`{"key":"validate-order"}`}, "sort": {"id"}}
		list, raw := s.must(200, "GET", "/api/workflows:list?"+q.Encode(), "")
		versions := list["data"].([]any)
		if len(versions) != 2 || versions[1].(map[string]any)["current"] != true || versions[1].(map[string]any)["enabled"] != true ||
			versions[0].(map[string]any)["enabled"] != false {
			t.Fatalf("versions: %s", raw)
		}
	})
}
