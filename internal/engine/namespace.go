package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/duro-dev/duro/internal/store"
)

// DefaultNamespace exists from a node's first start.
const DefaultNamespace = "default"

// DefaultRetention is the retention Duro gives a namespace registered without one.
const DefaultRetention = 72 * time.Hour

// Namespace is a namespace's description as the engine keeps it.
type Namespace struct {
	ID          string            `json:"id"`
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	OwnerEmail  string            `json:"ownerEmail,omitempty"`
	Retention   time.Duration     `json:"retention"`
	Data        map[string]string `json:"data,omitempty"`
	CreatedAt   time.Time         `json:"createdAt"`
}

// namespaceCache keeps namespaces in memory. Namespaces change rarely; a miss reads the store, so
// a namespace registered on another node is found on first use.
type namespaceCache struct {
	store store.Store
	mu    sync.Mutex
	m     map[string]*Namespace
}

func newNamespaceCache(s store.Store) *namespaceCache {
	return &namespaceCache{store: s, m: map[string]*Namespace{}}
}

func (c *namespaceCache) get(ctx context.Context, name string) (*Namespace, error) {
	if name == "" {
		return nil, invalidArgument("Namespace is not set on request.")
	}
	c.mu.Lock()
	ns := c.m[name]
	c.mu.Unlock()
	if ns != nil {
		return ns, nil
	}
	if hasNUL(name) {
		return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("Namespace %s is not found.", name)}
	}
	row, err := c.store.GetNamespace(ctx, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, &Error{Code: CodeNotFound, Message: fmt.Sprintf("Namespace %s is not found.", name)}
		}
		return nil, unavailable(err)
	}
	ns = &Namespace{}
	if err := json.Unmarshal(row.Data, ns); err != nil {
		return nil, internal(fmt.Errorf("decode namespace %s: %w", name, err))
	}
	c.mu.Lock()
	c.m[name] = ns
	c.mu.Unlock()
	return ns, nil
}

// Namespace returns a namespace by name.
func (e *Engine) Namespace(ctx context.Context, name string) (*Namespace, error) {
	return e.ns.get(ctx, name)
}

// RegisterNamespace creates a namespace; CodeAlreadyExists if the name is taken.
func (e *Engine) RegisterNamespace(ctx context.Context, ns Namespace) error {
	if ns.Name == "" {
		return invalidArgument("Namespace is not set on request.")
	}
	if ns.Retention <= 0 {
		ns.Retention = DefaultRetention
	}
	ns.ID = uuid.NewString()
	ns.CreatedAt = e.clock.Now().UTC()
	b, err := json.Marshal(ns)
	if err != nil {
		return internal(err)
	}
	err = e.store.CreateNamespace(ctx, store.Namespace{ID: ns.ID, Name: ns.Name, Data: b, CreatedAt: ns.CreatedAt})
	if errors.Is(err, store.ErrAlreadyExists) {
		return &Error{Code: CodeAlreadyExists, Message: "Namespace already exists."}
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// UpdateNamespace replaces a namespace's mutable fields.
func (e *Engine) UpdateNamespace(ctx context.Context, ns Namespace) error {
	b, err := json.Marshal(ns)
	if err != nil {
		return internal(err)
	}
	err = e.store.UpdateNamespace(ctx, store.Namespace{ID: ns.ID, Name: ns.Name, Data: b, CreatedAt: ns.CreatedAt})
	if errors.Is(err, store.ErrNotFound) {
		return notFound("Namespace %s is not found.", ns.Name)
	}
	if err != nil {
		return unavailable(err)
	}
	e.ns.mu.Lock()
	delete(e.ns.m, ns.Name)
	e.ns.mu.Unlock()
	return nil
}

// ListNamespaces returns every namespace.
func (e *Engine) ListNamespaces(ctx context.Context) ([]*Namespace, error) {
	rows, err := e.store.ListNamespaces(ctx)
	if err != nil {
		return nil, unavailable(err)
	}
	out := make([]*Namespace, 0, len(rows))
	for _, r := range rows {
		ns := &Namespace{}
		if err := json.Unmarshal(r.Data, ns); err != nil {
			return nil, internal(err)
		}
		out = append(out, ns)
	}
	return out, nil
}

// EnsureDefaultNamespace creates the default namespace unless it exists (any node may race to do it).
func (e *Engine) EnsureDefaultNamespace(ctx context.Context) error {
	err := e.RegisterNamespace(ctx, Namespace{Name: DefaultNamespace, Description: "Default namespace", Retention: DefaultRetention})
	var ee *Error
	if errors.As(err, &ee) && ee.Code == CodeAlreadyExists {
		return nil
	}
	return err
}
