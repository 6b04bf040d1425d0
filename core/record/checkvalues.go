package record

// TypeValues is the type check of prepareValues without its required check, defaults,
// password hashing and foreign keys. An operator value ({"$inc": n}) is checked as
// prepareValues checks it and kept as sent.
func TypeValues(c *Collection, values map[string]any, create bool) (map[string]any, error) {
	out := make(map[string]any, len(values))
	for k, v := range values {
		f, ok := c.Field(k)
		if !ok {
			return nil, fieldErrorf(k, "unknown field of %s", c.Name)
		}
		if f.System {
			out[k] = v
			continue
		}
		if m, isObj := v.(map[string]any); isObj && f.Type != TypeJSON && hasOperator(m) {
			if _, err := prepareOperator(f, m, create); err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			out[k] = v
			continue
		}
		switch f.Type {
		case TypeBelongsTo:
			if _, _, err := associationID(v); err != nil {
				return nil, fieldErrorf(k, "%v", err)
			}
			out[k] = v
			continue
		case TypeHasOne, TypeHasMany:
			return nil, fieldErrorf(k, "%s association %q cannot be set from %s; write the %s records instead", f.Type, k, c.Name, f.Target)
		}
		cv, err := coerceValue(f, v)
		if err != nil {
			return nil, fieldErrorf(k, "%v", err)
		}
		out[k] = cv
	}
	return out, nil
}
