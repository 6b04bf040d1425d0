package runtime

import (
	"fmt"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// Lua pattern matching (string.find, match, gmatch, gsub), ported from Lua
// 5.1's lstrlib.c, with two additions that gopher-lua's matcher (pm) lacks:
//
//   - a step budget: one call may take at most patternBudget(len(subject))
//     matcher steps (1<<20 + 32 per subject byte); past it the call raises
//     "pattern too complex" (Result.Err wraps ErrLimit);
//   - a context check every 1024 steps, so a run's deadline interrupts a
//     long match.
//
// Lua patterns backtrack: ("a"):rep(2000):find(".-.-b$") needs ~1e9 steps
// and string.rep("a",1e6):find(".-.-.-b$") ~1e17; both now stop within the
// budget (milliseconds), while ordinary patterns over a 1 MiB subject stay far
// below it. The recursion depth of one match is capped at 200 (as in Lua
// 5.2+), which bounds patterns with many quantifiers or captures.

const (
	maxCaptures   = 32
	capUnfinished = -1
	capPosition   = -2
	maxMatchDepth = 200
	specials      = "^$*+?.([%-"
)

func patternBudget(n int) int { return 1<<20 + 32*n }

type capture struct{ init, len int }

type matchState struct {
	L       *lua.LState
	w       *worker
	src     string
	pat     string
	level   int
	capture [maxCaptures]capture
	depth   int
	steps   int
	budget  int
	done    <-chan struct{}
}

func (w *worker) newMatch(L *lua.LState, src, pat string) *matchState {
	return &matchState{L: L, w: w, src: src, pat: pat, budget: patternBudget(len(src)), done: w.current(L).ctx.Done()}
}

func (ms *matchState) step() {
	ms.steps++
	if ms.steps&1023 != 0 {
		return
	}
	if ms.steps > ms.budget {
		ms.w.current(ms.L).RaiseLimit(ms.L, "pattern too complex (more than %d matching steps)", ms.budget)
	}
	select {
	case <-ms.done:
		ms.L.RaiseError("pattern matching interrupted")
	default:
	}
}

func (ms *matchState) raise(format string, args ...any) {
	ms.L.RaiseError("%s", fmt.Sprintf(format, args...))
}

func (ms *matchState) reset() {
	ms.level = 0
	ms.depth = 0
}

// match returns the end of the match of pat[p:] at src[s:], or -1.
func (ms *matchState) match(s, p int) int {
	ms.depth++
	if ms.depth > maxMatchDepth {
		ms.w.current(ms.L).RaiseLimit(ms.L, "pattern too complex (nesting deeper than %d)", maxMatchDepth)
	}
	r := ms.doMatch(s, p)
	ms.depth--
	return r
}

func (ms *matchState) doMatch(s, p int) int {
	src, pat := ms.src, ms.pat
	for {
		ms.step()
		if p == len(pat) {
			return s
		}
		switch pat[p] {
		case '(':
			if p+1 < len(pat) && pat[p+1] == ')' {
				return ms.startCapture(s, p+2, capPosition)
			}
			return ms.startCapture(s, p+1, capUnfinished)
		case ')':
			return ms.endCapture(s, p+1)
		case '$':
			if p+1 == len(pat) {
				if s == len(src) {
					return s
				}
				return -1
			}
		case '%':
			if p+1 < len(pat) {
				switch c := pat[p+1]; {
				case c == 'b':
					s = ms.matchBalance(s, p+2)
					if s == -1 {
						return -1
					}
					p += 4
					continue
				case c == 'f':
					p += 2
					if p >= len(pat) || pat[p] != '[' {
						ms.raise("missing '[' after '%%f' in pattern")
					}
					ep := ms.classEnd(p)
					var prev, cur byte
					if s > 0 {
						prev = src[s-1]
					}
					if s < len(src) {
						cur = src[s]
					}
					if matchBracketClass(prev, pat, p, ep-1) || !matchBracketClass(cur, pat, p, ep-1) {
						return -1
					}
					p = ep
					continue
				case isDigit(c):
					s = ms.matchCapture(s, c)
					if s == -1 {
						return -1
					}
					p += 2
					continue
				}
			}
		}
		// A single-char class, possibly followed by a quantifier.
		ep := ms.classEnd(p)
		m := s < len(src) && singleMatch(src[s], pat, p, ep)
		if ep < len(pat) {
			switch pat[ep] {
			case '?':
				if m {
					if res := ms.match(s+1, ep+1); res != -1 {
						return res
					}
				}
				p = ep + 1
				continue
			case '*':
				return ms.maxExpand(s, p, ep)
			case '+':
				if m {
					return ms.maxExpand(s+1, p, ep)
				}
				return -1
			case '-':
				return ms.minExpand(s, p, ep)
			}
		}
		if !m {
			return -1
		}
		s++
		p = ep
	}
}

func (ms *matchState) maxExpand(s, p, ep int) int {
	i := 0
	for s+i < len(ms.src) && singleMatch(ms.src[s+i], ms.pat, p, ep) {
		ms.step()
		i++
	}
	for ; i >= 0; i-- {
		if res := ms.match(s+i, ep+1); res != -1 {
			return res
		}
	}
	return -1
}

func (ms *matchState) minExpand(s, p, ep int) int {
	for {
		if res := ms.match(s, ep+1); res != -1 {
			return res
		}
		if s < len(ms.src) && singleMatch(ms.src[s], ms.pat, p, ep) {
			s++
		} else {
			return -1
		}
	}
}

func (ms *matchState) startCapture(s, p, what int) int {
	if ms.level >= maxCaptures {
		ms.raise("too many captures")
	}
	ms.capture[ms.level] = capture{init: s, len: what}
	ms.level++
	res := ms.match(s, p)
	if res == -1 {
		ms.level--
	}
	return res
}

func (ms *matchState) endCapture(s, p int) int {
	l := -1
	for i := ms.level - 1; i >= 0; i-- {
		if ms.capture[i].len == capUnfinished {
			l = i
			break
		}
	}
	if l < 0 {
		ms.raise("invalid pattern capture")
	}
	ms.capture[l].len = s - ms.capture[l].init
	res := ms.match(s, p)
	if res == -1 {
		ms.capture[l].len = capUnfinished
	}
	return res
}

func (ms *matchState) matchCapture(s int, c byte) int {
	l := int(c) - '1'
	if l < 0 || l >= ms.level || ms.capture[l].len == capUnfinished {
		ms.raise("invalid capture index")
	}
	cp := ms.capture[l]
	if cp.len < 0 {
		return -1
	}
	if len(ms.src)-s >= cp.len && ms.src[cp.init:cp.init+cp.len] == ms.src[s:s+cp.len] {
		return s + cp.len
	}
	return -1
}

func (ms *matchState) matchBalance(s, p int) int {
	if p+1 >= len(ms.pat) {
		ms.raise("unbalanced pattern")
	}
	if s >= len(ms.src) || ms.src[s] != ms.pat[p] {
		return -1
	}
	b, e := ms.pat[p], ms.pat[p+1]
	cont := 1
	for s++; s < len(ms.src); s++ {
		ms.step()
		switch ms.src[s] {
		case e:
			cont--
			if cont == 0 {
				return s + 1
			}
		case b:
			cont++
		}
	}
	return -1
}

// classEnd returns the index just after the single-char class at pat[p].
func (ms *matchState) classEnd(p int) int {
	pat := ms.pat
	c := pat[p]
	p++
	switch c {
	case '%':
		if p >= len(pat) {
			ms.raise("malformed pattern (ends with '%%')")
		}
		return p + 1
	case '[':
		if p < len(pat) && pat[p] == '^' {
			p++
		}
		for {
			if p >= len(pat) {
				ms.raise("malformed pattern (missing ']')")
			}
			c := pat[p]
			p++
			if c == '%' && p < len(pat) {
				p++
			}
			if p >= len(pat) {
				ms.raise("malformed pattern (missing ']')")
			}
			if pat[p] == ']' {
				return p + 1
			}
		}
	}
	return p
}

func singleMatch(c byte, pat string, p, ep int) bool {
	switch pat[p] {
	case '.':
		return true
	case '%':
		return matchClass(c, pat[p+1])
	case '[':
		return matchBracketClass(c, pat, p, ep-1)
	default:
		return pat[p] == c
	}
}

// matchBracketClass matches c against the set pat[p:ec+1] ('[' ... ']').
func matchBracketClass(c byte, pat string, p, ec int) bool {
	sig := true
	if pat[p+1] == '^' {
		sig = false
		p++
	}
	for p++; p < ec; p++ {
		switch {
		case pat[p] == '%':
			p++
			if matchClass(c, pat[p]) {
				return sig
			}
		case pat[p+1] == '-' && p+2 < ec:
			p += 2
			if pat[p-2] <= c && c <= pat[p] {
				return sig
			}
		case pat[p] == c:
			return sig
		}
	}
	return !sig
}

func matchClass(c, cl byte) bool {
	var res bool
	switch cl | 0x20 {
	case 'a':
		res = isAlpha(c)
	case 'c':
		res = c < 32 || c == 127
	case 'd':
		res = isDigit(c)
	case 'l':
		res = c >= 'a' && c <= 'z'
	case 'p':
		res = isPunct(c)
	case 's':
		res = c == ' ' || (c >= '\t' && c <= '\r')
	case 'u':
		res = c >= 'A' && c <= 'Z'
	case 'w':
		res = isAlpha(c) || isDigit(c)
	case 'x':
		res = isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'f')
	case 'z':
		res = c == 0
	default:
		return cl == c
	}
	if cl >= 'A' && cl <= 'Z' {
		return !res
	}
	return res
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isAlpha(c byte) bool { return (c|0x20) >= 'a' && (c|0x20) <= 'z' }
func isPunct(c byte) bool {
	return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)
}

