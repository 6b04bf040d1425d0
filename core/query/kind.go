package query

// Kind is what the schema says a filterable path holds.
type Kind int

// The kinds a Schema may return.
const (
	KindString Kind = iota + 1
	KindInteger
	KindFloat
	KindBool
	KindDate
	KindJSON
)

// String returns the kind's name as used in error messages: "string", "integer", "float",
// "boolean", "date", "json".
func (k Kind) String() string {
	switch k {
	case KindString:
		return "string"
	case KindInteger:
		return "integer"
	case KindFloat:
		return "float"
	case KindBool:
		return "boolean"
	case KindDate:
		return "date"
	case KindJSON:
		return "json"
	}
	return "unknown kind"
}

func (k Kind) valid() bool { return k >= KindString && k <= KindJSON }

// Schema resolves a (possibly dotted) field path, e.g. "title", "categoryId", "category.name",
// "createdBy.email". It returns the kind of the final field, or an error naming the path when
// the path is unknown, goes through a to-many association, and so on. core implements it for a
// collection.
type Schema interface {
	Resolve(path string) (Kind, error)
}
