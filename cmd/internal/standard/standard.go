// Package standard is the set of plugins an actionflow server runs, shared by the
// actionflow binary and its load benchmark so that both serve the same product.
package standard

import (
	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// Plugins returns the workflow engine and every trigger plugin: pre-action interception,
// post-action, collection events and custom actions.
func Plugins(cfg workflow.Config) []core.Plugin {
	wf := workflow.New(cfg)
	return []core.Plugin{wf, interceptor.New(wf), actiontrigger.New(wf), collectiontrigger.New(wf), customaction.New(wf)}
}
