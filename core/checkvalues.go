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
