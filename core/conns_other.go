//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package core

import "net"

// peerClosed cannot tell on this platform.
func peerClosed(*net.TCPConn) bool { return false }
