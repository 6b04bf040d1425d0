package admin_test

import (
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/admin"
	"github.com/valyala/fasthttp"
)

// get fetches path from an app served over the in-memory listener (coretest's client
// expects JSON; the console is HTML, JS and CSS).
func get(t *testing.T, s *coretest.Server, method, path string) (int, string, *fasthttp.ResponseHeader) {
	t.Helper()
	req := fasthttp.AcquireRequest()
	res := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(res)
	req.SetRequestURI("http://actionflow" + path)
	req.Header.SetMethod(method)
	if err := s.Client.Do(req, res); err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	hdr := &fasthttp.ResponseHeader{}
	res.Header.CopyTo(hdr)
	return res.StatusCode(), string(res.Body()), hdr
}

func TestConsoleFiles(t *testing.T) {
	s := coretest.New(t, core.Config{}, core.WithPlugins(admin.New()))
	tests := []struct {
		name, method, path string
		status             int
		ctype, contains    string
	}{
		{"index", "GET", "/admin/", 200, "text/html", `<script type="module" src="app.js">`},
		{"index by name", "GET", "/admin/index.html", 200, "text/html", "actionflow admin"},
		{"app", "GET", "/admin/app.js", 200, "text/javascript", "workflows:update"},
		{"styles", "GET", "/admin/app.css", 200, "text/css", ".editor"},
		{"head", "HEAD", "/admin/app.js", 200, "text/javascript", ""},
		{"unknown file", "GET", "/admin/nope.js", 404, "text/plain", "not found"},
		{"unknown kind", "GET", "/admin/admin.go", 404, "text/plain", "not found"},
		{"dot segments", "GET", "/admin/../admin.go", 404, "", ""},
		{"folder", "GET", "/admin/static/app.js", 404, "text/plain", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			status, body, hdr := get(t, s, tc.method, tc.path)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %.200s", status, tc.status, body)
			}
			if ct := string(hdr.ContentType()); !strings.HasPrefix(ct, tc.ctype) {
				t.Errorf("content type %q, want %s", ct, tc.ctype)
			}
			if !strings.Contains(body, tc.contains) {
				t.Errorf("body does not contain %q: %.200s", tc.contains, body)
			}
			if status == 200 {
				if csp := string(hdr.Peek("Content-Security-Policy")); !strings.Contains(csp, "script-src 'self'") {
					t.Errorf("Content-Security-Policy %q", csp)
				}
				if ns := string(hdr.Peek("X-Content-Type-Options")); ns != "nosniff" {
					t.Errorf("X-Content-Type-Options %q", ns)
				}
			}
		})
	}
}

func TestConsoleRedirect(t *testing.T) {
	s := coretest.New(t, core.Config{}, core.WithPlugins(admin.New()))
	status, _, hdr := get(t, s, "GET", "/admin")
	if status != fasthttp.StatusMovedPermanently {
		t.Fatalf("status %d, want 301", status)
	}
	if loc := string(hdr.Peek("Location")); !strings.HasSuffix(loc, "/admin/") {
		t.Fatalf("Location %q, want /admin/", loc)
	}
}
