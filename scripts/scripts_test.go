package scripts_test

import (
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/yuin/gopher-lua/parse"

	"github.com/actionflow/actionflow/scripts"
)

func TestLookup(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"strings", true},
		{"nope", false},
		{"", false},
		{"../scripts", false},
		{"lua/strings", false},
		{"strings.lua", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			src, ok := scripts.Lookup(tc.name)
			if ok != tc.ok || (ok && !strings.Contains(src, "function M.split")) {
				t.Fatalf("Lookup(%q) = %v", tc.name, ok)
			}
		})
	}
	if got := scripts.Names(); !reflect.DeepEqual(got, []string{"strings"}) {
		t.Fatalf("Names() = %v", got)
	}
}

// TestSourcesParse checks that every shipped Lua file, the type stubs
// included, is valid Lua.
func TestSourcesParse(t *testing.T) {
	files := map[string]string{}
	for _, n := range scripts.Names() {
		src, _ := scripts.Lookup(n)
		files["lua/"+n+".lua"] = src
	}
	stub, err := os.ReadFile("types/actionflow.lua")
	if err != nil {
		t.Fatal(err)
	}
	files["types/actionflow.lua"] = string(stub)
	for name, src := range files {
		t.Run(name, func(t *testing.T) {
			if _, err := parse.Parse(strings.NewReader(src), name); err != nil {
				t.Fatal(err)
			}
		})
	}
	for _, want := range []string{"ctx", "flow", "db", "json", "log", "time", "crypto", "env", "http"} {
		if !strings.Contains(string(stub), "actionflow."+want) && !strings.Contains(string(stub), "\n"+want+" = ") {
			t.Errorf("type stubs do not describe %s", want)
		}
	}
}
