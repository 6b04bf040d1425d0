package core

import "sync/atomic"

// schemaHolder keeps the current schema snapshot; readers never lock.
type schemaHolder struct{ p atomic.Pointer[Schema] }

func (h *schemaHolder) load() *Schema   { return h.p.Load() }
func (h *schemaHolder) store(s *Schema) { h.p.Store(s) }
func (h *schemaHolder) get(name string) (*Collection, bool) {
	return h.load().Collection(name)
}
