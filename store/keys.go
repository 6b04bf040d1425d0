package store

import (
	"encoding/binary"
	"math"
)

// Key layouts. Every key the product writes is built here.
//
//	s/<name>                                  sequence lease (badger Sequence)
//	m/c/<collection>                          collection definition (JSON)
//	m/versions                                the versions of the node caches: a counter per cache
//	                                          (schema, roles, sessions, plugins'), see core/versions.go
//	r/<collection>/<id:8>                     record (JSON); id big-endian so scans run in id order
//	u/<collection>/<field>/<value>            unique index: the id (8 bytes) of the record holding value
//	i/<collection>/<field>/<value><id:8>      secondary index (foreign keys, indexed fields): empty value
//	t/<sha256(token)>                         auth token: session JSON, with a badger TTL at its expiry
//	a/f/<sha256(account)>                     failed sign-ins of a lower-cased account (email): count and
//	                                          first failure (JSON), with a badger TTL at the window's end
//	p/<plugin>/...                            a plugin's own namespace (see Host.Store in core)
//
// Collection and field names are identifiers ([A-Za-z_][A-Za-z0-9_]*), so '/' separates them
// without ambiguity. <value> is an index value encoding that keeps order within a type and is
// self-delimiting, so the value of one key is never the prefix of another's:
//
//	'i' + 8 bytes   integer, sign bit flipped, big-endian
//	'f' + 8 bytes   float, IEEE bits made order-preserving
//	'b' + 1 byte    boolean
//	's' + bytes     string, with 0x00 escaped as 0x00 0xFF, ended by 0x00 0x01
//
// Null values, JSON values and values of other types are not indexed.
//
// A value of 256 bytes or more may be stored Snappy-compressed, marked in badger's user
// meta byte (see entry in badger.go); Get and Scan return it as it was set.

// SequenceKey is the key of a named sequence.
func SequenceKey(name string) []byte { return join("s/", name) }

// CollectionKey is the key of a collection definition.
func CollectionKey(name string) []byte { return join("m/c/", name) }

// CollectionPrefix is the prefix of all collection definitions.
func CollectionPrefix() []byte { return []byte("m/c/") }

// RecordPrefix is the prefix of all records of a collection.
func RecordPrefix(coll string) []byte { return join("r/", coll, "/") }

// RecordKey is the key of one record.
func RecordKey(coll string, id uint64) []byte {
	return binary.BigEndian.AppendUint64(RecordPrefix(coll), id)
}

// UniqueKey is the unique-index key of value v of a field; ok is false when v is not indexable.
func UniqueKey(coll, field string, v any) (key []byte, ok bool) {
	return AppendIndexValue(join("u/", coll, "/", field, "/"), v)
}

// UniqueFieldPrefix is the prefix of a unique index.
func UniqueFieldPrefix(coll, field string) []byte { return join("u/", coll, "/", field, "/") }

// IndexValuePrefix is the prefix of the secondary-index entries of value v of a field.
func IndexValuePrefix(coll, field string, v any) (prefix []byte, ok bool) {
	return AppendIndexValue(IndexFieldPrefix(coll, field), v)
}

// IndexFieldPrefix is the prefix of a field's whole secondary index.
func IndexFieldPrefix(coll, field string) []byte { return join("i/", coll, "/", field, "/") }

// IndexKey is the secondary-index entry of record id holding value v.
func IndexKey(coll, field string, v any, id uint64) (key []byte, ok bool) {
	p, ok := IndexValuePrefix(coll, field, v)
	if !ok {
		return nil, false
	}
	return binary.BigEndian.AppendUint64(p, id), true
}

// CollectionIndexPrefixes are the prefixes of every index entry of a collection ("u/" and "i/").
func CollectionIndexPrefixes(coll string) [][]byte {
	return [][]byte{join("u/", coll, "/"), join("i/", coll, "/")}
}

// TokenKey is the key of an auth token, by the hash of the token.
func TokenKey(hash []byte) []byte { return append([]byte("t/"), hash...) }

// SignInFailuresKey is the key of the failed sign-ins of an account, by the hash of its
// lower-cased email (or username).
func SignInFailuresKey(hash []byte) []byte { return append([]byte("a/f/"), hash...) }

// PluginPrefix is the root of a plugin's namespace.
func PluginPrefix(plugin string) []byte { return join("p/", plugin, "/") }

// IDFromKey reads the trailing 8-byte id of a record or index key.
func IDFromKey(key []byte) uint64 {
	if len(key) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(key[len(key)-8:])
}

// EncodeID is the 8-byte form of an id, as stored in unique-index values.
func EncodeID(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// AppendIndexValue appends the index encoding of v to b; ok is false when v is not indexable.
func AppendIndexValue(b []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case int64:
		return binary.BigEndian.AppendUint64(append(b, 'i'), uint64(x)^(1<<63)), true
	case int:
		return AppendIndexValue(b, int64(x))
	case uint64:
		if x > math.MaxInt64 {
			return nil, false
		}
		return AppendIndexValue(b, int64(x))
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			// Integral floats index like integers, so 5 and 5.0 find each other.
			return AppendIndexValue(b, int64(x))
		}
		bits := math.Float64bits(x)
		if x < 0 {
			bits = ^bits
		} else {
			bits |= 1 << 63
		}
		return binary.BigEndian.AppendUint64(append(b, 'f'), bits), true
	case bool:
		if x {
			return append(b, 'b', 1), true
		}
		return append(b, 'b', 0), true
	case string:
		b = append(b, 's')
		for i := 0; i < len(x); i++ {
			if x[i] == 0 {
				b = append(b, 0, 0xFF)
				continue
			}
			b = append(b, x[i])
		}
		return append(b, 0, 1), true
	}
	return nil, false
}

func join(parts ...string) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n+9)
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

// ReadinessKey is the key the readiness check (GET /readyz) writes and reads back.
func ReadinessKey() []byte { return []byte("m/ready") }

// VersionsKey is the key of the node caches' versions (core/versions.go).
func VersionsKey() []byte { return []byte("m/versions") }
