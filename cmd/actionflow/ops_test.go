package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/actionflow/actionflow/plugins/standard"
)

// TestServeOperations runs the binary as an operator would: JSON logs with an access line
// per request, health, metrics on their own listener, a CORS preflight, a backup of the
// running server restored with `actionflow restore` and served again.
func TestServeOperations(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	addr, metricsAddr := freeAddr(t), freeAddr(t)
	p := startServer(t, addr, t.TempDir(), "--root-password", "ops-secret", "--log-level", "info", "--log-format", "json",
		"--metrics-addr", metricsAddr, "--cors-origins", "https://app.example")
	get := func(url string, headers ...string) (int, http.Header, []byte) {
		t.Helper()
		method := "GET"
		if len(headers) > 0 && headers[0] == "OPTIONS" {
			method, headers = "OPTIONS", headers[1:]
		}
		req, _ := http.NewRequest(method, url, nil)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, res.Header, b
	}
	c := newClient(t, addr)
	c.signIn("root@actionflow.local", "ops-secret")
	c.must("/api/collections:create", map[string]any{"name": "notes", "fields": []any{map[string]any{"name": "text", "type": "string"}}})
	for _, text := range []string{"a", "b", "c"} {
		c.must("/api/notes:create", map[string]any{"text": text})
	}
	tests := []struct {
		name    string
		url     string
		headers []string
		status  int
		has     string // in the body, or in the named header "Header: value"
	}{
		{"healthz", "http://" + addr + "/healthz", nil, 200, `{"status":"ok"}`},
		{"readyz", "http://" + addr + "/readyz", nil, 200, `"ready"`},
		{"metrics on their own listener", "http://" + metricsAddr + "/metrics", nil, 200, `actionflow_http_requests_total{action="notes:create",code="200"} 3`},
		{"not on the main one", "http://" + addr + "/metrics", nil, 404, ""},
		{"CORS preflight before auth", "http://" + addr + "/api/notes:list", []string{"OPTIONS", "Origin", "https://app.example", "Access-Control-Request-Method", "GET"}, 204,
			"Access-Control-Allow-Origin: https://app.example"},
		{"request id echoed", "http://" + addr + "/healthz", []string{"X-Request-Id", "ops-check-1"}, 200, "X-Request-Id: ops-check-1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := get(tc.url, tc.headers...)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			if name, value, isHeader := strings.Cut(tc.has, ": "); isHeader && !strings.Contains(tc.has, "{") {
				if h.Get(name) != value {
					t.Fatalf("%s: %q, want %q", name, h.Get(name), value)
				}
			} else if !bytes.Contains(body, []byte(tc.has)) {
				t.Fatalf("body lacks %s: %.300s", tc.has, body)
			}
		})
	}
	status, _, backup := get("http://"+addr+"/api/app:backup", "Authorization", "Bearer "+c.token)
	if status != 200 || len(backup) == 0 {
		t.Fatalf("backup: %d, %d bytes", status, len(backup))
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit %d: %s", code, p.stderr)
	}
	// Read once the process has exited: its stderr is then all copied.
	t.Run("a JSON access line per request", func(t *testing.T) {
		found := false
		for _, line := range strings.Split(p.stderr.String(), "\n") {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "request" && m["request"] == "ops-check-1" {
				found = m["path"] == "/healthz" && m["status"] == float64(200)
			}
		}
		if !found || strings.Contains(p.stderr.String(), "ops-secret") || strings.Contains(p.stderr.String(), c.token) {
			t.Fatalf("access line for ops-check-1 found %v, or a secret logged:\n%s", found, p.stderr)
		}
	})

	file := filepath.Join(t.TempDir(), "actionflow.backup")
	if err := os.WriteFile(file, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := filepath.Join(t.TempDir(), "restored")
	var out, errOut bytes.Buffer
	if code := standard.Run([]string{"restore", "--data", restored, file}, &out, &errOut); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errOut.String())
	}
	p2 := startServer(t, addr, restored)
	c.signIn("root@actionflow.local", "ops-secret")
	l := c.must("/api/notes:list?sort=id", nil)
	var texts []string
	for _, n := range l["data"].([]any) {
		texts = append(texts, n.(map[string]any)["text"].(string))
	}
	if strings.Join(texts, ",") != "a,b,c" {
		t.Fatalf("restored notes %v", texts)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGTERM)
	p2.wait(t)
}
