package core

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/actionflow/actionflow/store"
)

// Several nodes on one store (API.md §13) keep nothing that can go stale. What a node
// caches — the schema snapshot, roles, signed-in sessions, a plugin's snapshot (the
// workflow engine's enabled workflows) — has a counter in the store's versions key
// (store.VersionsKey), bumped in the same transaction as every write that changes what the
// cache holds, so that the bump commits or not with the change. A node remembers, per
// cache, the counter its cache reflects at least (seen):
//
//   - every API request and plugin route first reads the key (one Get) and brings each cache
//     whose counter moved up to date before it uses it: a write accepted by one node is
//     seen by the next request to any node (on a store no other process writes, badger,
//     nothing is read: the node's own commits refresh its caches);
//   - a write uses the collection as the schema snapshot has it when its transaction begins
//     (record.Tx), even when the request looked it up in an older snapshot.
//
// Unique values stay unique across nodes through the unique-index keys themselves, which
// every write of a value reads and writes in its serializable transaction. Write
// transactions do not read the versions key: on PostgreSQL that read made every create
// a serialization-failure candidate (W1 ran at a sixth of its rate, its transactions
// retried). The price is a narrow race: a node whose schema is older than both the
// destroy of a field and its re-creation as unique, writing that field in a request
// begun before them (its transaction commits after both), can write a duplicate.
//
// On a store no other process writes (badger) the key is not read at all: the node's own
// commits refresh its caches. The node that commits a change brings its own caches up to
// date at once (on commit), before it answers.

// The caches of core.
const (
	cacheSchema   = "schema"
	cacheRoles    = "roles"
	cacheSessions = "sessions"
)

// CacheVersion is the version in the store of one node cache (Host.CacheVersion).
type CacheVersion struct {
	app  *App
	name string
	// refresh brings the cache up to date with the store: reloads it, or drops it so that
	// the next use reloads it. It must read the store after it is called.
	refresh func() error
	mu      sync.Mutex // serialises refresh
	seen    atomic.Uint64
}

// CacheVersion registers a cache of the plugin that must follow writes made on any node:
// refresh is called (never concurrently) when the store's counter of the cache has moved
// past what the node has seen: at the start of a request, or when a write of this node
// that called Bump commits. Register before the cache is first loaded (in Init).
func (h *Host) CacheVersion(name string, refresh func() error) (*CacheVersion, error) {
	return h.app.cacheVersion(h.plugin+"/"+name, refresh)
}

func (a *App) cacheVersion(name string, refresh func() error) (*CacheVersion, error) {
	if len(name) > 255 {
		return nil, fmt.Errorf("core: cache name %q is too long", name)
	}
	for _, c := range a.caches {
		if c.name == name {
			return nil, fmt.Errorf("core: cache %q registered twice", name)
		}
	}
	raw, err := a.readVersions()
	if err != nil {
		return nil, err
	}
	c := &CacheVersion{app: a, name: name, refresh: refresh}
	c.seen.Store(versionOf(raw, name))
	a.caches = append(a.caches, c)
	return c, nil
}

// Bump marks, inside tx, that the cache's content changes with tx: the counter commits with
// tx, and once tx has committed this node refreshes its cache.
func (c *CacheVersion) Bump(tx *Tx) error {
	raw, err := getVersions(tx)
	if err != nil {
		return err
	}
	raw, v := bumpVersion(raw, c.name)
	if err := tx.Set(store.VersionsKey(), raw); err != nil {
		return fmt.Errorf("core: write versions: %w", err)
	}
	tx.OnCommit(func() {
		if err := c.catchUp(v); err != nil {
			c.app.log.Error("refresh cache", "cache", c.name, "err", err)
		}
	})
	return nil
}

// catchUp refreshes the cache unless it reflects version v already.
func (c *CacheVersion) catchUp(v uint64) error {
	if c.seen.Load() >= v {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen.Load() >= v {
		return nil
	}
	if err := c.refresh(); err != nil {
		return fmt.Errorf("core: refresh cache %s: %w", c.name, err)
	}
	c.seen.Store(v)
	return nil
}

// registerCaches registers core's caches; before the schema is first loaded.
func (a *App) registerCaches() error {
	var err error
	if a.schemaVersion, err = a.cacheVersion(cacheSchema, a.reloadSchema); err != nil {
		return err
	}
	if a.rolesVersion, err = a.cacheVersion(cacheRoles, func() error { a.roles.invalidate(); return nil }); err != nil {
		return err
	}
	if a.sessionsVersion, err = a.cacheVersion(cacheSessions, func() error { a.sessions.invalidate(); return nil }); err != nil {
		return err
	}
	return nil
}

// reloadSchema reloads the schema snapshot; the session cache holds user records decoded
// with the old one, so it goes too.
func (a *App) reloadSchema() error {
	if err := a.loadSchema(); err != nil {
		return err
	}
	a.sessions.invalidate()
	return nil
}

// SyncCaches brings every cache of the node up to date with the store's versions. Every
// API request and every plugin route calls it first; a plugin calls it before work of its
// own that uses a cache outside a request (a timer, say).
//
// On a store only this process writes (badger) it reads nothing: every change is this
// node's own, and the node refreshes its caches when the change commits.
func (a *App) SyncCaches() error {
	if !a.shared {
		return nil
	}
	raw, err := a.readVersions()
	if err != nil {
		return err
	}
	for _, c := range a.caches {
		if err := c.catchUp(versionOf(raw, c.name)); err != nil {
			return err
		}
	}
	return nil
}

func (a *App) readVersions() ([]byte, error) {
	if r, ok := a.store.(store.LatestReader); ok {
		raw, err := r.GetLatest(store.VersionsKey())
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("core: read versions: %w", err)
		}
		return raw, nil
	}
	var raw []byte
	err := a.store.View(func(tx store.Txn) error {
		var err error
		raw, err = getVersions(tx)
		return err
	})
	return raw, err
}

func getVersions(tx store.Txn) ([]byte, error) {
	raw, err := tx.Get(store.VersionsKey())
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("core: read versions: %w", err)
	}
	return raw, nil
}

// The versions key holds, per cache: the length of its name (1 byte), the name, and its
// counter (8 bytes, big-endian).

// versionOf returns the counter of name in raw (0 when absent or malformed).
func versionOf(raw []byte, name string) uint64 {
	for len(raw) > 0 {
		n := int(raw[0])
		if len(raw) < 1+n+8 {
			return 0
		}
		if string(raw[1:1+n]) == name {
			return binary.BigEndian.Uint64(raw[1+n:])
		}
		raw = raw[1+n+8:]
	}
	return 0
}

// bumpVersion returns raw with the counter of name one more, and that counter. Content
// this code did not write (malformed) is dropped from where it stops making sense.
func bumpVersion(raw []byte, name string) ([]byte, uint64) {
	out := make([]byte, 0, len(raw)+1+len(name)+8)
	var v uint64
	found := false
	for len(raw) > 0 {
		n := int(raw[0])
		if len(raw) < 1+n+8 {
			break
		}
		cur := binary.BigEndian.Uint64(raw[1+n:])
		if string(raw[1:1+n]) == name {
			cur++
			v, found = cur, true
		}
		out = append(out, raw[:1+n]...)
		out = binary.BigEndian.AppendUint64(out, cur)
		raw = raw[1+n+8:]
	}
	if !found {
		v = 1
		out = append(out, byte(len(name)))
		out = append(out, name...)
		out = binary.BigEndian.AppendUint64(out, v)
	}
	return out, v
}
