// Package query decodes and evaluates the query part of data-API requests (API.md §1–2):
// filter, sort, page and pageSize, list parameters such as appends and fields, and the
// bracket notation of query strings (filter[views][$gt]=5).
//
// It knows nothing about collections: field paths are resolved through a Schema that core
// implements, and records are read through a Getter. Every function is safe for any input:
// bad input is an *Error naming the parameter (Param) and what is wrong with it, never a panic.
//
// # Filters
//
// A filter is a JSON object, e.g.
//
//	{
//	  "status": "published",
//	  "views": {"$gte": 10, "$lt": 100},
//	  "category": {"name": "news"},
//	  "$or": [
//	    {"title": {"$includes": "go"}},
//	    {"createdBy.email": {"$endsWith": "@example.com"}}
//	  ]
//	}
//
// which ParseFilter compiles into a tree of Nodes:
//
//	$and
//	  ├─ $or
//	  │    ├─ title $includes "go"
//	  │    └─ createdBy.email $endsWith "@example.com"
//	  ├─ category.name $eq "news"
//	  ├─ status $eq "published"
//	  ├─ views $gte 10
//	  └─ views $lt 100
//
// The forms accepted are:
//
//   - Operators $eq $ne $gt $gte $lt $lte $in $notIn $includes $notIncludes $startsWith
//     $endsWith $empty $notEmpty, given in an object under a field: {"views": {"$gt": 5}}.
//     Several operators in one object all apply.
//   - A bare value means $eq: {"title": "hello"}. A bare array means $in, {"id": [1, 2]}, as in
//     sequelize, except on a json field, where it is $eq with that array.
//   - An object with several keys means $and of them; $and and $or take an array of such
//     objects, and may also appear under a field or a nesting prefix:
//     {"category": {"$or": [{"name": "a"}, {"name": "b"}]}}.
//   - Dotted paths reach to-one associations: {"category.name": "news"}. A key whose object
//     value holds no "$" key is a nesting prefix: {"category": {"name": "news"}} is the path
//     "category.name". (To compare a whole json field with an object, use
//     {"meta": {"$eq": {...}}}.)
//   - Empty objects put no condition: "{}", {"title": {}} and {"$and": []} match everything,
//     and so does an $or that has an empty element; {"$or": []} matches nothing.
//   - The operand of $empty/$notEmpty is ignored (NocoBase sends true), except that false,
//     "false", 0 and "0" are refused rather than read as true.
//
// Operands are coerced to the kind of the field when the filter is parsed (see Node):
//
//   - string fields take strings only; a JSON number is refused.
//   - integer fields take integers, integral numbers (5.0) and strings that parse as either
//     ("5", from filter[views]=5); 5.5, "abc" and out-of-range numbers are refused.
//   - float fields take numbers and numeric strings (not NaN or infinities).
//   - boolean fields take true/false and the strings strconv.ParseBool accepts ("true", "1").
//   - date fields take RFC 3339 strings, the same without a zone (UTC, "T" or space) or a bare
//     date "2024-01-31" (midnight UTC); they become time.Time in UTC.
//   - json fields take any JSON value; numbers become int64 (or float64 when not integral).
//     Strings are not converted, so on a json field "5" does not equal 5.
//   - null is allowed with $eq, $ne, $in and $notIn (and $includes on json fields), where it
//     matches a missing or null field; objects and arrays are refused where a scalar is due.
//
// Limits: MaxFilterDepth levels of nesting, MaxFilterNodes nodes, MaxInValues values per $in.
//
// Node.Match evaluates a filter against one record; $eq and ordering are case-sensitive,
// while $includes, $startsWith and $endsWith ignore case, as NocoBase's iLike does. Node.Paths lists the fields a filter reads,
// and Node.IndexableEq with Node.Without let a caller answer part of a filter with an index.
// A compiled Node is never modified by this package, so one filter may be matched from many
// goroutines at once.
//
// # Sort, pages and lists
//
// ParseSort reads "-createdAt,title" and Compare orders records by it. ParsePage reads page
// and pageSize (defaults 1 and 20), and Page gives the offset and the page count. ParseList
// reads appends=a,b or appends[]=a&appends[]=b. ParseBracket turns filter[views][$gt]=5 into
// {"views": {"$gt": "5"}}, ready for ParseFilterValue.
package query
