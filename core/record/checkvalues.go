package record

// checked is one client value as checkValue found it.
type checked struct {
	f     *Field
	value any  // coerced; for an operator its prepared form (an increment)
	op    bool // an operator value ({"$inc": n})
	id    any  // a belongsTo's record id, when set
	set   bool // the belongsTo value names a record (else it clears the association)
}

// checkValue checks the value v of field k of c for a create or an update: the field must
// exist; a system field is not checked (the caller ignores or keeps it); an operator must
// fit the field; a belongsTo must name a record id; a hasOne or hasMany cannot be set;
// any other value is coerced to the field's type. Errors name the field.
func checkValue(c *Collection, k string, v any, create bool) (checked, error) {
	f, ok := c.Field(k)
	if !ok {
		return checked{}, fieldErrorf(k, "unknown field of %s", c.Name)
	}
	r := checked{f: f}
	if f.System {
		return r, nil
	}
	if m, isObj := v.(map[string]any); isObj && f.Type != TypeJSON && hasOperator(m) {
		op, err := prepareOperator(f, m, create)
		if err != nil {
			return r, fieldErrorf(k, "%v", err)
		}
		r.value, r.op = op, true
		return r, nil
	}
	switch f.Type {
	case TypeBelongsTo:
		id, set, err := associationID(v)
		if err != nil {
			return r, fieldErrorf(k, "%v", err)
		}
		r.id, r.set = id, set
		return r, nil
	case TypeHasOne, TypeHasMany:
		return r, fieldErrorf(k, "%s association %q cannot be set from %s; write the %s records instead", f.Type, k, c.Name, f.Target)
	}
	cv, err := coerceValue(f, v)
	if err != nil {
		return r, fieldErrorf(k, "%v", err)
	}
	r.value = cv
	return r, nil
}

// TypeValues is the type check of prepareValues without its required check, defaults,
// password hashing and foreign keys. System fields, operator values ({"$inc": n}) and
// belongsTo values are checked as prepareValues checks them and kept as sent.
func TypeValues(c *Collection, values map[string]any, create bool) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for k, v := range values {
		r, err := checkValue(c, k, v, create)
		if err != nil {
			return nil, err
		}
		if r.f.System || r.op || r.f.Type == TypeBelongsTo {
			out[k] = v
			continue
		}
		out[k] = r.value
	}
	return out, nil
}
