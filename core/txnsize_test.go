package core_test

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
	"testing"

	"github.com/actionflow/actionflow/core"
	"github.com/actionflow/actionflow/core/coretest"
)

// TestActionTooBigForOneTransaction: an action that writes more than one store
// transaction holds is refused with a 400 that says what to do, and writes nothing; the
// same change split into smaller actions goes through.
func TestActionTooBigForOneTransaction(t *testing.T) {
	s := coretest.New(t, core.Config{})
	s.Collection(`{"name":"notes","fields":[{"name":"text","type":"text"},{"name":"views","type":"integer","index":true}]}`)
	const n = 400
	for i := 0; i < n; i++ {
		s.Post("/api/notes:create", s.Root, map[string]any{"text": strings.Repeat("a", 2048), "views": i % 2}).Must(t, 200)
	}
	// Random letters: the store compresses values, and these stay about their size.
	rng := rand.New(rand.NewPCG(1, 2))
	text := []byte("b")
	for len(text) < 4096 {
		text = append(text, byte('a'+rng.IntN(26)))
	}
	big := map[string]any{"text": string(text)}
	update := func(filter string) coretest.Response {
		return s.Post("/api/notes:update?filter="+url.QueryEscape(filter), s.Root, big)
	}
	changed := func() int {
		k := 0
		for page := 1; page <= n/100; page++ {
			for _, r := range s.Get("/api/notes:list?fields=text&pageSize=100&page="+fmt.Sprint(page), s.Root).Must(t, 200).List(t) {
				if strings.HasPrefix(r["text"].(string), "b") {
					k++
				}
			}
		}
		return k
	}

	t.Run("all at once is refused and writes nothing", func(t *testing.T) {
		r := update(`{"views":{"$gte":0}}`).Must(t, 400)
		if msg := r.ErrMsg(t); !strings.Contains(msg, "split it into smaller actions") {
			t.Fatalf("message %q does not say what to do", msg)
		}
		if k := changed(); k != 0 {
			t.Fatalf("%d records changed by a refused action", k)
		}
	})
	t.Run("in smaller actions it goes through", func(t *testing.T) {
		for from := 0; from < n; from += 50 {
			update(fmt.Sprintf(`{"id":{"$gt":%d,"$lte":%d}}`, from, from+50)).Must(t, 200)
		}
		if k := changed(); k != n {
			t.Fatalf("%d of %d records changed", k, n)
		}
	})
}
