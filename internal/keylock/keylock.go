// Package keylock serialises work per key inside one process: a mutex per key, created on first
// use and dropped when its last holder leaves, so the table holds only keys in use. It orders
// work within a node only; across nodes the store's fencing decides (DESIGN.md, invariant 6).
package keylock

import "sync"

// Table is a set of per-key mutexes. The zero value is ready to use.
type Table[K comparable] struct {
	mu sync.Mutex
	m  map[K]*entry
}

type entry struct {
	mu   sync.Mutex
	refs int
}

// Lock waits for key's mutex and returns the function that releases it.
func (t *Table[K]) Lock(key K) (unlock func()) {
	t.mu.Lock()
	if t.m == nil {
		t.m = map[K]*entry{}
	}
	e := t.m[key]
	if e == nil {
		e = &entry{}
		t.m[key] = e
	}
	e.refs++
	t.mu.Unlock()
	e.mu.Lock()
	return func() {
		e.mu.Unlock()
		t.mu.Lock()
		if e.refs--; e.refs == 0 {
			delete(t.m, key)
		}
		t.mu.Unlock()
	}
}

// Len is the number of keys held or waited for (for tests and metrics).
func (t *Table[K]) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.m)
}
