// Package scripts holds the Lua side shipped with actionflow: pure-Lua helper
// modules embedded in the binary (lua/*.lua, reachable from workflows with
// require("<name>")) and editor type stubs for LuaLS (types/actionflow.lua,
// not embedded; point your editor's workspace.library at it).
//
// Modules:
//
//	strings  split, trim, ltrim, rtrim, startswith, endswith, contains, join
//
// Example (in a workflow):
//
//	local strings = require("strings")
//	local parts = strings.split("a, b ,c", ",")   -- {"a", " b ", "c"}
//	return strings.trim(parts[2])                   -- "b"
package scripts

import (
	"embed"
	"io/fs"
	"path"
	"sort"
	"strings"
)

//go:embed lua/*.lua
var files embed.FS

// Lookup returns the source of the embedded module name (lua/<name>.lua).
func Lookup(name string) (string, bool) {
	if name == "" || strings.ContainsAny(name, "/\\.") {
		return "", false
	}
	b, err := files.ReadFile("lua/" + name + ".lua")
	if err != nil {
		return "", false
	}
	return string(b), true
}

// Names lists the embedded modules, sorted.
func Names() []string {
	entries, err := fs.ReadDir(files, "lua")
	if err != nil {
		return nil
	}
	var names []string
	for _, e := range entries {
		if n := e.Name(); !e.IsDir() && path.Ext(n) == ".lua" {
			names = append(names, strings.TrimSuffix(n, ".lua"))
		}
	}
	sort.Strings(names)
	return names
}

// FS returns the embedded files (lua/<name>.lua).
func FS() fs.FS { return files }
