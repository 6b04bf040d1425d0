package offline

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/actiontrigger"
	"github.com/actionflow/actionflow/plugins/collectiontrigger"
	"github.com/actionflow/actionflow/plugins/customaction"
	"github.com/actionflow/actionflow/plugins/interceptor"
	"github.com/actionflow/actionflow/plugins/workflow"
)

// stdPlugins is the standard plugin set (plugins/standard cannot be imported here).
func stdPlugins() []core.Plugin {
	wf := workflow.New(workflow.Config{Workers: 1})
	return []core.Plugin{wf, interceptor.New(wf), actiontrigger.New(wf), collectiontrigger.New(wf), customaction.New(wf)}
}

// writeFile writes name under dir and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// luaRunJSON runs "lua run" and decodes its output.
func luaRunJSON(t *testing.T, args ...string) (code int, rep map[string]any, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = LuaCommand(append([]string{"run"}, args...), &out, &errb, stdPlugins)
	if out.Len() > 0 {
		dec := json.NewDecoder(&out)
		dec.UseNumber()
		if err := dec.Decode(&rep); err != nil {
			t.Fatalf("output %q: %v", out.String(), err)
		}
	}
	return code, rep, errb.String()
}
