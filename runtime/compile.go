package runtime

import (
	"container/list"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

const (
	// maxNesting is the deepest bracket/block nesting accepted before parsing.
	maxNesting = 200
	// cacheSize bounds the compiled-script cache.
	cacheSize = 1024
	// concatFunc is the hidden base function that every `..` is compiled into,
	// so that concatenation results are capped like string.rep.
	concatFunc = "__actionflow_concat"
	// maxConcatArgs bounds the operands of one concatFunc call (registers).
	maxConcatArgs = 48
)

// Script is a compiled script. It holds a *lua.FunctionProto shared by every
// run and every pooled state; it is immutable and safe for concurrent use.
type Script struct {
	name  string
	hash  [sha256.Size]byte
	proto *lua.FunctionProto
	lines int
}

// Name returns the name the script was compiled with (used in error messages).
func (s *Script) Name() string { return s.name }

// Hash returns the hex sha256 of the script's source.
func (s *Script) Hash() string { return fmt.Sprintf("%x", s.hash) }

// scriptCache is an LRU of compiled scripts keyed by sha256(name, source).
type scriptCache struct {
	mu    sync.Mutex
	max   int
	ll    *list.List
	items map[[sha256.Size]byte]*list.Element
}

func newScriptCache(max int) *scriptCache {
	return &scriptCache{max: max, ll: list.New(), items: make(map[[sha256.Size]byte]*list.Element)}
}

func (c *scriptCache) get(key [sha256.Size]byte) *Script {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return el.Value.(*Script)
	}
	return nil
}

func (c *scriptCache) put(key [sha256.Size]byte, s *Script) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.ll.MoveToFront(el)
		return
	}
	c.items[key] = c.ll.PushFront(s)
	for c.ll.Len() > c.max {
		el := c.ll.Back()
		c.ll.Remove(el)
		delete(c.items, el.Value.(*Script).hash)
	}
}

func (c *scriptCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}

// Compile compiles source once and caches the result (LRU of 1024 entries,
// keyed by the sha256 of the name and the source: the name is baked into the
// compiled code for error messages). Errors are *CompileError; oversized or too
// deeply nested source also wraps ErrLimit.
func (e *Engine) Compile(name, source string) (*Script, error) {
	key := scriptKey(name, source)
	if s := e.cache.get(key); s != nil {
		return s, nil
	}
	proto, err := compileSource(name, source, e.cfg.MaxSourceBytes)
	if err != nil {
		return nil, err
	}
	s := &Script{name: name, hash: key, proto: proto, lines: strings.Count(source, "\n") + 1}
	e.cache.put(key, s)
	return s, nil
}

func scriptKey(name, source string) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%d:%s\x00", len(name), name)
	h.Write([]byte(source))
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// compileSource checks size and nesting, parses, rewrites concatenations and
// compiles. It never panics.
func compileSource(name, source string, maxBytes int) (proto *lua.FunctionProto, err error) {
	if maxBytes > 0 && len(source) > maxBytes {
		return nil, &CompileError{Name: name, Message: fmt.Sprintf("source is %d bytes, more than the %d allowed", len(source), maxBytes), Err: ErrLimit}
	}
	if line, depth := nestingDepth(source, maxNesting); depth > maxNesting {
		return nil, &CompileError{Name: name, Line: line, Message: fmt.Sprintf("nesting deeper than %d levels", maxNesting), Err: ErrLimit}
	}
	defer func() {
		if rcv := recover(); rcv != nil {
			proto = nil
			err = &CompileError{Name: name, Message: fmt.Sprintf("compiler failure: %v", rcv)}
		}
	}()
	chunk, err := parse.Parse(strings.NewReader(source), name)
	if err != nil {
		return nil, parseError(name, source, err)
	}
	rewriteBlock(chunk)
	proto, err = lua.Compile(chunk, name)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, &CompileError{Name: name, Line: ce.Line, Message: ce.Message}
		}
		return nil, &CompileError{Name: name, Message: err.Error()}
	}
	// The main chunk is a vararg function; in Lua 5.0 compatibility mode
	// gopher-lua builds an `arg` table for every call of it, although the
	// main chunk has no local named arg to read it. Skip that allocation.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	return proto, nil
}

