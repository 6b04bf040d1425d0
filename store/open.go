package store

import (
	"errors"
	"fmt"
	"strings"
)

// Open opens the store a URL names: empty for the embedded badger store configured by o,
// postgres:// or postgresql:// for PostgreSQL (o.Logger and o.Retries apply).
func Open(url string, o Options) (Store, error) {
	if url == "" {
		b, err := OpenBadger(o)
		if err != nil {
			return nil, err
		}
		return b, nil
	}
	scheme, _, ok := strings.Cut(url, "://")
	if !ok {
		return nil, errors.New("store: the store URL has no scheme (want postgres://user:password@host:port/db, or none for badger)")
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		p, err := OpenPostgres(url, PostgresOptions{Logger: o.Logger, Retries: o.Retries})
		if err != nil {
			return nil, err
		}
		return p, nil
	}
	return nil, fmt.Errorf("store: unknown store scheme %q (want postgres://, or none for badger)", scheme)
}
