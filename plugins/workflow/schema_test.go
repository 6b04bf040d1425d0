package workflow_test

import (
	"testing"
	"time"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// TestSystemSchemasAreFixed: the collections the engine defines keep their fields, for
// root and admin alike (API.md §3).
func TestSystemSchemasAreFixed(t *testing.T) {
	s := coretest.New(t, core.Config{}, core.WithPlugins(workflow.New(workflow.Config{Workers: 1, SweepInterval: time.Hour})))
	admin := s.User("adm@x.io", "admin")
	for _, coll := range []string{workflow.WorkflowsCollection, workflow.ExecutionsCollection} {
		for _, who := range []struct{ name, token string }{{"root", s.Root}, {"admin", admin}} {
			t.Run(who.name+" on "+coll, func(t *testing.T) {
				s.Post("/api/collections/"+coll+"/fields:create", who.token, map[string]any{"name": "extra", "type": "string"}).Must(t, 403)
				s.Post("/api/collections/"+coll+"/fields:destroy?filterByTk=title", who.token, nil).Must(t, 403)
				s.Post("/api/collections:update?filterByTk="+coll, who.token, map[string]any{"title": "x"}).Must(t, 403)
			})
		}
	}
}
