package standard

import (
	"bytes"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/plugins/workflow"
	"github.com/actionflow/actionflow/runtime"
)

func TestServeHelpAndBadFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		out  string
	}{
		{"no command", nil, 2, "Usage"},
		{"help", []string{"help"}, 0, "actionflow serve"},
		{"unknown command", []string{"fly"}, 2, "unknown command"},
		{"serve help", []string{"serve", "--help"}, 0, "-root-password"},
		{"bad flag", []string{"serve", "--nope"}, 2, "nope"},
		{"bad log level", []string{"serve", "--log-level", "loud"}, 2, "log-level"},
		{"bad log format", []string{"serve", "--log-format", "xml"}, 2, `bad --log-format "xml"`},
		{"serve help lists the operations flags", []string{"serve", "--help"}, 0, "-cors-origins"},
		{"help lists restore", []string{"help"}, 0, "actionflow restore --data DIR FILE"},
		{"value threshold out of range", []string{"serve", "--value-threshold", "300000"}, 1, "value threshold 300000 out of range"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := Run(tc.args, &out, &errb)
			if code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out.String(), errb.String())
			}
			if !strings.Contains(out.String()+errb.String(), tc.out) {
				t.Fatalf("output lacks %q: %s%s", tc.out, out.String(), errb.String())
			}
		})
	}
}

// TestHelpPrintsOnce: every --help prints its usage text once, on stdout, and exits 0
// ("workflows apply --help" used to print it on stderr and again on stdout).
func TestHelpPrintsOnce(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string // in the text
	}{
		{"main", []string{"--help"}, "actionflow serve"},
		{"help command", []string{"help"}, "actionflow version"},
		{"serve", []string{"serve", "--help"}, "-root-password"},
		{"serve -h", []string{"serve", "-h"}, "ACTIONFLOW_ADDR"},
		{"lua", []string{"lua", "--help"}, "lua check FILE"},
		{"lua run", []string{"lua", "run", "--help"}, "lua check FILE"},
		{"workflows", []string{"workflows", "--help"}, "--dry-run"},
		{"workflows apply", []string{"workflows", "apply", "--help"}, "--dry-run"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := Run(tc.args, &out, &errb); code != 0 {
				t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
			}
			if errb.Len() != 0 {
				t.Fatalf("help on stderr: %s", errb.String())
			}
			if n := strings.Count(out.String(), "Usage:"); n != 1 {
				t.Fatalf("usage printed %d times:\n%s", n, out.String())
			}
			if !strings.Contains(out.String(), tc.want) {
				t.Fatalf("help lacks %q:\n%s", tc.want, out.String())
			}
		})
	}
}

func TestVersion(t *testing.T) {
	info := &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Path: "example.com/mine", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-02T03:04:05Z"}, {Key: "vcs.modified", Value: "false"}}}
	tests := []struct {
		name string
		info *debug.BuildInfo
		ok   bool
		want []string
		not  []string
	}{
		{"full", info, true, []string{"actionflow v1.2.3\n", "module    example.com/mine\n", "revision  abc123\n", "time      2026-01-02T03:04:05Z\n", "go        go1.99\n"}, []string{"modified"}},
		{"no vcs", &debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Version: "(devel)"}}, true, []string{"actionflow (devel)\n", "go        go1.99\n"}, []string{"revision"}},
		{"no build info", nil, false, []string{"no build information"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := versionText(tc.info, tc.ok)
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Fatalf("lacks %q:\n%s", w, got)
				}
			}
			for _, w := range tc.not {
				if strings.Contains(got, w) {
					t.Fatalf("has %q:\n%s", w, got)
				}
			}
		})
	}
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out, errb bytes.Buffer
		if code := Run(args, &out, &errb); code != 0 || !strings.HasPrefix(out.String(), "actionflow ") || !strings.Contains(out.String(), "\ngo ") {
			t.Fatalf("%v: exit %d: %s%s", args, code, out.String(), errb.String())
		}
	}
	var out, errb bytes.Buffer
	if code := Run([]string{"version", "now"}, &out, &errb); code != 2 {
		t.Fatalf("version with an argument: exit %d", code)
	}
}

// probePlugin reports, from its Init, what an extra plugin of serve finds: the standard
// plugins initialised before it, and its Lua module registered; then it stops the start.
type probePlugin struct{}

func (probePlugin) Name() string { return "probe" }
func (probePlugin) Init(h *core.Host) error {
	if _, err := h.Data().Collection(workflow.WorkflowsCollection); err != nil {
		return fmt.Errorf("probe: the workflow engine is not there: %w", err)
	}
	if err := h.LuaModule(runtime.Module{Name: "probe", Open: func(L *lua.LState, _ *runtime.Run) lua.LValue { return lua.LTrue }}); err != nil {
		return err
	}
	names := []string{}
	for _, m := range h.Lua().Modules() {
		names = append(names, m.Name)
	}
	return fmt.Errorf("probe: modules %s", strings.Join(names, ","))
}

// TestServeRunsExtraPlugins: serve builds its app with the standard plugins, then the
// extra ones, and the standard Lua modules next to theirs.
func TestServeRunsExtraPlugins(t *testing.T) {
	unsetServeEnv(t)
	var out, errb bytes.Buffer
	code := Run([]string{"serve", "--data", t.TempDir(), "--root-password", "pw", "--addr", badAddr}, &out, &errb, probePlugin{})
	if code != 1 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	for _, want := range []string{"probe: modules ", "crypto", "db", "flow", "json", "probe"} {
		if !strings.Contains(errb.String(), want) {
			t.Fatalf("stderr lacks %q: %s", want, errb.String())
		}
	}
}
