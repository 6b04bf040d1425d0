package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/examples/hello-plugin/hello"
	"github.com/actionflow/actionflow/plugins/standard"
)

// TestBinary runs this binary's command line (standard.Run with the plugins main passes):
// its scripts can require the plugin's Lua module offline too, and the rest is actionflow.
func TestBinary(t *testing.T) {
	script := filepath.Join(t.TempDir(), "greet.lua")
	if err := os.WriteFile(script, []byte(`return require("hello").greet(ctx.data.name)`), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		code   int
		output any // of "lua run"
	}{
		{"lua run uses the plugin's module", []string{"lua", "run", script, "--data", `{"name":"Ada"}`}, 0, "hello, Ada"},
		{"help", []string{"help"}, 0, nil},
		{"unknown command", []string{"fly"}, 2, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := standard.Run(tc.args, &out, &errb, hello.New()); code != tc.code {
				t.Fatalf("exit %d, want %d: %s%s", code, tc.code, out.String(), errb.String())
			}
			if tc.output == nil {
				return
			}
			var res struct {
				Status int `json:"status"`
				Output any `json:"output"`
			}
			if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.Status != 1 || res.Output != tc.output {
				t.Fatalf("lua run: %s (%v)", out.String(), err)
			}
		})
	}
}

// TestREADMEShowsTheCode: the root README's "Go plugins" section shows this example's
// code as it is.
func TestREADMEShowsTheCode(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) string {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	plugin := read("hello/hello.go")
	tests := []struct{ name, code string }{
		{"main.go", read("main.go")},
		{"the plugin", plugin[strings.Index(plugin, "// Plugin is the hello plugin."):]},
		{"the stub", read("hello/hello.lua")},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(doc), strings.TrimSpace(tc.code)) {
				t.Fatalf("README.md does not show %s as it is:\n%s", tc.name, tc.code)
			}
		})
	}
}