// getCapture returns capture i of the match src[s:e].
func (ms *matchState) getCapture(i, s, e int) lua.LValue {
	if i >= ms.level {
		if i == 0 {
			return lua.LString(ms.src[s:e])
		}
		ms.raise("invalid capture index")
	}
	cp := ms.capture[i]
	switch cp.len {
	case capUnfinished:
		ms.raise("unfinished capture")
	case capPosition:
		return lua.LNumber(cp.init + 1)
	}
	return lua.LString(ms.src[cp.init : cp.init+cp.len])
}

// pushCaptures pushes the captures (or the whole match when there are none
// and whole is true) and returns how many were pushed.
func (ms *matchState) pushCaptures(s, e int, whole bool) int {
	n := ms.level
	if n == 0 && whole {
		n = 1
	}
	for i := 0; i < n; i++ {
		ms.L.Push(ms.getCapture(i, s, e))
	}
	return n
}

func posrelat(pos, n int) int {
	if pos < 0 {
		pos += n + 1
	}
	if pos < 0 {
		return 0
	}
	return pos
}

func (w *worker) strFind(L *lua.LState) int  { return w.findAux(L, true) }
func (w *worker) strMatch(L *lua.LState) int { return w.findAux(L, false) }

func (w *worker) findAux(L *lua.LState, find bool) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	init := posrelat(L.OptInt(3, 1), len(s)) - 1
	if init < 0 {
		init = 0
	} else if init > len(s) {
		init = len(s)
	}
	if find && (L.ToBool(4) || !strings.ContainsAny(p, specials)) {
		if i := strings.Index(s[init:], p); i >= 0 {
			L.Push(lua.LNumber(init + i + 1))
			L.Push(lua.LNumber(init + i + len(p)))
			return 2
		}
		L.Push(lua.LNil)
		return 1
	}
	ms := w.newMatch(L, s, p)
	pstart := 0
	anchor := len(p) > 0 && p[0] == '^'
	if anchor {
		pstart = 1
	}
	for s1 := init; ; s1++ {
		ms.reset()
		if e := ms.match(s1, pstart); e != -1 {
			if find {
				L.Push(lua.LNumber(s1 + 1))
				L.Push(lua.LNumber(e))
				return ms.pushCaptures(-1, -1, false) + 2
			}
			return ms.pushCaptures(s1, e, true)
		}
		if anchor || s1 >= len(s) {
			break
		}
	}
	L.Push(lua.LNil)
	return 1
}

