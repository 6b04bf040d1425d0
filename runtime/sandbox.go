package runtime

import (
	"math"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	lua "github.com/yuin/gopher-lua"
)

// maxResults caps the values one unpack or string.byte call returns.
const maxResults = 8000

// Options of every pooled state (tech.md §1.2).
func stateOptions() lua.Options {
	return lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       200,
		RegistrySize:        1024,
		RegistryMaxSize:     64 << 10,
		RegistryGrowStep:    256,
		MinimizeStackMemory: true,
	}
}

// keptBase lists the base functions kept from gopher-lua's base library.
// Everything else (dofile loadfile load loadstring require module
// collectgarbage getfenv setfenv print _printregs newproxy _G) is left out;
// print is replaced by one that writes to the run's logs.
func keptBase() []string {
	return []string{
		"assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall", "rawequal",
		"rawget", "rawset", "select", "tonumber", "tostring", "type", "unpack", "xpcall", "_VERSION",
	}
}

// baseGlobalNames lists every global name the base table defines.
func baseGlobalNames() []string {
	return append(keptBase(), "setmetatable", "require", "print", "string", "table", "math", "_G", concatFunc)
}

// worker owns one pooled LState. Only the goroutine holding the worker (taken
// from Engine.pool) touches it, except cur, which the watchdog reads.
type worker struct {
	e *Engine
	L *lua.LState

	envMT *lua.LTable    // metatable of every run env: __index = base, protected
	errfn *lua.LFunction // PCall error handler: records the user's line
	snaps []tableSnap    // library tables as built, compared before reuse
	strMT lua.LValue     // the string metatable as built

	run   *Run                // current run (owner goroutine only)
	cur   atomic.Pointer[Run] // current run, for the watchdog, Close and the timer
	timer *time.Timer         // deadline timer, reset for every run

	idleSince time.Time // when it last went back to its pool (pool.mu)
}

func newWorker(e *Engine) *worker {
	w := &worker{e: e}
	w.timer = time.AfterFunc(time.Hour, w.onDeadline)
	w.timer.Stop()
	return w
}

// onDeadline runs when the worker's timer fires.
func (w *worker) onDeadline() {
	if r := w.cur.Load(); r != nil {
		r.ctx.expire()
	}
}

