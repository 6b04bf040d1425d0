package workflow

import (
	"errors"
	"strings"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/query"
	"github.com/actionflow/actionflow/runtime"
	lua "github.com/yuin/gopher-lua"
)

// luaFilter turns a Lua filter table into a filter of collection c, with the same rules
// as the HTTP API's filter parameter.
func luaFilter(c *core.Collection, st *runState, t *lua.LTable) (*query.Node, error) {
	v, err := runtime.FromLua(t)
	if err != nil {
		return nil, err
	}
	if a, ok := v.([]any); ok && len(a) == 0 {
		return nil, nil
	}
	return query.ParseFilterValue(v, st.engine.data.QuerySchema(c))
}

// luaListQuery reads db.list's options: filter, sort ("-a,b" or {"-a","b"}), page,
// pageSize (default 20, at most 1000) and appends.
func luaListQuery(c *core.Collection, st *runState, t *lua.LTable) (core.ListQuery, []string, error) {
	var q core.ListQuery
	if f, ok := t.RawGetString("filter").(*lua.LTable); ok {
		n, err := luaFilter(c, st, f)
		if err != nil {
			return q, nil, err
		}
		q.Filter = n
	}
	sortVals, err := luaStrings(t.RawGetString("sort"))
	if err != nil {
		return q, nil, errors.New("sort: " + err.Error())
	}
	if q.Sort, err = query.ParseSort(sortVals, st.engine.data.QuerySchema(c)); err != nil {
		return q, nil, err
	}
	page := lua.LVAsString(t.RawGetString("page"))
	size := lua.LVAsString(t.RawGetString("pageSize"))
	if q.Page, err = query.ParsePage(page, size, core.MaxPageSize); err != nil {
		return q, nil, err
	}
	appendVals, err := luaStrings(t.RawGetString("appends"))
	if err != nil {
		return q, nil, errors.New("appends: " + err.Error())
	}
	appends, err := query.ParseList("appends", appendVals)
	return q, appends, err
}

// luaStrings reads nil, a string or a list of strings.
func luaStrings(v lua.LValue) ([]string, error) {
	switch x := v.(type) {
	case *lua.LNilType:
		return nil, nil
	case lua.LString:
		return strings.Split(string(x), ","), nil
	case *lua.LTable:
		var out []string
		var bad bool
		x.ForEach(func(_, e lua.LValue) {
			s, ok := e.(lua.LString)
			if !ok {
				bad = true
				return
			}
			out = append(out, string(s))
		})
		if bad {
			return nil, errors.New("expected strings")
		}
		return out, nil
	}
	return nil, errors.New("expected a string or a list of strings")
}
