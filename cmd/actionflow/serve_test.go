package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binary builds the actionflow binary once per test run.
var buildOnce = struct {
	sync.Once
	path string
	err  error
}{}

func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "actionflow-bin")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "actionflow")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe to read while the process writes to it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// proc is a running server process. done is closed when it has exited.
type proc struct {
	cmd    *exec.Cmd
	addr   string
	stdout *syncBuffer
	stderr *syncBuffer
	done   chan struct{}
}

func startServer(t *testing.T, addr, dir string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"serve", "--addr", addr, "--data", dir}, extra...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(), "ACTIONFLOW_LOG_LEVEL=warn")
	p := &proc{cmd: cmd, addr: addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.stdout, p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			return p
		}
		select {
		case <-p.done:
			t.Fatalf("server exited with %v:\n%s", cmd.ProcessState, p.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not listen on %s: %s", addr, p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wait waits for the process to exit and returns its exit code.
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(30 * time.Second):
		t.Fatal("server did not stop")
	}
	return p.cmd.ProcessState.ExitCode()
}

// client is a small JSON client for a server process.
type client struct {
	t     *testing.T
	base  string
	token string
	http  *http.Client
}

func newClient(t *testing.T, addr string) *client {
	return &client{t: t, base: "http://" + addr, http: &http.Client{Timeout: 30 * time.Second}}
}

func (c *client) call(path string, body any) (int, map[string]any, error) {
	var r io.Reader
	method := "GET"
	if body != nil {
		b, _ := json.Marshal(body)
		r, method = bytes.NewReader(b), "POST"
	}
	req, _ := http.NewRequest(method, c.base+path, r)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	var m map[string]any
	d := json.NewDecoder(res.Body)
	d.UseNumber()
	if err := d.Decode(&m); err != nil {
		return res.StatusCode, nil, err
	}
	return res.StatusCode, m, nil
}

func (c *client) must(path string, body any) map[string]any {
	c.t.Helper()
	status, m, err := c.call(path, body)
	if err != nil || status != 200 {
		c.t.Fatalf("%s: %d %v %v", path, status, m, err)
	}
	return m
}

func (c *client) signIn(email, password string) {
	c.t.Helper()
	m := c.must("/api/auth:signIn", map[string]any{"email": email, "password": password})
	c.token = m["data"].(map[string]any)["token"].(string)
}

func TestServeFirstStartAndGracefulShutdown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir, addr := t.TempDir(), freeAddr(t)
	p := startServer(t, addr, dir)
	time.Sleep(50 * time.Millisecond)
	m := regexp.MustCompile(`password: (\S+)`).FindStringSubmatch(p.stdout.String())
	if m == nil {
		t.Fatalf("generated root password not printed: %q", p.stdout.String())
	}
	c := newClient(t, addr)
	c.signIn("root@actionflow.local", m[1])
	c.must("/api/collections:create", map[string]any{"name": "notes", "fields": []any{map[string]any{"name": "text", "type": "string"}}})
	first := c.must("/api/notes:create", map[string]any{"text": "a"})["data"].(map[string]any)["id"]

	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGTERM: %s", code, p.stderr)
	}

	p2 := startServer(t, addr, dir)
	if strings.Contains(p2.stdout.String(), "password") {
		t.Fatal("a second start made the root user again")
	}
	c.signIn("root@actionflow.local", m[1])
	second := c.must("/api/notes:create", map[string]any{"text": "b"})["data"].(map[string]any)["id"]
	if fmt.Sprint(first) != "1" || fmt.Sprint(second) != "2" {
		t.Fatalf("ids %v then %v: the sequence was not released on shutdown", first, second)
	}
	l := c.must("/api/notes:list", nil)
	if n := len(l["data"].([]any)); n != 2 {
		t.Fatalf("%d notes after restart", n)
	}
	_ = p2.cmd.Process.Signal(syscall.SIGINT)
	if code := p2.wait(t); code != 0 {
		t.Fatalf("exit code %d after SIGINT", code)
	}
}