func (w *worker) strGmatch(L *lua.LState) int {
	s := L.CheckString(1)
	p := L.CheckString(2)
	pos := 0
	L.Push(L.NewFunction(func(L *lua.LState) int {
		ms := w.newMatch(L, s, p)
		for src := pos; src <= len(s); src++ {
			ms.reset()
			if e := ms.match(src, 0); e != -1 {
				pos = e
				if e == src {
					pos++
				}
				return ms.pushCaptures(src, e, true)
			}
		}
		pos = len(s) + 1
		return 0
	}))
	return 1
}

func (w *worker) strGsub(L *lua.LState) int {
	maxStr := w.e.cfg.MaxStringBytes
	src := L.CheckString(1)
	p := L.CheckString(2)
	repl := L.Get(3)
	switch repl.Type() {
	case lua.LTNumber, lua.LTString, lua.LTFunction, lua.LTTable:
	default:
		L.ArgError(3, "string/function/table expected")
	}
	maxN := L.OptInt(4, len(src)+1)
	ms := w.newMatch(L, src, p)
	pstart := 0
	anchor := len(p) > 0 && p[0] == '^'
	if anchor {
		pstart = 1
	}
	var b strings.Builder
	n, s := 0, 0
loop:
	for n < maxN {
		ms.reset()
		e := ms.match(s, pstart)
		if e != -1 {
			n++
			ms.addValue(&b, s, e, repl)
		}
		switch {
		case e != -1 && e > s:
			s = e
		case s < len(src):
			b.WriteByte(src[s])
			s++
		default:
			break loop
		}
		if b.Len() > maxStr {
			w.current(L).RaiseLimit(L, "string.gsub: result larger than %d bytes", maxStr)
		}
		if anchor {
			break
		}
	}
	if b.Len()+len(src)-s > maxStr {
		w.current(L).RaiseLimit(L, "string.gsub: result larger than %d bytes", maxStr)
	}
	b.WriteString(src[s:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(n))
	return 2
}

func (ms *matchState) addValue(b *strings.Builder, s, e int, repl lua.LValue) {
	L := ms.L
	var v lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		news := lua.LVAsString(r)
		for i := 0; i < len(news); i++ {
			c := news[i]
			if c != '%' {
				b.WriteByte(c)
				continue
			}
			i++
			if i >= len(news) {
				ms.raise("invalid use of '%%' in replacement string")
			}
			c = news[i]
			switch {
			case !isDigit(c):
				b.WriteByte(c)
			case c == '0':
				b.WriteString(ms.src[s:e])
			default:
				b.WriteString(lua.LVAsString(ms.getCapture(int(c-'1'), s, e)))
			}
		}
		return
	case *lua.LFunction:
		L.Push(r)
		n := ms.pushCaptures(s, e, true)
		L.Call(n, 1)
		v = L.Get(-1)
		L.Pop(1)
	case *lua.LTable:
		v = L.GetTable(r, ms.getCapture(0, s, e))
	}
	switch {
	case !lua.LVAsBool(v):
		b.WriteString(ms.src[s:e])
	case lua.LVCanConvToString(v):
		b.WriteString(lua.LVAsString(v))
	default:
		ms.raise("invalid replacement value (a %s)", v.Type())
	}
}