// build creates the sandboxed state.
func (w *worker) build() {
	L := lua.NewState(stateOptions())
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	maxStr := w.e.cfg.MaxStringBytes

	// Fresh tables hold exactly what scripts may see (no deleted keys, so the
	// snapshot below sees every later insertion).
	base := L.CreateTable(0, 32)
	for _, k := range keptBase() {
		base.RawSetString(k, g.RawGetString(k))
	}
	origSetMT := g.RawGetString("setmetatable").(*lua.LFunction)
	base.RawSetString("setmetatable", L.NewFunction(func(L *lua.LState) int {
		if L.Get(1).Type() != lua.LTTable {
			L.ArgError(1, "table expected")
		}
		return origSetMT.GFunction(L)
	}))
	base.RawSetString("require", L.NewFunction(func(L *lua.LState) int {
		name := L.CheckString(1)
		L.Push(w.current(L).require(L, name))
		return 1
	}))
	base.RawSetString(concatFunc, L.NewFunction(w.concat))
	// gopher-lua's error(msg, level) is off by one for level >= 2 (it names
	// the function that called error instead of its caller).
	base.RawSetString("error", L.NewFunction(func(L *lua.LState) int {
		obj := L.CheckAny(1)
		level := L.OptInt(2, 1)
		if level >= 2 {
			level++
		}
		L.Error(obj, level)
		return 0
	}))
	// unpack and string.byte push one value per element: cap them like Lua's
	// C stack check (LUAI_MAXCSTACK) instead of letting the registry grow.
	origUnpack := g.RawGetString("unpack").(*lua.LFunction)
	base.RawSetString("unpack", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		i := float64(L.OptNumber(2, 1))
		j := float64(L.OptNumber(3, lua.LNumber(t.Len())))
		if j-i >= maxResults {
			L.RaiseError("too many results to unpack")
		}
		return origUnpack.GFunction(L)
	}))

	// print writes one "info" line to the run's logs: its arguments through
	// tostring, separated by tabs, as Lua's print does on stdout.
	base.RawSetString("print", L.NewFunction(func(L *lua.LState) int {
		n := L.GetTop()
		parts := make([]string, n)
		for i := 1; i <= n; i++ {
			parts[i-1] = L.ToStringMeta(L.Get(i)).String()
		}
		w.current(L).Log("info", strings.Join(parts, "\t"))
		return 0
	}))

	strlib := copyTable(L, g.RawGetString("string").(*lua.LTable), "dump", "gfind", "gmatch", "__index")
	strlib.RawSetString("rep", L.NewFunction(func(L *lua.LState) int {
		s := L.CheckString(1)
		n := float64(L.CheckNumber(2))
		if !(n >= 1) || len(s) == 0 { // also NaN
			L.Push(lua.LString(""))
			return 1
		}
		if float64(len(s))*math.Floor(n) > float64(maxStr) {
			w.current(L).RaiseLimit(L, "string.rep: result larger than %d bytes", maxStr)
		}
		L.Push(lua.LString(strings.Repeat(s, int(n))))
		return 1
	}))
	strlib.RawSetString("format", L.NewFunction(w.format))
	origByte := strlib.RawGetString("byte").(*lua.LFunction)
	strlib.RawSetString("byte", L.NewFunction(func(L *lua.LState) int {
		n := len(L.CheckString(1))
		i := posrelat(L.OptInt(2, 1), n)
		j := posrelat(L.OptInt(3, i), n)
		if j-i >= maxResults {
			L.RaiseError("string slice too long")
		}
		return origByte.GFunction(L)
	}))
	strlib.RawSetString("find", L.NewFunction(w.strFind))
	strlib.RawSetString("match", L.NewFunction(w.strMatch))
	strlib.RawSetString("gmatch", L.NewFunction(w.strGmatch))
	strlib.RawSetString("gsub", L.NewFunction(w.strGsub))

	tablib := copyTable(L, g.RawGetString("table").(*lua.LTable))
	tablib.RawSetString("concat", L.NewFunction(w.tableConcat))
	mathlib := copyTable(L, g.RawGetString("math").(*lua.LTable))

	base.RawSetString("string", strlib)
	base.RawSetString("table", tablib)
	base.RawSetString("math", mathlib)

	// Strings index the string library; the metatable itself is protected, so
	// getmetatable("") returns "locked" and setmetatable cannot replace it.
	strMT := L.CreateTable(0, 2)
	strMT.RawSetString("__index", strlib)
	strMT.RawSetString("__metatable", lua.LString("locked"))
	L.SetMetatable(lua.LString(""), strMT)

	// Global lookups that miss the base table end here: "_G" is the run's
	// env, Global modules are opened on first use and cached in the env.
	baseMT := L.CreateTable(0, 1)
	baseMT.RawSetString("__index", L.NewFunction(w.lazyGlobal))
	base.Metatable = baseMT

	envMT := L.CreateTable(0, 2)
	envMT.RawSetString("__index", base)
	envMT.RawSetString("__metatable", lua.LString("locked"))

	// Scrub the real global table too (it is not reachable from scripts).
	for _, k := range []string{"dofile", "loadfile", "load", "loadstring", "require", "module", "collectgarbage",
		"getfenv", "setfenv", "print", "_printregs", "newproxy", "_G", "string", "table", "math"} {
		g.RawSetString(k, lua.LNil)
	}

	Null(L)
	arrayMT := arrayMetatable(L)

	w.L = L
	w.envMT = envMT
	w.strMT = strMT
	w.errfn = L.NewFunction(w.onError)
	w.snaps = []tableSnap{
		snapshot(base), snapshot(strlib), snapshot(tablib), snapshot(mathlib), snapshot(arrayMT),
	}
}

