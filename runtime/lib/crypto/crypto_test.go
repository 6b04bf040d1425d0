package crypto_test

import (
	"regexp"
	"testing"

	"github.com/actionflow/actionflow/runtime/lib/crypto"
)

func TestUUID(t *testing.T) {
	re := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	seen := map[string]bool{}
	for i := 0; i < 100; i++ {
		u := crypto.UUID()
		if !re.MatchString(u) {
			t.Fatalf("bad uuid %q", u)
		}
		if seen[u] {
			t.Fatalf("duplicate uuid %q", u)
		}
		seen[u] = true
	}
}
