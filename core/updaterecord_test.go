package core_test

import (
	"context"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
	"github.com/actionflow/actionflow/core/query"
)

func TestUpdateRecord(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"notes","fields":[{"name":"title","type":"string"},{"name":"meta","type":"json"}]}`)
	data := s.App.Data()
	notes, err := data.Collection("notes")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var id uint64
	err = s.App.Update(ctx, func(tx *core.Tx) error {
		r, err := data.Create(tx, notes, map[string]any{"title": "a", "meta": map[string]any{"n": int64(1)}}, core.WriteOptions{})
		if err == nil {
			id = uint64(r["id"].(int64))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		values  map[string]any
		prev    func(core.Record) core.Record
		wantErr bool
	}{
		{"changes a field", map[string]any{"title": "b"}, nil, false},
		{"changes a json field", map[string]any{"meta": map[string]any{"n": int64(2)}}, nil, false},
		{"previous record without id", map[string]any{"title": "c"}, func(core.Record) core.Record { return core.Record{} }, true},
		{"invalid value", map[string]any{"title": true}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, reread core.Record
			err := s.App.Update(ctx, func(tx *core.Tx) error {
				prev, err := data.Get(tx, notes, id)
				if err != nil {
					return err
				}
				if tt.prev != nil {
					prev = tt.prev(prev)
				}
				if got, err = data.UpdateRecord(tx, notes, prev, tt.values, core.WriteOptions{}); err != nil {
					return err
				}
				reread, err = data.Get(tx, notes, id)
				return err
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("error: %v, want one: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			for k, v := range tt.values {
				if !core.EqualValues(got[k], v) {
					t.Errorf("%s = %v, want %v", k, got[k], v)
				}
			}
			if !reflect.DeepEqual(got, reread) {
				t.Errorf("returned %v, stored %v", got, reread)
			}
		})
	}
}

// TestStoredWrites checks CreateStored and UpdateStored: values in stored form are written
// as given, without copies, and the records they return are what Get reads back; foreign
// keys and indexes are kept as by Create and UpdateRecord.
func TestStoredWrites(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"tags","fields":[{"name":"name","type":"string"}]}`)
	s.Collection(`{"name":"notes","fields":[{"name":"title","type":"string","index":true},{"name":"meta","type":"json"},
		{"name":"tag","type":"belongsTo","target":"tags","foreignKey":"tagId"}]}`)
	data := s.App.Data()
	notes, err := data.Collection("notes")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tests := []struct {
		name    string
		create  core.Record
		changes core.Record // nil: create only
		wantErr bool
	}{
		{"create", core.Record{"title": "a", "meta": map[string]any{"n": int64(1), "list": []any{"x", 2.5, nil}}}, nil, false},
		{"create and update", core.Record{"title": "a", "meta": map[string]any{"n": int64(1)}},
			core.Record{"title": "b", "meta": map[string]any{"n": int64(2), "deep": map[string]any{"ok": true}}}, false},
		{"missing foreign record on create", core.Record{"title": "a", "tagId": int64(99)}, nil, true},
		{"missing foreign record on update", core.Record{"title": "a"}, core.Record{"tagId": int64(99)}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got, reread core.Record
			err := s.App.Update(ctx, func(tx *core.Tx) error {
				var err error
				if got, err = data.CreateStored(tx, notes, tt.create, core.WriteOptions{}); err != nil {
					return err
				}
				if tt.changes != nil {
					if got, err = data.UpdateStored(tx, notes, got, tt.changes, core.WriteOptions{}); err != nil {
						return err
					}
				}
				reread, err = data.Get(tx, notes, uint64(got["id"].(int64)))
				return err
			})
			if (err != nil) != tt.wantErr {
				t.Fatalf("error: %v, want one: %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			want := tt.create
			if tt.changes != nil {
				want = tt.changes
			}
			for k, v := range want {
				if !reflect.DeepEqual(reread[k], v) {
					t.Errorf("stored %s = %#v, want %#v", k, reread[k], v)
				}
			}
			if !reflect.DeepEqual(got, reread) {
				t.Errorf("returned %v, stored %v", got, reread)
			}
			if reflect.ValueOf(got["meta"]).UnsafePointer() != reflect.ValueOf(want["meta"]).UnsafePointer() {
				t.Error("the json value was copied")
			}
			f, err := query.ParseFilterValue(map[string]any{"title": want["title"]}, data.QuerySchema(notes))
			if err != nil {
				t.Fatal(err)
			}
			var ids []uint64
			err = s.App.View(ctx, func(tx *core.Tx) error {
				ids, err = data.Select(tx, notes, core.Selector{Filter: f})
				return err
			})
			if err != nil || !slices.Contains(ids, uint64(got["id"].(int64))) {
				t.Errorf("title index: ids %v, err %v; want the record's id", ids, err)
			}
		})
	}
}

// TestIsStoredJSON: values in the form normalizeJSON gives are recognised, anything else
// is not, and nesting beyond MaxJSONDepth is refused.
func TestIsStoredJSON(t *testing.T) {
	nested := func(n int) any {
		var v any = "leaf"
		for range n {
			v = []any{v}
		}
		return v
	}
	tests := []struct {
		name    string
		v       any
		want    bool
		wantErr bool
	}{
		{"scalars", []any{"s", true, nil, int64(1), 2.5}, true, false},
		{"nested maps", map[string]any{"a": map[string]any{"b": []any{int64(1)}}}, true, false},
		{"go int", map[string]any{"n": 1}, false, false},
		{"json number", []any{json.Number("1")}, false, false},
		{"typed slice", map[string]any{"ids": []int{1}}, false, false},
		{"nested to the limit", nested(core.MaxJSONDepth), true, false},
		{"nested beyond the limit", nested(core.MaxJSONDepth + 1), false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := core.IsStoredJSON(tt.v)
			if (err != nil) != tt.wantErr {
				t.Fatalf("error %v, want one: %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}