// copyTable returns a fresh table with t's string-keyed entries minus skip,
// inserted in sorted key order.
func copyTable(L *lua.LState, t *lua.LTable, skip ...string) *lua.LTable {
	var keys []string
	t.ForEach(func(k, _ lua.LValue) {
		if s, ok := k.(lua.LString); ok {
			for _, sk := range skip {
				if string(s) == sk {
					return
				}
			}
			keys = append(keys, string(s))
		}
	})
	sort.Strings(keys)
	out := L.CreateTable(0, len(keys)+4)
	for _, k := range keys {
		out.RawSetString(k, t.RawGetString(k))
	}
	return out
}

// discard closes the state; the next run on this worker builds a new one.
func (w *worker) discard() {
	if w.L != nil {
		w.L.Close()
	}
	w.L = nil
	w.envMT, w.errfn, w.snaps, w.strMT = nil, nil, nil, nil
}

// current returns the run in progress on this worker.
func (w *worker) current(L *lua.LState) *Run {
	r := w.run
	if r == nil {
		L.RaiseError("no run in progress")
	}
	return r
}

// onError is the PCall error handler: it records the line of the user's
// script where the error happened, and passes the error value through.
func (w *worker) onError(L *lua.LState) int {
	if r := w.run; r != nil {
		r.errLine = min(userLine(L, r.script.name), r.script.lines)
	}
	return 1
}

// userLine returns the current line of the innermost stack frame that runs
// code of the user's script (chunk name name), or 0.
func userLine(L *lua.LState, name string) int {
	for level := 0; level < 512; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			return 0
		}
		if _, err := L.GetInfo("Sl", dbg, lua.LNil); err != nil {
			continue
		}
		if dbg.Source == name && dbg.CurrentLine > 0 {
			return dbg.CurrentLine
		}
	}
	return 0
}

// lazyGlobal is the __index of the base table.
func (w *worker) lazyGlobal(L *lua.LState) int {
	key, ok := L.Get(2).(lua.LString)
	r := w.run
	if !ok || r == nil {
		L.Push(lua.LNil)
		return 1
	}
	if key == "_G" {
		r.env.RawSetString("_G", r.env)
		L.Push(r.env)
		return 1
	}
	if m, ok := w.e.modules[string(key)]; ok && m.Global {
		v := r.require(L, string(key))
		r.env.RawSetString(string(key), v)
		L.Push(v)
		return 1
	}
	L.Push(lua.LNil)
	return 1
}

