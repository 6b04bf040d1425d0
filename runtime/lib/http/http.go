// Package http provides the Lua module "http": outbound HTTP requests to the
// hosts of an allow list only. With an empty allow list (the default) every
// request is refused.
//
// Lua functions:
//
//	http.request{method=, url=, headers=, body=, timeout=}
//	                               -> {status=, headers=, body=} | nil, err
//	http.get(url[, headers])       -> same
//	http.post(url, body[, headers])-> same
//
// method defaults to GET; headers is a table of name = value; body a string;
// timeout is in seconds and never exceeds the module's timeout (10 s by
// default). Response header names are lower-case; repeated headers are joined
// with ", ". The response body is capped (1 MiB by default); a larger body is
// an error. Requests honour the run's deadline. Redirects are followed (at
// most 5) only to allowed hosts. Only http and https URLs are accepted.
//
// Allow-list entries are host names or IP addresses, matching any port
// ("api.example.com"), host:port pairs matching that port only
// ("127.0.0.1:8080"), or "*.example.com" for any subdomain. Matching is by
// name: an allowed name that resolves to an internal address is reachable.
//
// Example:
//
//	local http, json = require("http"), require("json")
//	local res, err = http.post("https://hooks.example.com/x", json.encode(ctx.data),
//	                           {["Content-Type"] = "application/json"})
//	if not res then error(err) end
//	return res.status
package http

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	gohttp "net/http"
	"net/url"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/runtime"
)

// Defaults for zero Config fields.
const (
	DefaultTimeout = 10 * time.Second
	DefaultMaxBody = 1 << 20
	maxRedirects   = 5
)

// Config configures the module.
type Config struct {
	AllowHosts []string            // see the package doc; empty refuses every request
	Timeout    time.Duration       // per-request timeout and its maximum; default 10s
	MaxBody    int64               // response body cap in bytes; default 1 MiB
	Transport  gohttp.RoundTripper // nil means a clone of http.DefaultTransport
}

// Module returns the "http" module.
func Module(cfg Config) runtime.Module {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	c := &client{cfg: cfg, allow: newAllowList(cfg.AllowHosts)}
	tr := cfg.Transport
	if tr == nil {
		tr = gohttp.DefaultTransport.(*gohttp.Transport).Clone()
	}
	c.http = &gohttp.Client{
		Transport: tr,
		CheckRedirect: func(req *gohttp.Request, via []*gohttp.Request) error {
			if len(via) >= maxRedirects {
				return errors.New("too many redirects")
			}
			return c.allow.check(req.URL)
		},
	}
	return runtime.Module{
		Name: "http",
		Doc:  "http.request{method, url, headers, body, timeout}, http.get(url, headers?), http.post(url, body, headers?)",
		Open: func(L *lua.LState, r *runtime.Run) lua.LValue {
			t := L.CreateTable(0, 3)
			t.RawSetString("request", L.NewFunction(func(L *lua.LState) int {
				spec := L.CheckTable(1)
				req := request{
					method:  optString(L, spec, "method", "GET"),
					url:     optString(L, spec, "url", ""),
					body:    optString(L, spec, "body", ""),
					headers: headerTable(L, spec.RawGetString("headers")),
				}
				if to, ok := spec.RawGetString("timeout").(lua.LNumber); ok && to > 0 {
					req.timeout = time.Duration(float64(to) * float64(time.Second))
				}
				return c.do(L, r, req)
			}))
			t.RawSetString("get", L.NewFunction(func(L *lua.LState) int {
				return c.do(L, r, request{method: "GET", url: L.CheckString(1), headers: headerTable(L, L.Get(2))})
			}))
			t.RawSetString("post", L.NewFunction(func(L *lua.LState) int {
				return c.do(L, r, request{method: "POST", url: L.CheckString(1), body: L.OptString(2, ""), headers: headerTable(L, L.Get(3))})
			}))
			return t
		},
	}
}

type client struct {
	cfg   Config
	allow allowList
	http  *gohttp.Client
}

type request struct {
	method, url, body string
	headers           map[string]string
	timeout           time.Duration
}

func optString(L *lua.LState, t *lua.LTable, key, def string) string {
	switch v := t.RawGetString(key).(type) {
	case *lua.LNilType:
		return def
	case lua.LString:
		return string(v)
	default:
		L.ArgError(1, fmt.Sprintf("field %q must be a string", key))
		return ""
	}
}

