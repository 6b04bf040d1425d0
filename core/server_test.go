package core_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// lockedBuffer is a log sink safe to read while the server writes.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tcpApp serves an in-memory app on loopback TCP; it returns the app and its address.
func tcpApp(t *testing.T, cfg core.Config, opts ...core.Option) (*core.App, string) {
	t.Helper()
	cfg.InMemory, cfg.BcryptCost, cfg.RootPassword = true, 4, coretest.RootPassword
	app, err := core.New(cfg, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return app, strings.TrimPrefix(coretest.ServeTCP(t, app), "http://")
}

func dial(t *testing.T, addr string) *net.TCPConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	// A safety net against a hung test, not a synchronisation: reads end at EOF.
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return c.(*net.TCPConn)
}

// rawRequest is an HTTP/1.1 request with a JSON body (none when body is "").
func rawRequest(method, path, token, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: actionflow\r\n", method, path)
	if token != "" {
		fmt.Fprintf(&b, "Authorization: Bearer %s\r\n", token)
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return b.String()
}

// readResponses reads responses from c until it is closed.
func readResponses(t *testing.T, c net.Conn) []*http.Response {
	t.Helper()
	var out []*http.Response
	br := bufio.NewReader(c)
	for {
		if _, err := br.Peek(1); err != nil {
			if err != io.EOF && !strings.Contains(err.Error(), "reset") {
				t.Fatalf("after %d responses: %v", len(out), err)
			}
			return out
		}
		res, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("after %d responses: %v", len(out), err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body = io.NopCloser(bytes.NewReader(body))
		out = append(out, res)
	}
}

func signInTCP(t *testing.T, addr string) string {
	t.Helper()
	c := dial(t, addr)
	body := fmt.Sprintf(`{"email":"root@actionflow.local","password":%q}`, coretest.RootPassword)
	if _, err := io.WriteString(c, rawRequest("POST", "/api/auth:signIn", "", body)); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	var v struct{ Data struct{ Token string } }
	if err := json.NewDecoder(res.Body).Decode(&v); err != nil || v.Data.Token == "" {
		t.Fatalf("sign in: %v %+v", err, v)
	}
	_ = c.Close()
	return v.Data.Token
}

// waitConns polls the server's open connection count until it is want: the server's own
// signal, with a deadline that only guards against a hang.
func waitConns(t *testing.T, app *core.App, want int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for app.OpenConnections() != want {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections open, want %d", app.OpenConnections(), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestMalformedRequestLog(t *testing.T) {
	logs := &lockedBuffer{}
	_, addr := tcpApp(t, core.Config{Logger: slog.New(slog.NewTextHandler(logs, nil))})
	token := signInTCP(t, addr)

	send := func(t *testing.T, raw string) {
		t.Helper()
		c := dial(t, addr)
		if _, err := io.WriteString(c, raw); err != nil {
			t.Fatal(err)
		}
		// fasthttp logs the error before it closes the connection: EOF is the signal.
		res := readResponses(t, c)
		if len(res) != 1 || res[0].StatusCode != 400 {
			t.Fatalf("want one 400, got %d responses", len(res))
		}
	}
	tests := []struct {
		name   string
		raw    string
		secret string
	}{
		{"bad header value", "GET /api/auth:check HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\x01\r\n\r\n", token},
		{"missing colon", "GET /api/auth:check HTTP/1.1\r\nHost: x\r\nAuthorization Bearer " + token + "\r\n\r\n", token},
		{"garbage first line", "GARBAGE\r\nauthorization: Bearer " + token + "\r\n\r\n", token},
		{"cookie and a bad length", "GET / HTTP/1.1\r\nHost: x\r\nCookie: sid=cookie-secret\r\nContent-Length: abc\r\n\r\n", "cookie-secret"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := strings.Count(logs.String(), "http server")
			send(t, tc.raw)
			out := logs.String()
			if strings.Count(out, "http server") <= before {
				t.Fatalf("malformed request not in the app's log:\n%s", out)
			}
			if strings.Contains(out, tc.secret) {
				t.Fatalf("secret in the log:\n%s", out)
			}
		})
	}

	t.Run("a flood is rate limited", func(t *testing.T) {
		const flood = 200
		before := strings.Count(logs.String(), "http server")
		start := time.Now()
		for i := range flood {
			send(t, fmt.Sprintf("GET / HTTP/1.1\r\nHost: x\r\nAuthorization Bearer flood-%d\r\n\r\n", i))
		}
		// The bucket holds at most 10 lines and refills one a second: the bound is what the
		// flood's own duration allows, plus one summary line.
		bound := 10 + int(time.Since(start)/time.Second) + 2
		n := strings.Count(logs.String(), "http server") - before
		if n < 1 || n > bound {
			t.Fatalf("%d log lines for %d malformed requests, want 1..%d", n, flood, bound)
		}
	})
}

func TestMaxConnsPerIP(t *testing.T) {
	tests := []struct {
		name    string
		limit   int
		refused bool
	}{
		{"over the limit: 429 and closed", 2, true},
		{"no limit", -1, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, addr := tcpApp(t, core.Config{MaxConnsPerIP: tc.limit})
			check := rawRequest("GET", "/api/auth:check", "", "")
			var open []*net.TCPConn
			for range 2 {
				c := dial(t, addr)
				if _, err := io.WriteString(c, check); err != nil {
					t.Fatal(err)
				}
				if res, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || res.StatusCode != 401 {
					t.Fatalf("connection within the limit: %v %v", res, err)
				}
				open = append(open, c)
			}
			third := dial(t, addr)
			_, _ = io.WriteString(third, check)
			if !tc.refused {
				if res, err := http.ReadResponse(bufio.NewReader(third), nil); err != nil || res.StatusCode != 401 {
					t.Fatalf("third connection not served: %v %v", res, err)
				}
				return
			}
			res := readResponses(t, third)
			if len(res) != 1 || res[0].StatusCode != 429 {
				t.Fatalf("third connection: %d responses, want one 429", len(res))
			}
			if b, _ := io.ReadAll(res[0].Body); !strings.Contains(string(b), "TOO_MANY_CONNECTIONS") {
				t.Fatalf("429 body %s", b)
			}
			// A closed connection gives its slot back.
			_ = open[0].Close()
			waitConns(t, app, 1)
			again := dial(t, addr)
			_, _ = io.WriteString(again, check)
			if res, err := http.ReadResponse(bufio.NewReader(again), nil); err != nil || res.StatusCode != 401 {
				t.Fatalf("connection after one closed: %v %v", res, err)
			}
		})
	}
}

// probe is a plugin whose probe:block action waits until released and probe:hit counts.
type probe struct {
	entered chan struct{}
	release chan struct{}
	hits    atomic.Int64
}

func (p *probe) Name() string { return "probe" }
func (p *probe) Init(h *core.Host) error {
	return h.Resource("probe", map[string]core.Action{
		"block": {Tx: core.TxNone, Handler: func(ac *core.ActionContext) error {
			p.entered <- struct{}{}
			<-p.release
			ac.Result = &core.Result{Data: "released"}
			return nil
		}},
		"hit": {Tx: core.TxNone, Handler: func(ac *core.ActionContext) error {
			p.hits.Add(1)
			ac.Result = &core.Result{Data: "hit"}
			return nil
		}},
	})
}

func TestAbandonedConnections(t *testing.T) {
	t.Run("a silent connection is closed after the read timeout", func(t *testing.T) {
		app, addr := tcpApp(t, core.Config{ReadTimeout: 200 * time.Millisecond})
		c := dial(t, addr)
		waitConns(t, app, 1)
		waitConns(t, app, 0)
		if res := readResponses(t, c); len(res) > 1 || len(res) == 1 && res[0].StatusCode != 408 {
			t.Fatalf("silent connection answered %d responses, want nothing or one 408", len(res))
		}
	})
	t.Run("a request whose client has gone is not run", func(t *testing.T) {
		p := &probe{entered: make(chan struct{}, 1), release: make(chan struct{})}
		app, addr := tcpApp(t, core.Config{}, core.WithPlugins(p))
		token := signInTCP(t, addr)
		waitConns(t, app, 0)
		c := dial(t, addr)
		if _, err := io.WriteString(c, rawRequest("POST", "/api/probe:block", token, "")); err != nil {
			t.Fatal(err)
		}
		select {
		case <-p.entered:
		case <-time.After(30 * time.Second):
			t.Fatal("probe:block never ran")
		}
		// While the first request runs, the client sends a second and leaves.
		if _, err := io.WriteString(c, rawRequest("POST", "/api/probe:hit", token, "")); err != nil {
			t.Fatal(err)
		}
		if err := c.CloseWrite(); err != nil {
			t.Fatal(err)
		}
		close(p.release)
		res := readResponses(t, c)
		waitConns(t, app, 0)
		if n := p.hits.Load(); n != 0 {
			t.Fatalf("the gone client's request ran (%d hits)", n)
		}
		if len(res) < 1 || res[0].StatusCode != 200 {
			t.Fatalf("first request: %d responses", len(res))
		}
		if len(res) == 2 && res[1].StatusCode != 499 {
			t.Fatalf("second request answered %d", res[1].StatusCode)
		}
	})
}
