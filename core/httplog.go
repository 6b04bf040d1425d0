package core

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// The HTTP server's own log (fasthttp's: malformed requests, refused connections) is rate
// limited: a burst of httpLogBurst lines, then one line every httpLogEvery.
const (
	httpLogBurst   = 10
	httpLogEvery   = time.Second
	httpLogMaxLine = 1024 // longer lines are cut
	redacted       = "[REDACTED]"
)

// httpLogger is the fasthttp.Logger of the server. It removes credentials from what fasthttp
// logs (it quotes the raw bytes of a request it cannot parse, headers included), writes
// through the app's logger at warn level, and is rate limited so that unauthenticated
// clients cannot fill the log: over the limit lines are dropped and counted, and the next
// line let through is preceded by one saying how many were suppressed.
type httpLogger struct {
	log *slog.Logger
	now func() time.Time

	mu         sync.Mutex
	tokens     float64
	last       time.Time
	suppressed int
}

func newHTTPLogger(log *slog.Logger, now func() time.Time) *httpLogger {
	return &httpLogger{log: log, now: now, tokens: httpLogBurst, last: now()}
}

// Printf implements fasthttp.Logger.
func (l *httpLogger) Printf(format string, args ...any) {
	suppressed, ok := l.allow()
	if !ok {
		return
	}
	if suppressed > 0 {
		l.log.Warn("http server: suppressed log lines", "suppressed", suppressed)
	}
	msg := redactSecrets(fmt.Sprintf(format, args...))
	if len(msg) > httpLogMaxLine {
		msg = msg[:httpLogMaxLine] + "..."
	}
	l.log.Warn("http server", "err", msg)
}

// allow takes a token from the bucket; it reports whether the line may be written and, if
// so, how many lines were dropped since the last one written.
func (l *httpLogger) allow() (suppressed int, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if d := now.Sub(l.last); d > 0 {
		l.tokens += float64(d) / float64(httpLogEvery)
		if l.tokens > httpLogBurst {
			l.tokens = httpLogBurst
		}
	}
	l.last = now
	if l.tokens < 1 {
		l.suppressed++
		return 0, false
	}
	l.tokens--
	suppressed, l.suppressed = l.suppressed, 0
	return suppressed, true
}

// redactSecrets replaces credentials in s, a message about raw HTTP bytes as fasthttp
// writes it: either raw ("Authorization: Bearer x\r\n") or Go-quoted
// ("Authorization: Bearer x\\r\\n"). It removes
//   - the value of Authorization, Proxy-Authorization, Cookie and Set-Cookie headers, in
//     any case, with or without the colon, up to the end of the line and across folded
//     continuation lines;
//   - whatever follows "Bearer", "Basic" or "Digest" up to white space or a quote;
//   - the value quoted after "header value " or "trailer value " (no header name with it);
//   - the start of the tail of a cut buffer snippet ("..."…"), up to its first line end:
//     it continues a line whose name was cut away.
func redactSecrets(s string) string {
	var b strings.Builder
	i := 0 // s[:i] has been written to b
	for p := 0; p < len(s); {
		start, end, ok := nextSecret(s, p)
		if !ok {
			break
		}
		if end > start {
			b.WriteString(s[i:start])
			b.WriteString(redacted)
			i = end
		}
		p = max(end, p+1)
	}
	if i == 0 {
		return s
	}
	b.WriteString(s[i:])
	return b.String()
}

// nextSecret finds the first secret value at or after p: s[start:end].
func nextSecret(s string, p int) (start, end int, ok bool) {
	// Header names are matched anywhere, so Proxy-Authorization and Set-Cookie are
	// covered. Auth schemes are matched for messages that quote a header value without
	// its name.
	secretHeaders := [...]string{"authorization", "cookie"}
	secretSchemes := [...]string{"bearer", "basic", "digest"}
	for j := p; j < len(s); j++ {
		for _, h := range secretHeaders {
			if hasPrefixFold(s[j:], h) {
				if v, ok := headerValueStart(s, j+len(h)); ok {
					return v, valueEnd(s, v, true), true
				}
			}
		}
		for _, sc := range secretSchemes {
			if hasPrefixFold(s[j:], sc) {
				k := j + len(sc)
				n := k
				for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
					n++
				}
				if n > k && n < len(s) {
					e := n
					for e < len(s) && s[e] != ' ' && s[e] != '\t' && s[e] != '"' && s[e] != '\\' && s[e] != '\r' && s[e] != '\n' {
						e++
					}
					if e > n {
						return n, e, true
					}
				}
			}
		}
		for _, q := range [...]string{"header value \"", "trailer value \""} {
			if hasPrefixFold(s[j:], q) {
				v := j + len(q)
				return v, valueEnd(s, v, false), true
			}
		}
		if strings.HasPrefix(s[j:], `"..."`) {
			v := j + len(`"..."`)
			return v, valueEnd(s, v, true), true
		}
	}
	return 0, 0, false
}

// headerValueStart: after a secret header's name at s[k:], a value follows a colon or
// white space ("Authorization: x", "authorization :x", "Authorization x" with its colon
// missing); the value starts after them.
func headerValueStart(s string, k int) (int, bool) {
	n := k
	for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
		n++
	}
	colon := n < len(s) && s[n] == ':'
	if colon {
		n++
		for n < len(s) && (s[n] == ' ' || s[n] == '\t') {
			n++
		}
	}
	if !colon && n == k {
		return 0, false // "cookies", "authorization_code": not a header
	}
	return n, n < len(s)
}

// valueEnd returns where a header value starting at v ends: at a line end (raw CR or LF,
// or the quoted escapes \r and \n) not followed by a folded continuation (a space or
// tab), or at the closing quote of a quoted string. Quoted escapes (\\, \", \x01) are
// skipped whole, so an escaped quote or backslash does not end it.
func valueEnd(s string, v int, folds bool) int {
	j := v
	for j < len(s) {
		switch c := s[j]; {
		case c == '"':
			return j
		case c == '\r' || c == '\n':
			k := j
			for k < len(s) && (s[k] == '\r' || s[k] == '\n') {
				k++
			}
			if folds && k < len(s) && (s[k] == ' ' || s[k] == '\t') {
				j = k
				continue
			}
			return j
		case c == '\\' && j+1 < len(s):
			if s[j+1] != 'r' && s[j+1] != 'n' {
				j += 2
				continue
			}
			k := j
			for k+1 < len(s) && s[k] == '\\' && (s[k+1] == 'r' || s[k+1] == 'n') {
				k += 2
			}
			if folds && k < len(s) && (s[k] == ' ' || strings.HasPrefix(s[k:], `\t`)) {
				j = k
				continue
			}
			return j
		default:
			j++
		}
	}
	return j
}

// hasPrefixFold is strings.HasPrefix ignoring ASCII case; prefix is lower case.
func hasPrefixFold(s, prefix string) bool {
	if len(s) < len(prefix) {
		return false
	}
	for i := 0; i < len(prefix); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}