func headerTable(L *lua.LState, v lua.LValue) map[string]string {
	t, ok := v.(*lua.LTable)
	if !ok {
		if v != lua.LNil {
			L.RaiseError("http: headers must be a table")
		}
		return nil
	}
	h := make(map[string]string)
	t.ForEach(func(k, v lua.LValue) {
		ks, ok1 := k.(lua.LString)
		if !ok1 || !lua.LVCanConvToString(v) {
			L.RaiseError("http: headers must map names to strings")
		}
		h[string(ks)] = lua.LVAsString(v)
	})
	return h
}

func (c *client) do(L *lua.LState, r *runtime.Run, req request) int {
	resp, err := c.roundTrip(r.Context(), req)
	if err != nil {
		L.Push(lua.LNil)
		L.Push(lua.LString("http: " + err.Error()))
		return 2
	}
	t := L.CreateTable(0, 3)
	t.RawSetString("status", lua.LNumber(resp.status))
	h := L.CreateTable(0, len(resp.headers))
	for k, v := range resp.headers {
		h.RawSetString(k, lua.LString(v))
	}
	t.RawSetString("headers", h)
	t.RawSetString("body", lua.LString(resp.body))
	L.Push(t)
	return 1
}

type response struct {
	status  int
	headers map[string]string
	body    string
}

func (c *client) roundTrip(ctx context.Context, req request) (*response, error) {
	method := strings.ToUpper(req.method)
	switch method {
	case "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS":
	default:
		return nil, fmt.Errorf("method %q not supported", req.method)
	}
	u, err := url.Parse(req.url)
	if err != nil {
		return nil, fmt.Errorf("bad url: %w", err)
	}
	if err := c.allow.check(u); err != nil {
		return nil, err
	}
	timeout := c.cfg.Timeout
	if req.timeout > 0 && req.timeout < timeout {
		timeout = req.timeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if req.body != "" {
		body = strings.NewReader(req.body)
	}
	hreq, err := gohttp.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return nil, fmt.Errorf("bad request: %w", err)
	}
	for k, v := range req.headers {
		hreq.Header.Set(k, v)
	}
	if hreq.Header.Get("User-Agent") == "" {
		hreq.Header.Set("User-Agent", "actionflow")
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("%s %s: %w", method, u.Redacted(), err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.cfg.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("%s %s: reading body: %w", method, u.Redacted(), err)
	}
	if int64(len(b)) > c.cfg.MaxBody {
		return nil, fmt.Errorf("%s %s: response body larger than %d bytes", method, u.Redacted(), c.cfg.MaxBody)
	}
	out := &response{status: resp.StatusCode, headers: make(map[string]string, len(resp.Header)), body: string(b)}
	for k, vs := range resp.Header {
		out.headers[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	return out, nil
}

// allowList matches URLs against the configured hosts.
type allowList struct {
	hosts    map[string]bool // host, any port
	hostPort map[string]bool // host:port
	suffixes []string        // ".example.com"
}

func newAllowList(entries []string) allowList {
	a := allowList{hosts: map[string]bool{}, hostPort: map[string]bool{}}
	for _, e := range entries {
		e = strings.ToLower(strings.TrimSpace(e))
		switch {
		case e == "":
		case strings.HasPrefix(e, "*."):
			a.suffixes = append(a.suffixes, e[1:])
		default:
			if h, p, err := net.SplitHostPort(e); err == nil {
				a.hostPort[net.JoinHostPort(h, p)] = true
			} else {
				a.hosts[strings.Trim(e, "[]")] = true
			}
		}
	}
	return a
}

func (a allowList) empty() bool {
	return len(a.hosts) == 0 && len(a.hostPort) == 0 && len(a.suffixes) == 0
}

func (a allowList) check(u *url.URL) error {
	if a.empty() {
		return errors.New("outbound requests are disabled (no allowed hosts configured)")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("scheme %q not allowed (http or https only)", u.Scheme)
	}
	host := strings.ToLower(u.Hostname())
	if host == "" {
		return errors.New("url has no host")
	}
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	if a.hosts[host] || a.hostPort[net.JoinHostPort(host, port)] {
		return nil
	}
	for _, s := range a.suffixes {
		if strings.HasSuffix(host, s) {
			return nil
		}
	}
	return fmt.Errorf("host %q is not allowed", host)
}
