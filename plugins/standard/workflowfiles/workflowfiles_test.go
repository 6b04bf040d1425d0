package workflowfiles

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		want    File // Path and Script are checked apart
		wantErr string
	}{
		{
			name: "every header key",
			src: "--- key: validate-order\n--- title: Validate an order\n--- type: action\n--- sync: true\n--- enabled: false\n" +
				"--- config: {\"collection\": \"orders\", \"appends\": [\"customer\"]}\n--- options: { \"timeout\" : 500 }\n" +
				"--- description: Refuses bad quantities: 0 or > 100\nreturn 1\n",
			want: File{Key: "validate-order", Title: "Validate an order", Type: "action", Sync: true, Enabled: false,
				Config: json.RawMessage(`{"collection":"orders","appends":["customer"]}`), Options: json.RawMessage(`{"timeout":500}`),
				Description: "Refuses bad quantities: 0 or > 100"},
		},
		{
			name: "defaults",
			src:  "--- key: k_1\n--- type: action\nreturn 1",
			want: File{Key: "k_1", Type: "action", Enabled: true, Config: json.RawMessage(`{}`), Options: json.RawMessage(`{}`)},
		},
		{
			name: "CRLF, a bare --- line, and the header ends at the first other line",
			src:  "--- key: a\r\n---\r\n--- type: action\r\n-- key: not a header line\r\n--- title: not header either\r\n",
			want: File{Key: "a", Type: "action", Enabled: true, Config: json.RawMessage(`{}`), Options: json.RawMessage(`{}`)},
		},
		{
			name: "a LuaLS annotation ends the header",
			src:  "--- key: a\n--- type: action\n---@type table\nlocal x = {}\n",
			want: File{Key: "a", Type: "action", Enabled: true, Config: json.RawMessage(`{}`), Options: json.RawMessage(`{}`)},
		},
		{name: "missing key", src: "--- title: t\n--- type: action\nreturn 1\n", wantErr: "no key"},
		{name: "missing type", src: "--- key: a\nreturn 1\n", wantErr: "no type"},
		{name: "no header", src: "return 1\n", wantErr: "no key"},
		{name: "empty file", src: "", wantErr: "no key"},
		{name: "bad JSON config", src: "--- key: a\n--- type: action\n--- config: {\"collection\": posts}\n", wantErr: "line 3: config: want a JSON object"},
		{name: "config is not an object", src: "--- key: a\n--- type: action\n--- config: [1]\n", wantErr: "line 3: config: want a JSON object"},
		{name: "config is null", src: "--- key: a\n--- type: action\n--- config: null\n", wantErr: "line 3: config: want a JSON object"},
		{name: "text after the config", src: "--- key: a\n--- type: action\n--- config: {} {}\n", wantErr: "line 3: config: want a JSON object on one line: text after"},
		{name: "bad JSON options", src: "--- key: a\n--- type: action\n--- options: {timeout: 1}\n", wantErr: "line 3: options"},
		{name: "unknown header key", src: "--- key: a\n--- type: action\n--- colour: red\n", wantErr: `line 3: unknown header key "colour"`},
		{name: "not name: value", src: "--- key: a\n--- just words\n", wantErr: "line 2: want a header line"},
		{name: "bad sync", src: "--- key: a\n--- type: action\n--- sync: yes\n", wantErr: `line 3: sync: want true or false, got "yes"`},
		{name: "bad enabled", src: "--- key: a\n--- type: action\n--- enabled: 1\n", wantErr: "line 3: enabled"},
		{name: "bad key", src: "--- key: a b\n--- type: action\n", wantErr: "line 1: key: must be 1-64"},
		{name: "empty type", src: "--- key: a\n--- type:\n", wantErr: "line 2: type: must not be empty"},
		{name: "key set twice", src: "--- key: a\n--- type: action\n--- key: b\n", wantErr: `line 3: header "key" is already set on line 1`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Parse("wf.lua", tc.src)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Path != "wf.lua" || got.Script != tc.src {
				t.Fatalf("path %q, script %q: want the file name and the whole file", got.Path, got.Script)
			}
			got.Path, got.Script = "", ""
			if fmt.Sprintf("%+v", *got) != fmt.Sprintf("%+v", tc.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, tc.want)
			}
		})
	}
}

