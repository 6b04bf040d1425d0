package core

// CheckValues type-checks the values of a create or update of ac.Collection, for a
// before-action hook that hands them to code (a pre-action workflow): the body must be a
// JSON object, and every value must belong to a field of the collection and have its type
// (400 naming the field otherwise). Required fields are not checked: the hook may fill
// them, and the action checks them as it always does.
//
// On success ac.Params.Values holds a copy of the values in checked form: numbers of
// integer and float fields as int64 and float64, dates as stored (TimeFormat, UTC), JSON
// values normalised. Passwords stay as sent (they are hashed by the write), belongsTo
// values and echoed system fields as sent (the write reads or ignores them). The action
// checks the values again, so the form must stay one it accepts.
func (ac *ActionContext) CheckValues() error {
	if err := requireObject(ac); err != nil {
		return err
	}
	out, err := typeValues(ac.Collection, ac.Params.Values, ac.Action == "create")
	if err != nil {
		return err
	}
	ac.Params.Values = out
	return nil
}

// typeValues is the type check of prepareValues without its required check, defaults,
// password hashing and foreign keys. An operator value ({"$inc": n}) is checked as
// prepareValues checks it and kept as sent.
func typeValues(c *Collection, values map[string]any, create bool) (map[string]any, error) {
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
