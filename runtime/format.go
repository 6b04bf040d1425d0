package runtime

import (
	"fmt"
	"math"
	"strings"

	lua "github.com/yuin/gopher-lua"
)

// format is string.format, ported from Lua 5.1: flags "-+ #0", width and
// precision of at most two digits each, conversions c d i o u x X e E f g G q s.
// gopher-lua hands the format string to Go's fmt, which accepts widths up to
// 1e6 ("%999999d" repeated builds gigabytes in one call) and Go-only verbs
// (%v %T %p); this version refuses both and caps the result at MaxStringBytes.
// %s uses tostring semantics (__tostring is honoured).
func (w *worker) format(L *lua.LState) int {
	maxStr := w.e.cfg.MaxStringBytes
	f := L.CheckString(1)
	top := L.GetTop()
	arg := 1
	var b strings.Builder
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			L.RaiseError("%s", "invalid option '%' to 'format'")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		arg++
		start := i
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		if i-start > 5 {
			L.RaiseError("invalid format (repeated flags)")
		}
		flags := f[start:i]
		ws := i
		for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
			i++
		}
		width := f[ws:i]
		spec := "%" + flags + width
		hasPrec := false
		if i < len(f) && f[i] == '.' {
			hasPrec = true
			ps := i
			i++
			for k := 0; k < 2 && i < len(f) && isDigit(f[i]); k++ {
				i++
			}
			spec += f[ps:i]
		}
		if i < len(f) && isDigit(f[i]) {
			L.RaiseError("invalid format (width or precision too long)")
		}
		if i >= len(f) {
			L.RaiseError("%s", "invalid option '%' to 'format'")
		}
		conv := f[i]
		if arg > top && conv != '%' {
			L.ArgError(arg, "no value")
		}
		switch conv {
		case 'c':
			fmt.Fprintf(&b, spec+"s", string([]byte{byte(int64(L.CheckNumber(arg)))}))
		case 'd', 'i':
			fmt.Fprintf(&b, spec+"d", toInt64(L.CheckNumber(arg)))
		case 'o', 'u', 'x', 'X':
			verb := string(conv)
			if conv == 'u' {
				verb = "d"
			}
			fmt.Fprintf(&b, spec+verb, uint64(toInt64(L.CheckNumber(arg))))
		case 'e', 'E', 'f', 'g', 'G':
			x := float64(L.CheckNumber(arg))
			if math.IsInf(x, 0) || math.IsNaN(x) {
				s := "inf"
				switch {
				case math.IsNaN(x):
					s = "nan"
				case x < 0:
					s = "-inf"
				}
				if conv == 'E' || conv == 'G' {
					s = strings.ToUpper(s)
				}
				pad := "%"
				if strings.Contains(flags, "-") {
					pad += "-"
				}
				fmt.Fprintf(&b, pad+width+"s", s)
				break
			}
			if !hasPrec && (conv == 'g' || conv == 'G') {
				spec += ".6"
			}
			fmt.Fprintf(&b, spec+string(conv), x)
		case 'q':
			addQuoted(&b, L.CheckString(arg))
		case 's':
			v := L.Get(arg)
			var s string
			if lua.LVCanConvToString(v) {
				s = lua.LVAsString(v)
			} else {
				s = L.ToStringMeta(v).String()
			}
			if !hasPrec && len(s) >= 100 {
				b.WriteString(s)
			} else {
				fmt.Fprintf(&b, spec+"s", s)
			}
		default:
			L.RaiseError("invalid option '%%%c' to 'format'", conv)
		}
		if b.Len() > maxStr {
			w.current(L).RaiseLimit(L, "string.format: result larger than %d bytes", maxStr)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// toInt64 truncates like a C cast, saturating instead of overflowing.
func toInt64(n lua.LNumber) int64 {
	f := float64(n)
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 9223372036854775807:
		return math.MaxInt64
	case f <= -9223372036854775808:
		return math.MinInt64
	}
	return int64(f)
}

func addQuoted(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"', '\\', '\n':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\r':
			b.WriteString("\\r")
		case 0:
			b.WriteString("\\000")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
}
