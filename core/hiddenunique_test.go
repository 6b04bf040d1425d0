package core_test

import (
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestUniqueConflictMessage: a taken value of a unique field is a 409; the message echoes
// the value only when the field is not hidden (no oracle for hidden values).
func TestUniqueConflictMessage(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"keys","fields":[{"name":"code","type":"string","unique":true,"hidden":true},{"name":"slug","type":"string","unique":true}]}`)
	s.Post("/api/keys:create", s.Root, map[string]any{"code": "c-s3cret", "slug": "s-public"}).Must(t, 200)
	for _, tc := range []struct {
		name, field, value string
		echoed             bool
	}{
		{"hidden field", "code", "c-s3cret", false},
		{"visible field", "slug", "s-public", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.Post("/api/keys:create", s.Root, map[string]any{tc.field: tc.value}).Must(t, 409)
			msg := r.ErrMsg(t)
			if !strings.Contains(msg, "already taken") || strings.Contains(r.Raw, tc.value) != tc.echoed {
				t.Fatalf("echoed=%v: %s", tc.echoed, r.Raw)
			}
		})
	}
}
