package core_test

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/actionflow/actionflow"

// layer ranks the top-level folders: a package may import its own layer or a lower one
// (cmd, examples → plugins → core → runtime → store; scripts is a leaf anyone may use).
func layer(pkg string) (int, bool) {
	top, _, _ := strings.Cut(pkg, "/")
	switch top {
	case "cmd", "examples":
		return 5, true
	case "plugins":
		return 4, true
	case "core":
		return 3, true
	case "runtime":
		return 2, true
	case "store":
		return 1, true
	case "scripts":
		return 0, true
	}
	return 0, false
}

// TestImportsPointDown fails when an import points up the house, or when a plugin imports
// another plugin than the workflow engine (its tests may).
func TestImportsPointDown(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		from, ok := layer(rel)
		if !ok {
			t.Errorf("%s: package outside the house's folders", rel)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			dep, ok := strings.CutPrefix(p, module+"/")
			if !ok {
				continue
			}
			checked++
			to, known := layer(dep)
			if !known {
				t.Errorf("%s imports %s, outside the house", path, dep)
				continue
			}
			if to > from {
				t.Errorf("%s (%s) imports %s: imports must point down (cmd, examples → plugins → core → runtime → store)", filepath.Base(path), rel, dep)
			}
			if msg, ok := coreImportAllowed(rel, dep); !ok {
				t.Errorf("%s (%s) imports %s: %s", filepath.Base(path), rel, dep, msg)
			}
			// Tests of a plugin may assemble it with others, as an app would.
			if from == 4 && to == 4 && !strings.HasSuffix(path, "_test.go") {
				if msg, ok := pluginImportAllowed(rel, dep); !ok {
					t.Errorf("%s imports plugin %s: %s", rel, dep, msg)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Fatal("no internal imports found: the walk is broken")
	}
}

// pluginImportAllowed is the rule between plugins: plugins/standard assembles the product
// and may import every plugin; any other plugin may import only plugins/workflow (and its
// own subpackages), never plugins/standard.
func pluginImportAllowed(from, to string) (string, bool) {
	mine := strings.Split(from, "/")
	theirs := strings.Split(to, "/")
	if len(mine) < 2 || len(theirs) < 2 || mine[1] == theirs[1] {
		return "", true
	}
	if mine[1] == "standard" {
		return "", true
	}
	if theirs[1] != "workflow" {
		return "a plugin may import only plugins/workflow (plugins/standard assembles them)", false
	}
	return "", true
}

// coreBelow ranks the packages under core that core builds on: each may import only those
// of a lower rank (core → core/record → core/query → core/value), never core itself.
func coreBelow(pkg string) (int, bool) {
	switch pkg {
	case "core/record":
		return 3, true
	case "core/query":
		return 2, true
	case "core/value":
		return 1, true
	}
	return 0, false
}

// coreImportAllowed is the rule inside core: the record layer and the leaf packages under it
// never import core (or anything else under it but the packages below them).
func coreImportAllowed(from, to string) (string, bool) {
	mine, ok := coreBelow(from)
	if !ok || from == to {
		return "", true
	}
	if top, _, _ := strings.Cut(to, "/"); top != "core" {
		return "", true
	}
	if theirs, ok := coreBelow(to); ok && theirs < mine {
		return "", true
	}
	return "core/record, core/query and core/value import only the ones below them (core → core/record → core/query → core/value)", false
}

func TestCoreImports(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{"core", "core/record", true},
		{"core/coretest", "core", true},
		{"core/record", "core/value", true},
		{"core/record", "core/query", true},
		{"core/record", "store", true},
		{"core/query", "core/value", true},
		{"core/record", "core", false},
		{"core/record", "core/coretest", false},
		{"core/query", "core/record", false},
		{"core/value", "core/query", false},
		{"core/value", "core", false},
	}
	for _, tc := range tests {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			if _, ok := coreImportAllowed(tc.from, tc.to); ok != tc.ok {
				t.Fatalf("allowed = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestPluginImports(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{"plugins/standard", "plugins/actiontrigger", true},
		{"plugins/standard/workflowfiles", "plugins/workflow", true},
		{"plugins/actiontrigger", "plugins/workflow", true},
		{"plugins/workflow/workflowtest", "plugins/workflow", true},
		{"plugins/actiontrigger", "plugins/interceptor", false},
		{"plugins/actiontrigger", "plugins/standard", false},
		{"plugins/workflow", "plugins/standard/workflowfiles", false},
	}
	for _, tc := range tests {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			if _, ok := pluginImportAllowed(tc.from, tc.to); ok != tc.ok {
				t.Fatalf("allowed = %v, want %v", ok, tc.ok)
			}
		})
	}
}

func TestLayerOrder(t *testing.T) {
	tests := []struct {
		from, to string
		ok       bool
	}{
		{"cmd/actionflow", "plugins/workflow", true},
		{"plugins/workflow", "core", true},
		{"core", "runtime", true},
		{"runtime", "store", true},
		{"store", "core", false},
		{"runtime", "plugins/workflow", false},
		{"core", "cmd/actionflow", false},
	}
	for _, tc := range tests {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			a, _ := layer(tc.from)
			b, _ := layer(tc.to)
			if (b <= a) != tc.ok {
				t.Fatalf("layer(%s)=%d layer(%s)=%d", tc.from, a, tc.to, b)
			}
		})
	}
}
