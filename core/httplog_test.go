package core

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestRedactSecrets(t *testing.T) {
	tests := []struct {
		name   string
		in     string
		secret []string // must be gone
		keep   []string // must stay
	}{
		{"quoted buffer contents",
			`error when serving connection "127.0.0.1:13000"<->"127.0.0.1:5555": error when reading request headers: cannot find http request method in "GARBAGE\r\nAuthorization: Bearer tok-123\r\nHost: x\r\n\r\n": buffer size=42`,
			[]string{"tok-123"}, []string{"GARBAGE", "Host: x", "buffer size=42", "Authorization: " + redacted}},
		{"odd casing and space before colon",
			`contents: "GET / HTTP/1.1\r\naUtHoRiZaTiOn :Basic dXNlcjpwYXNz\r\nHost: x\r\n"`,
			[]string{"dXNlcjpwYXNz"}, []string{"Host: x"}},
		{"proxy authorization",
			`contents: "GET / HTTP/1.1\r\nProxy-Authorization: Basic cHJveHk6cHc=\r\n\r\n"`,
			[]string{"cHJveHk6cHc="}, []string{"Proxy-Authorization: "}},
		{"cookie and set-cookie",
			`contents: "GET / HTTP/1.1\r\nCookie: sid=abc; theme=dark\r\nSet-Cookie: sid=def\r\nX: y\r\n"`,
			[]string{"sid=abc", "theme=dark", "sid=def"}, []string{"X: y"}},
		{"folded continuation line",
			`contents: "GET / HTTP/1.1\r\nAuthorization: Bearer\r\n folded-secret\r\n\tmore-secret\r\nHost: x\r\n"`,
			[]string{"folded-secret", "more-secret"}, []string{"Host: x"}},
		{"raw bytes with real line ends",
			"GET / HTTP/1.1\r\nAuthorization: Bearer raw-secret\r\nHost: x\r\n\r\n",
			[]string{"raw-secret"}, []string{"Host: x"}},
		{"raw folded",
			"GET / HTTP/1.1\r\nCookie: a=1\r\n b=secret2\r\nHost: x\r\n",
			[]string{"a=1", "secret2"}, []string{"Host: x"}},
		{"missing colon",
			`error when reading request headers: malformed mime header: missing colon: "Authorization Bearer tok-456": buffer size=48`,
			[]string{"tok-456"}, []string{"buffer size=48"}},
		{"header value without its name",
			`error when reading request headers: invalid header value "Bearer tok-789\x01x": buffer size=60`,
			[]string{"tok-789", `\x01x`}, []string{"buffer size=60"}},
		{"header value of an unknown scheme",
			`invalid header value "Token zzz-secret\x7f": buffer size=3`,
			[]string{"zzz-secret"}, []string{"buffer size=3"}},
		{"escaped quote does not end the value",
			`contents: "GET / HTTP/1.1\r\nCookie: a=\"x\" b=hidden\\r\r\nHost: x\r\n"`,
			[]string{"hidden"}, []string{"Host: x"}},
		{"cut snippet: value up to the cut, tail of the cut line",
			`contents: "GET / HTTP/1.1\r\nAuthorization: Bearer abcdef"..."ghij-tail\r\nHost: x\r\n\r\n"`,
			[]string{"abcdef", "ghij-tail"}, []string{"Host: x"}},
		{"bearer anywhere",
			`something with bearer  sekrit-value and more`,
			[]string{"sekrit-value"}, []string{"and more"}},
		{"nothing secret",
			`error when serving connection "127.0.0.1:13000"<->"127.0.0.1:5555": cannot parse content-length: buffer size=69`,
			nil, []string{`cannot parse content-length: buffer size=69`}},
		{"words that merely contain a name",
			`cookies and authorization_code stay`,
			nil, []string{"cookies and authorization_code stay"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := redactSecrets(tc.in)
			for _, s := range tc.secret {
				if strings.Contains(got, s) {
					t.Errorf("%q still holds %q", got, s)
				}
			}
			for _, s := range tc.keep {
				if !strings.Contains(got, s) {
					t.Errorf("%q lost %q", got, s)
				}
			}
		})
	}
}

// fakeClock is a clock the test moves.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func TestHTTPLoggerRateLimit(t *testing.T) {
	tests := []struct {
		name      string
		lines     int           // lines logged at once
		advance   time.Duration // then the clock moves
		after     int           // and this many more are logged
		wantLines int           // lines written in all
		summary   string        // a suppressed summary it holds
	}{
		{"within the burst", httpLogBurst, 0, 0, httpLogBurst, ""},
		{"a flood is cut to the burst", 1000, 0, 0, httpLogBurst, ""},
		{"resumes with a summary", 1000, 3 * httpLogEvery, 3, httpLogBurst + 1 + 3, "suppressed=990"},
		{"refills at one line per period", httpLogBurst, httpLogEvery, 5, httpLogBurst + 1, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
			l := newHTTPLogger(slog.New(slog.NewTextHandler(&buf, nil)), clock.now)
			for range tc.lines {
				l.Printf("error when reading request headers: %q", "Authorization: Bearer s3cret\r\n")
			}
			clock.t = clock.t.Add(tc.advance)
			for range tc.after {
				l.Printf("line after")
			}
			out := buf.String()
			if n := strings.Count(out, "\n"); n != tc.wantLines {
				t.Errorf("%d lines written, want %d:\n%s", n, tc.wantLines, out)
			}
			if tc.summary != "" && !strings.Contains(out, tc.summary) {
				t.Errorf("no %q summary:\n%s", tc.summary, out)
			}
			if strings.Contains(out, "s3cret") {
				t.Errorf("token logged:\n%s", out)
			}
			if !strings.Contains(out, "level=WARN") {
				t.Errorf("not at warn level:\n%s", out)
			}
		})
	}
}
