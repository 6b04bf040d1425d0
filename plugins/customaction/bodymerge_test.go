package customaction_test

import (
	"fmt"
	"strings"
	"testing"
)

// TestBodyMerge: the body merged over the record never overrides its system fields, and
// password or hidden values in it reach a sync script but not the recorded execution.
func TestBodyMerge(t *testing.T) {
	e := newEnv(t)
	e.Collection(`{"name":"vaults","fields":[{"name":"label","type":"string"},{"name":"pin","type":"password"},{"name":"code","type":"string","hidden":true}]}`)
	v := e.Post("/api/vaults:create", e.Root, map[string]any{"label": "v"}).Must(t, 200).Obj(t)
	id := fmt.Sprint(v["id"])
	sysKey := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "vaults"},
		"script": `flow.message(tostring(ctx.data.id) .. "/" .. tostring(ctx.data.createdById) .. "/" .. tostring(ctx.data.label))`})
	secret := e.Workflow(map[string]any{"sync": true, "config": map[string]any{"collection": "vaults"},
		"script": `if ctx.data.pin ~= "pin-s3cret" or ctx.data.code ~= "code-s3cret" then flow.fail("not seen") end`})
	for _, tc := range []struct {
		name, key string
		body      map[string]any
		want      string
	}{
		{"system fields are not merged", sysKey, map[string]any{"id": 999, "createdById": 999, "createdAt": "x", "label": "from body"}, "1/1/from body"},
		{"other fields are", sysKey, map[string]any{"label": "again"}, "1/1/again"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.Post("/api/vaults:trigger?filterByTk="+id+"&triggerWorkflows="+tc.key, e.Root, tc.body).Must(t, 200)
			if got := strings.Join(messages(r), ","); got != tc.want {
				t.Fatalf("ctx.data read %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("secrets reach the script, not the execution", func(t *testing.T) {
		e.Post("/api/vaults:trigger?filterByTk="+id+"&triggerWorkflows="+secret, e.Root,
			map[string]any{"pin": "pin-s3cret", "code": "code-s3cret"}).Must(t, 200)
		list := e.Get("/api/executions:list?pageSize=1000", e.Root).Must(t, 200)
		if strings.Contains(list.Raw, "s3cret") {
			t.Fatalf("an execution holds a secret: %s", list.Raw)
		}
	})
}
