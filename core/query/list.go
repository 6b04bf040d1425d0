package query

import "strings"

// MaxListItems is how many items ParseList accepts.
const MaxListItems = 32

// ParseList decodes a list parameter such as appends or fields, given as a comma list, repeated,
// or both: appends=a,b, appends=a&appends=b, appends[]=a&appends[]=b (the caller passes the
// values of "appends" and "appends[]" together). Spaces around items and empty items are
// dropped, and repeated items kept once, in their first position. Each item must be a dotted
// path of identifiers, [A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*; there may be at most
// MaxListItems. Errors are *Error with Param param. No items gives nil.
func ParseList(param string, values []string) ([]string, error) {
	var out []string
	for _, v := range values {
		for rest := v; rest != ""; {
			var item string
			item, rest, _ = strings.Cut(rest, ",")
			item = strings.TrimSpace(item)
			if item == "" {
				continue
			}
			if !isIdentPath(item) {
				return nil, errorf(param, "invalid item %s: want a field path like \"createdBy\" or \"post.category\"", quote(item))
			}
			if containsString(out, item) {
				continue
			}
			if len(out) == MaxListItems {
				return nil, errorf(param, "too many items (max %d)", MaxListItems)
			}
			out = append(out, item)
		}
	}
	return out, nil
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// isIdentPath matches [A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*.
func isIdentPath(s string) bool {
	start := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z':
			start = false
		case c >= '0' && c <= '9':
			if start {
				return false
			}
		case c == '.':
			if start {
				return false
			}
			start = true
		default:
			return false
		}
	}
	return !start
}
