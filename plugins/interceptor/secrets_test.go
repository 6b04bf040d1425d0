package interceptor_test

import (
	"strings"
	"testing"
)

// TestSecretsNotRecorded: the script sees a password or hidden value of the request, the
// execution (read by admin over HTTP) does not hold it.
func TestSecretsNotRecorded(t *testing.T) {
	e := newEnv(t)
	e.Collection(`{"name":"vaults","fields":[{"name":"label","type":"string"},{"name":"pin","type":"password"},{"name":"code","type":"string","hidden":true}]}`)
	e.workflow("seen", `if ctx.params.values.pin ~= "pin-s3cret" or ctx.params.values.code ~= "code-s3cret" then flow.fail("values not seen") end`,
		map[string]any{"collection": "vaults"})
	for _, tc := range []struct {
		name, path string
		body       map[string]any
	}{
		{"create", "/api/vaults:create?triggerWorkflows=seen", map[string]any{"label": "a", "pin": "pin-s3cret", "code": "code-s3cret"}},
		{"update", "/api/vaults:update?filterByTk=1&triggerWorkflows=seen", map[string]any{"pin": "pin-s3cret", "code": "code-s3cret"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.Post(tc.path, e.Root, tc.body).Must(t, 200) // the script saw the values
			admin := e.User("admin-"+tc.name+"@x.io", "admin")
			list := e.Get("/api/executions:list?pageSize=1000", admin).Must(t, 200)
			if strings.Contains(list.Raw, "s3cret") {
				t.Fatalf("executions:list shows a secret: %s", list.Raw)
			}
			for _, x := range list.List(t) {
				get := e.Get("/api/executions:get?filterByTk="+x["id"].(interface{ String() string }).String(), admin).Must(t, 200)
				if strings.Contains(get.Raw, "s3cret") {
					t.Fatalf("executions:get shows a secret: %s", get.Raw)
				}
			}
		})
	}
}
