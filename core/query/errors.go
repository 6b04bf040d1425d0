package query

import (
	"encoding/json"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// Error is a bad-input error: it names the request parameter that was wrong ("filter", "sort",
// "page", "pageSize", or the parameter given to ParseList and ParseBracket) and says what was
// wrong with it. The HTTP layer turns it into a 400.
type Error struct {
	Param   string
	Message string
}

// Error returns "<param>: <message>", e.g. `filter: unknown operator "$foo" at "title"`.
func (e *Error) Error() string {
	if e.Param == "" {
		return e.Message
	}
	return e.Param + ": " + e.Message
}

func errorf(param, format string, args ...any) *Error {
	return &Error{Param: param, Message: fmt.Sprintf(format, args...)}
}

// maxQuoted bounds how much of a client-supplied string is repeated in an error message.
const maxQuoted = 64

// quote returns s as a Go-quoted string, cut to maxQuoted bytes (at a rune boundary) so that a
// huge input does not produce a huge message.
func quote(s string) string {
	if len(s) <= maxQuoted {
		return strconv.Quote(s)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}

// describe names a decoded value for an error message: `"abc"`, `5.5`, `true`, `null`,
// `an object`, `an array`.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quote(x)
	case bool:
		return strconv.FormatBool(x)
	case map[string]any:
		return "an object"
	case []any, []string:
		return "an array"
	case json.Number:
		if len(x) > maxQuoted {
			return quote(string(x))
		}
		return string(x)
	}
	if n, ok := toNum(v); ok {
		if n.isInt {
			return strconv.FormatInt(n.i, 10)
		}
		return strconv.FormatFloat(n.f, 'g', -1, 64)
	}
	return fmt.Sprintf("a value of type %T", v)
}