// concat implements a..b..c (see compile.go): like the CONCAT instruction,
// with the result capped at MaxStringBytes.
func (w *worker) concat(L *lua.LState) int {
	maxStr := w.e.cfg.MaxStringBytes
	n := L.GetTop()
	total, plain := 0, true
	for i := 1; i <= n; i++ {
		switch v := L.Get(i).(type) {
		case lua.LString:
			total += len(v)
		case lua.LNumber:
			total += len(v.String())
		default:
			plain = false
		}
	}
	if plain {
		if total > maxStr {
			w.current(L).RaiseLimit(L, "string concatenation: result larger than %d bytes", maxStr)
		}
		var b strings.Builder
		b.Grow(total)
		for i := 1; i <= n; i++ {
			b.WriteString(lua.LVAsString(L.Get(i)))
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
	rhs := L.Get(n)
	for i := n - 1; i >= 1; i-- {
		lhs := L.Get(i)
		if lua.LVCanConvToString(lhs) && lua.LVCanConvToString(rhs) {
			ls, rs := lua.LVAsString(lhs), lua.LVAsString(rhs)
			if len(ls)+len(rs) > maxStr {
				w.current(L).RaiseLimit(L, "string concatenation: result larger than %d bytes", maxStr)
			}
			rhs = lua.LString(ls + rs)
			continue
		}
		mm := L.GetMetaField(lhs, "__concat")
		if mm == lua.LNil {
			mm = L.GetMetaField(rhs, "__concat")
		}
		if mm.Type() != lua.LTFunction {
			L.RaiseError("cannot perform concat operation between %v and %v", lhs.Type(), rhs.Type())
		}
		L.Push(mm)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		rhs = L.Get(-1)
		L.Pop(1)
	}
	L.Push(rhs)
	return 1
}

// tableConcat is table.concat with the result capped at MaxStringBytes.
func (w *worker) tableConcat(L *lua.LState) int {
	maxStr := w.e.cfg.MaxStringBytes
	tbl := L.CheckTable(1)
	sep := L.OptString(2, "")
	n := tbl.Len()
	i := L.OptInt(3, 1)
	j := L.OptInt(4, n)
	if i < 1 {
		i = 1
	}
	if j > n {
		j = n
	}
	if i > j {
		L.Push(lua.LString(""))
		return 1
	}
	total := 0
	for k := i; k <= j; k++ {
		v := tbl.RawGetInt(k)
		if !lua.LVCanConvToString(v) {
			L.RaiseError("invalid value (%s) at index %d in table for concat", v.Type(), k)
		}
		total += len(lua.LVAsString(v))
		if k < j {
			total += len(sep)
		}
		if total > maxStr {
			w.current(L).RaiseLimit(L, "table.concat: result larger than %d bytes", maxStr)
		}
	}
	var b strings.Builder
	b.Grow(total)
	for k := i; k <= j; k++ {
		b.WriteString(lua.LVAsString(tbl.RawGetInt(k)))
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// tableSnap records a library table as built. A table only ever appends
// keys to its insertion-order key list, so "values unchanged, first key
// unchanged (no array part appeared), nothing live after the last key, same
// metatable" means the table is exactly as built.
type tableSnap struct {
	t       *lua.LTable
	mt      lua.LValue
	first   lua.LValue
	last    lua.LValue
	entries []snapEntry
}

type snapEntry struct {
	k string
	v lua.LValue
}

func snapshot(t *lua.LTable) tableSnap {
	s := tableSnap{t: t, mt: t.Metatable, first: lua.LNil, last: lua.LNil}
	for k, v := t.Next(lua.LNil); k != lua.LNil; k, v = t.Next(k) {
		if s.first == lua.LNil {
			s.first = k
		}
		s.last = k
		s.entries = append(s.entries, snapEntry{k: string(k.(lua.LString)), v: v})
	}
	return s
}

func (s *tableSnap) intact() bool {
	t := s.t
	if t.Metatable != s.mt {
		return false
	}
	for _, e := range s.entries {
		if t.RawGetString(e.k) != e.v {
			return false
		}
	}
	if k, _ := t.Next(lua.LNil); k != s.first {
		return false
	}
	if s.last != lua.LNil {
		if k, _ := t.Next(s.last); k != lua.LNil {
			return false
		}
	}
	return true
}

// intact is the taint check run before a state goes back to the pool.
func (w *worker) intact() bool {
	if w.L == nil {
		return false
	}
	for i := range w.snaps {
		if !w.snaps[i].intact() {
			return false
		}
	}
	L := w.L
	return L.GetMetatable(lua.LString("")) == lua.LString("locked") &&
		L.GetMetaField(lua.LString(""), "__index") == w.snaps[1].t &&
		L.G.Registry.RawGetString(registryArrayKey) == w.snaps[4].t &&
		L.GetMetatable(lua.LNumber(0)) == lua.LNil &&
		L.GetMetatable(lua.LTrue) == lua.LNil &&
		L.GetMetatable(lua.LNil) == lua.LNil &&
		L.GetMetatable(w.errfn) == lua.LNil
}