func TestPlanFile(t *testing.T) {
	file := func(mod func(*File)) *File {
		wf := &File{Key: "k", Title: "T", Type: "action", Enabled: true,
			Config: json.RawMessage(`{"collection":"posts","appends":["category"],"n":1}`), Options: json.RawMessage(`{"timeout":100}`), Script: "return 1"}
		if mod != nil {
			mod(wf)
		}
		return wf
	}
	server := func(mod func(*Remote)) []Remote {
		old := Remote{ID: 1, Key: "k", Type: "action", Script: "return 0", Executed: 1}
		cur := Remote{ID: 2, Key: "k", Title: "T", Type: "action", Enabled: true, Current: true,
			Config: json.RawMessage(`{ "n": 1.0, "appends": ["category"], "collection": "posts" }`), Options: json.RawMessage(`{"timeout":100}`), Script: "return 1"}
		if mod != nil {
			mod(&cur)
		}
		return []Remote{old, cur}
	}
	tests := []struct {
		name     string
		file     *File
		versions []Remote
		kind     string
		changes  []string
		wantErr  string
	}{
		{name: "no version", file: file(nil), kind: PlanCreate},
		{name: "no current version", file: file(nil), versions: server(func(w *Remote) { w.Current = false }), kind: PlanCreate},
		{name: "same values, config written differently", file: file(nil), versions: server(nil), kind: PlanUnchanged},
		{name: "zero options are the defaults", file: file(func(f *File) { f.Options = json.RawMessage(`{"timeout":0,"stackLimit":0}`) }),
			versions: server(func(w *Remote) { w.Options = json.RawMessage(`{}`) }), kind: PlanUnchanged},
		{name: "null config is {}", file: file(func(f *File) { f.Config = json.RawMessage(`{}`) }),
			versions: server(func(w *Remote) { w.Config = json.RawMessage(`null`) }), kind: PlanUnchanged},
		{name: "script changed, never executed", file: file(func(f *File) { f.Script = "return 2" }), versions: server(nil),
			kind: PlanUpdate, changes: []string{"script"}},
		{name: "config value changed", file: file(func(f *File) {
			f.Config = json.RawMessage(`{"collection":"posts","appends":["category"],"n":2}`)
		}),
			versions: server(nil), kind: PlanUpdate, changes: []string{"config"}},
		{name: "title, options and enabled of an executed version", file: file(func(f *File) {
			f.Title, f.Options, f.Enabled = "T2", json.RawMessage(`{}`), false
		}), versions: server(func(w *Remote) { w.Executed = 1 }), kind: PlanUpdate, changes: []string{"enabled", "options", "title"}},
		{name: "script of an executed version", file: file(func(f *File) { f.Script = "return 2" }),
			versions: server(func(w *Remote) { w.Executed = 1 }), kind: PlanRevise,
			changes: []string{"config", "description", "enabled", "options", "script", "title"}},
		{name: "type differs", file: file(func(f *File) { f.Type = "collection" }), versions: server(nil), wantErr: "type and sync are fixed; use a new key"},
		{name: "sync differs", file: file(func(f *File) { f.Sync = true }), versions: server(nil), wantErr: "type and sync are fixed; use a new key"},
		{name: "request-interception is always sync", file: file(func(f *File) { f.Type = "request-interception" }),
			versions: server(func(w *Remote) { w.Type, w.Sync = "request-interception", true }), kind: PlanUnchanged},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanFile(tc.file, tc.versions)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Kind != tc.kind {
				t.Fatalf("kind = %s, want %s", p.Kind, tc.kind)
			}
			if p.Kind != PlanCreate && p.Current.ID != 2 {
				t.Fatalf("current = %d, want 2", p.Current.ID)
			}
			if names := slices.Sorted(maps.Keys(p.Changes)); !slices.Equal(names, tc.changes) {
				t.Fatalf("changes = %v, want %v", names, tc.changes)
			}
			if p.Kind == PlanRevise && p.Changes["enabled"] != true {
				t.Fatalf("a revision is not enabled: %v", p.Changes)
			}
		})
	}
}
