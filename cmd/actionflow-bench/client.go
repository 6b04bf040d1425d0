package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/valyala/fasthttp"
)

// client talks to one actionflow server over keep-alive connections.
type client struct {
	hc      *fasthttp.HostClient
	base    string // scheme://host[:port]
	timeout time.Duration
}

// newClient makes a client of the server at base, with up to conns connections.
func newClient(base string, conns int) (*client, error) {
	u, err := url.Parse(base)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	addr := u.Host
	if _, _, err := net.SplitHostPort(addr); err != nil {
		port := "80"
		if u.Scheme == "https" {
			port = "443"
		}
		addr = net.JoinHostPort(u.Hostname(), port)
	}
	return &client{
		hc: &fasthttp.HostClient{
			Addr:                addr,
			Name:                "actionflow-bench",
			IsTLS:               u.Scheme == "https",
			MaxConns:            conns,
			MaxIdleConnDuration: 30 * time.Second,
			ReadTimeout:         2 * time.Minute,
			WriteTimeout:        2 * time.Minute,
			MaxResponseBodySize: 256 << 20,
		},
		base:    u.Scheme + "://" + u.Host,
		timeout: 2 * time.Minute,
	}, nil
}

// envelope is a decoded answer.
type envelope struct {
	Data json.RawMessage `json:"data"`
	Meta struct {
		Count     int `json:"count"`
		TotalPage int `json:"totalPage"`
	} `json:"meta"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// call sends one request (body, when not nil, as JSON) and decodes the answer; a non-2xx
// answer is an error carrying its message.
func (c *client) call(ctx context.Context, method, path, token string, body any) (*envelope, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.base + path)
	req.Header.SetMethod(method)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
		}
		req.Header.SetContentType("application/json")
		req.SetBody(b)
	}
	if err := c.hc.DoTimeout(req, resp, c.timeout); err != nil {
		return nil, fmt.Errorf("client: %s %s: %w", method, path, err)
	}
	var env envelope
	if err := json.Unmarshal(resp.Body(), &env); err != nil {
		return nil, fmt.Errorf("client: %s %s: status %d, undecodable body %q: %w", method, path, resp.StatusCode(), snippet(resp.Body()), err)
	}
	if resp.StatusCode()/100 != 2 {
		msgs := make([]string, 0, len(env.Errors))
		for _, e := range env.Errors {
			msgs = append(msgs, e.Message)
		}
		return nil, fmt.Errorf("client: %s %s: status %d: %s", method, path, resp.StatusCode(), strings.Join(msgs, "; "))
	}
	return &env, nil
}

// callInto is call that decodes the data into out.
func (c *client) callInto(ctx context.Context, method, path, token string, body, out any) (*envelope, error) {
	env, err := c.call(ctx, method, path, token, body)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return nil, fmt.Errorf("client: %s %s: decode data: %w", method, path, err)
		}
	}
	return env, nil
}

// signIn returns a token.
func (c *client) signIn(ctx context.Context, email, password string) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if _, err := c.callInto(ctx, "POST", "/api/auth:signIn", "", map[string]string{"email": email, "password": password}, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", fmt.Errorf("client: sign in as %s: no token in the answer", email)
	}
	return out.Token, nil
}

// metric scrapes the server's /metrics and returns the value of the series name (one
// without labels); false when the server does not publish it (or /metrics is off).
func (c *client) metric(ctx context.Context, name string) (float64, bool) {
	if ctx.Err() != nil {
		return 0, false
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(c.base + "/metrics")
	if err := c.hc.DoTimeout(req, resp, c.timeout); err != nil || resp.StatusCode() != 200 {
		return 0, false
	}
	return metricValue(string(resp.Body()), name)
}

// metricValue finds "name value" in a Prometheus text exposition.
func metricValue(text, name string) (float64, bool) {
	for _, line := range strings.Split(text, "\n") {
		rest, ok := strings.CutPrefix(line, name+" ")
		if !ok {
			continue
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
		return v, err == nil
	}
	return 0, false
}

// listPath is /api/<resource>:list with the query parameters, encoded.
func listPath(resource string, params url.Values) string {
	return "/api/" + resource + ":list?" + params.Encode()
}

// snippet is the start of a body, for error messages.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
