package core_test

import (
	"context"
	"errors"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestDataErrorsAreTyped: what the record layer refuses reaches a plugin (or the Lua db
// module) as a record error saying what happened, not as an HTTP answer.
func TestDataErrorsAreTyped(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"tags","fields":[{"name":"name","type":"string","unique":true},{"name":"n","type":"integer"}]}`)
	data := s.App.Data()
	tags, err := data.Collection("tags")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.App.Update(ctx, func(tx *core.Tx) error {
		_, err := data.Create(tx, tags, map[string]any{"name": "go"}, core.WriteOptions{})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		do    func(tx *core.Tx) error
		check func(err error) bool
		text  string
	}{
		{"bad value", func(tx *core.Tx) error {
			_, err := data.Create(tx, tags, map[string]any{"n": "x"}, core.WriteOptions{})
			return err
		}, func(err error) bool { var fe *core.FieldError; return errors.As(err, &fe) && fe.Field == "n" }, ""},
		{"unknown field", func(tx *core.Tx) error {
			_, err := data.Create(tx, tags, map[string]any{"nope": 1}, core.WriteOptions{})
			return err
		}, func(err error) bool { var fe *core.FieldError; return errors.As(err, &fe) && fe.Field == "nope" }, "nope: unknown field of tags"},
		{"missing record", func(tx *core.Tx) error {
			_, err := data.Get(tx, tags, 99)
			return err
		}, func(err error) bool {
			var nf *core.NotFoundError
			return errors.As(err, &nf) && errors.Is(err, core.ErrNotFound)
		}, "tags 99 not found"},
		{"missing collection", func(*core.Tx) error {
			_, err := data.Collection("nope")
			return err
		}, func(err error) bool { var nf *core.NotFoundError; return errors.As(err, &nf) }, `collection "nope" not found`},
		{"taken unique value", func(tx *core.Tx) error {
			_, err := data.Create(tx, tags, map[string]any{"name": "go"}, core.WriteOptions{})
			return err
		}, func(err error) bool {
			var ue *core.UniqueError
			return errors.As(err, &ue) && ue.Field == "name" && errors.Is(err, core.ErrConflict)
		}, "name: value go is already taken"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := s.App.Update(ctx, tc.do)
			if err == nil {
				t.Fatal("no error")
			}
			var he *core.Error
			if errors.As(err, &he) {
				t.Fatalf("the record layer answered with an HTTP status: %d %v", he.Status, err)
			}
			if !tc.check(err) {
				t.Fatalf("error %T %v is not the record error expected", err, err)
			}
			if tc.text != "" && err.Error() != tc.text {
				t.Fatalf("Error() = %q, want %q", err.Error(), tc.text)
			}
		})
	}
}
