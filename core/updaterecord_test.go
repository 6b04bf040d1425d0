package core_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
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
