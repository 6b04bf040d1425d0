package core

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// connLimiter wraps the server's listener: it counts the open TCP connections of each
// client address and refuses one over Config.MaxConnsPerIP with a 429 (and closes it), and
// its connections let a handler see whether the client has gone (clientGone). Connections
// that are not TCP (in-memory listeners, Unix sockets) pass unchanged and unlimited.
type connLimiter struct {
	net.Listener
	max int // 0: no limit
	log *httpLogger

	mu   sync.Mutex
	open map[netip.Addr]int
}

func newConnLimiter(ln net.Listener, max int, log *httpLogger) *connLimiter {
	return &connLimiter{Listener: ln, max: max, log: log, open: map[netip.Addr]int{}}
}

// Accept returns the next connection that is within its address's limit.
func (l *connLimiter) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		tc, ok := c.(*net.TCPConn)
		if !ok {
			return c, nil
		}
		ip := remoteIP(tc)
		if !l.take(ip) {
			l.refuse(tc, ip)
			continue
		}
		return &tcpConn{TCPConn: tc, release: func() { l.release(ip) }}, nil
	}
}

func (l *connLimiter) take(ip netip.Addr) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.max > 0 && l.open[ip] >= l.max {
		return false
	}
	l.open[ip]++
	return true
}

func (l *connLimiter) release(ip netip.Addr) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.open[ip]--; l.open[ip] <= 0 {
		delete(l.open, ip)
	}
}

// refuse answers 429 and closes. The answer fits the socket's send buffer of a new
// connection; the deadline keeps the accept loop from ever waiting on a client.
func (l *connLimiter) refuse(c *net.TCPConn, ip netip.Addr) {
	l.log.Printf("refused a connection from %s: %d connections open from that address (--max-conns-per-ip)", ip, l.max)
	body := fmt.Sprintf(`{"errors":[{"message":"too many connections from your address (at most %d)","code":"TOO_MANY_CONNECTIONS"}]}`, l.max)
	_ = c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	_, _ = fmt.Fprintf(c, "HTTP/1.1 429 Too Many Requests\r\nConnection: close\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
	_ = c.Close()
}

func remoteIP(c *net.TCPConn) netip.Addr {
	if a, ok := c.RemoteAddr().(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			return ip.Unmap()
		}
	}
	return netip.Addr{}
}

// tcpConn is a counted TCP connection: Close gives its slot back once.
type tcpConn struct {
	*net.TCPConn
	release func()
	closed  atomic.Bool
}

func (c *tcpConn) Close() error {
	if c.closed.CompareAndSwap(false, true) {
		c.release()
	}
	return c.TCPConn.Close()
}

// clientGone reports whether the client of c has closed its side of the connection (or
// reset it) while its request waited: a look at the socket that reads nothing. Like
// net/http, which cancels a request whose connection reads EOF, a client that half-closes
// after sending its request counts as gone. False when it cannot tell (not TCP, a
// platform without the check, bytes of a next request waiting).
func clientGone(c net.Conn) bool {
	tc, ok := c.(*tcpConn)
	return ok && peerClosed(tc.TCPConn)
}