func parseError(name, source string, err error) error {
	var pe *parse.Error
	if !errors.As(err, &pe) {
		return &CompileError{Name: name, Message: strings.TrimSpace(err.Error())}
	}
	line := pe.Pos.Line
	msg := strings.TrimSpace(pe.Message)
	if line == parse.EOF {
		line = strings.Count(source, "\n") + 1
		msg += " at end of source"
	} else if pe.Token != "" {
		msg = fmt.Sprintf("%s near '%s'", msg, pe.Token)
	}
	return &CompileError{Name: name, Line: line, Message: msg}
}

// nestingDepth scans Lua source and returns the maximum nesting depth of
// brackets ( { [ and blocks (function, if, do, repeat), stopping at the first
// point deeper than limit, with the line where that happened. Strings and
// comments are skipped. It is a cheap guard in front of the recursive compiler
// (deep nesting overflows the goroutine stack and kills the process); it does
// not validate syntax.
func nestingDepth(src string, limit int) (line, max int) {
	line = 1
	depth := 0
	n := len(src)
	for i := 0; i < n; {
		c := src[i]
		switch {
		case c == '\n':
			line++
			i++
		case c == '-' && i+1 < n && src[i+1] == '-':
			i += 2
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &line)
				continue
			}
			for i < n && src[i] != '\n' {
				i++
			}
		case c == '"' || c == '\'':
			i++
			for i < n && src[i] != c {
				if src[i] == '\\' && i+1 < n {
					i++
				}
				if src[i] == '\n' {
					line++
				}
				i++
			}
			i++
		case c == '[':
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &line)
				continue
			}
			depth++
			i++
		case c == '(' || c == '{':
			depth++
			i++
		case c == ')' || c == '}' || c == ']':
			if depth > 0 {
				depth--
			}
			i++
		case isIdentStart(c):
			j := i + 1
			for j < n && isIdentChar(src[j]) {
				j++
			}
			switch src[i:j] {
			case "function", "if", "do", "repeat":
				depth++
			case "end", "until":
				if depth > 0 {
					depth--
				}
			}
			i = j
		default:
			i++
		}
		if depth > max {
			max = depth
			if max > limit {
				return line, max
			}
		}
	}
	return line, max
}

