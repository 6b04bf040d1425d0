// Package value holds the helpers every layer needs for the values of the data API: record
// ids (from path segments, JSON numbers, strings, lists "1,2"), JSON values in their stored
// form (normalise, clone, equal) and truncated text for messages. It is a leaf: it imports
// the standard library only, so core, core/query, plugins/workflow and the trigger plugins
// share one implementation of each.
package value

// MaxSafeInt is the largest integer a JSON client (a JavaScript number) holds exactly: the
// largest record id and integer field value.
const MaxSafeInt = 1<<53 - 1

// MaxDepth is how deep a JSON value in stored form may nest.
const MaxDepth = 32

// Truncate shortens s to at most n bytes followed by "…"; s is returned as is when it fits.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return Clip(s, n) + "…"
}

// Clip is s cut to at most n bytes, without a mark.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