// longBracket reports whether src[i:] starts a long bracket [[ or [==[ and its level.
func longBracket(src string, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

// skipLong skips a long string/comment starting at src[i] ('[') of the given
// level and returns the index after its closing bracket (or len(src)).
func skipLong(src string, i, level int, line *int) int {
	closing := "]" + strings.Repeat("=", level) + "]"
	start := i + level + 2
	end := strings.Index(src[start:], closing)
	if end < 0 {
		*line += strings.Count(src[start:], "\n")
		return len(src)
	}
	*line += strings.Count(src[start:start+end], "\n")
	return start + end + len(closing)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdentChar(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// The rewrite replaces every a..b..c chain by __actionflow_concat(a, b, c), a
// Go function that caps the result at Config.MaxStringBytes. gopher-lua's
// CONCAT instruction has no hook, and one instruction can otherwise build a
// string of any size (s..s..s.. with a large s) faster than the memory
// watchdog can react.

func rewriteBlock(stmts []ast.Stmt) {
	for _, s := range stmts {
		rewriteStmt(s)
	}
}

func rewriteStmt(s ast.Stmt) {
	switch st := s.(type) {
	case *ast.AssignStmt:
		rewriteExprs(st.Lhs)
		rewriteExprs(st.Rhs)
	case *ast.LocalAssignStmt:
		rewriteExprs(st.Exprs)
	case *ast.FuncCallStmt:
		st.Expr = rewriteExpr(st.Expr)
	case *ast.DoBlockStmt:
		rewriteBlock(st.Stmts)
	case *ast.WhileStmt:
		st.Condition = rewriteExpr(st.Condition)
		rewriteBlock(st.Stmts)
	case *ast.RepeatStmt:
		st.Condition = rewriteExpr(st.Condition)
		rewriteBlock(st.Stmts)
	case *ast.IfStmt:
		st.Condition = rewriteExpr(st.Condition)
		rewriteBlock(st.Then)
		rewriteBlock(st.Else)
	case *ast.NumberForStmt:
		st.Init = rewriteExpr(st.Init)
		st.Limit = rewriteExpr(st.Limit)
		st.Step = rewriteExpr(st.Step)
		rewriteBlock(st.Stmts)
	case *ast.GenericForStmt:
		rewriteExprs(st.Exprs)
		rewriteBlock(st.Stmts)
	case *ast.FuncDefStmt:
		if st.Name != nil {
			st.Name.Func = rewriteExpr(st.Name.Func)
			st.Name.Receiver = rewriteExpr(st.Name.Receiver)
		}
		if st.Func != nil {
			rewriteBlock(st.Func.Stmts)
		}
	case *ast.ReturnStmt:
		rewriteExprs(st.Exprs)
	}
}

func rewriteExprs(es []ast.Expr) {
	for i, e := range es {
		es[i] = rewriteExpr(e)
	}
}

func rewriteExpr(e ast.Expr) ast.Expr {
	switch ex := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		// a .. (b .. (c .. d)) is one right-associative chain: flatten it.
		var ops []ast.Expr
		var cur ast.Expr = ex
		for {
			c, ok := cur.(*ast.StringConcatOpExpr)
			if !ok {
				ops = append(ops, rewriteExpr(cur))
				break
			}
			ops = append(ops, rewriteExpr(c.Lhs))
			cur = c.Rhs
		}
		return concatCall(ops, ex.Line(), ex.LastLine())
	case *ast.AttrGetExpr:
		ex.Object = rewriteExpr(ex.Object)
		ex.Key = rewriteExpr(ex.Key)
	case *ast.TableExpr:
		for _, f := range ex.Fields {
			f.Key = rewriteExpr(f.Key)
			f.Value = rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		ex.Func = rewriteExpr(ex.Func)
		ex.Receiver = rewriteExpr(ex.Receiver)
		rewriteExprs(ex.Args)
	case *ast.LogicalOpExpr:
		ex.Lhs = rewriteExpr(ex.Lhs)
		ex.Rhs = rewriteExpr(ex.Rhs)
	case *ast.RelationalOpExpr:
		ex.Lhs = rewriteExpr(ex.Lhs)
		ex.Rhs = rewriteExpr(ex.Rhs)
	case *ast.ArithmeticOpExpr:
		ex.Lhs = rewriteExpr(ex.Lhs)
		ex.Rhs = rewriteExpr(ex.Rhs)
	case *ast.UnaryMinusOpExpr:
		ex.Expr = rewriteExpr(ex.Expr)
	case *ast.UnaryNotOpExpr:
		ex.Expr = rewriteExpr(ex.Expr)
	case *ast.UnaryLenOpExpr:
		ex.Expr = rewriteExpr(ex.Expr)
	case *ast.FunctionExpr:
		rewriteBlock(ex.Stmts)
	}
	return e
}

// concatCall builds __actionflow_concat(ops...), nesting calls when there are
// more operands than one call can take. The innermost call takes the tail, so
// evaluation order and right-to-left metamethod pairing are kept.
func concatCall(ops []ast.Expr, line, lastLine int) ast.Expr {
	if len(ops) > maxConcatArgs {
		tail := concatCall(ops[maxConcatArgs-1:], line, lastLine)
		ops = append(ops[:maxConcatArgs-1:maxConcatArgs-1], tail)
	}
	fn := &ast.IdentExpr{Value: concatFunc}
	fn.SetLine(line)
	fn.SetLastLine(lastLine)
	call := &ast.FuncCallExpr{Func: fn, Args: ops, AdjustRet: true}
	call.SetLine(line)
	call.SetLastLine(lastLine)
	return call
}
