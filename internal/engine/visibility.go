package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	commandpb "go.temporal.io/api/command/v1"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// Search attributes and visibility queries.
//
// A namespace's custom attributes live in the store's registry and are cached here. Every payload
// that reaches a run's search attributes is checked at the door — a start (InvalidArgument) or an
// UpsertWorkflowSearchAttributes command (the workflow task fails with BAD_SEARCH_ATTRIBUTES) — and
// stamped with its type in the "type" metadata, as Temporal does, so that the SDKs' typed search
// attribute API can decode what DescribeWorkflowExecution and the listings return. The typed values
// the store indexes are decoded from the stamped payloads whenever a transition changes them.

// searchAttrCache keeps each namespace's custom search attributes. A name missing from the cached
// registry is looked up again in the store before it is refused, so an attribute another node has
// just registered is found.
type searchAttrCache struct {
	store store.Store
	mu    sync.Mutex
	m     map[string]map[string]visibility.Type
}

func newSearchAttrCache(s store.Store) *searchAttrCache {
	return &searchAttrCache{store: s, m: map[string]map[string]visibility.Type{}}
}

// cached returns the cached registry of ns (nil if not loaded).
func (c *searchAttrCache) cached(ns string) map[string]visibility.Type {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[ns]
}

// get returns the registry of ns, loading it if it is not cached or (reload) if asked to.
func (c *searchAttrCache) get(ctx context.Context, ns string, reload bool) (map[string]visibility.Type, error) {
	if m := c.cached(ns); m != nil && !reload {
		return m, nil
	}
	m, err := c.store.ListSearchAttributes(ctx, ns)
	if err != nil {
		return nil, unavailable(fmt.Errorf("read search attributes of %s: %w", ns, err))
	}
	c.mu.Lock()
	c.m[ns] = m
	c.mu.Unlock()
	return m, nil
}

// lookup resolves a name a workflow may set: a predefined system attribute or a custom one of the
// cached registry.
func (c *searchAttrCache) lookup(ns, name string) (visibility.Type, bool) {
	if t, ok := visibility.Predefined(name); ok {
		return t, true
	}
	t, ok := c.cached(ns)[name]
	return t, ok
}

// knowsAll reports whether every name set in sa resolves with the cached registry.
func (c *searchAttrCache) knowsAll(ns string, sa *commonpb.SearchAttributes) bool {
	for name := range sa.GetIndexedFields() {
		if _, ok := c.lookup(ns, name); !ok {
			return false
		}
	}
	return true
}

// ensure loads the registry of ns so that lookup sees it, reloading it if sa names an attribute
// the cached copy does not have.
func (c *searchAttrCache) ensure(ctx context.Context, ns string, sa *commonpb.SearchAttributes) error {
	if len(sa.GetIndexedFields()) == 0 {
		return nil
	}
	if c.cached(ns) != nil && c.knowsAll(ns, sa) {
		return nil
	}
	_, err := c.get(ctx, ns, true)
	return err
}

// unset reports whether an upserted payload removes the attribute (an empty value or JSON null).
func unset(p *commonpb.Payload) bool {
	return p == nil || len(p.GetData()) == 0 || bytes.Equal(bytes.TrimSpace(p.GetData()), []byte("null"))
}

// Temporal's default limits on the search attributes of one request.
const (
	maxSearchAttributeKeys      = 100
	maxSearchAttributeValueSize = 2 << 10
	maxSearchAttributesSize     = 40 << 10
)

// checkSearchAttributes validates every set value of sa against the cached registry and Temporal's
// size limits, and stamps its type into the payload's metadata. It returns Temporal's message for
// the first bad one.
func (c *searchAttrCache) checkSearchAttributes(ns string, sa *commonpb.SearchAttributes) error {
	names := make([]string, 0, len(sa.GetIndexedFields()))
	total := 0
	for name, p := range sa.GetIndexedFields() {
		names = append(names, name)
		total += len(name) + len(p.GetData())
	}
	if len(names) > maxSearchAttributeKeys {
		return fmt.Errorf("number of search attributes %d exceeds limit %d", len(names), maxSearchAttributeKeys)
	}
	if total > maxSearchAttributesSize {
		return fmt.Errorf("total size of search attributes %d exceeds size limit %d", total, maxSearchAttributesSize)
	}
	sort.Strings(names) // a deterministic first error
	for _, name := range names {
		p := sa.GetIndexedFields()[name]
		if unset(p) {
			continue
		}
		typ, ok := c.lookup(ns, name)
		if !ok {
			if _, system := visibility.System[name]; system {
				return fmt.Errorf("search attribute %s is reserved by system", name)
			}
			return fmt.Errorf("search attribute %s is not defined", name)
		}
		if len(p.GetData()) > maxSearchAttributeValueSize {
			return fmt.Errorf("search attribute %s value size %d exceeds size limit %d", name, len(p.GetData()), maxSearchAttributeValueSize)
		}
		if meta := string(p.GetMetadata()["type"]); meta != "" {
			if mt, ok := visibility.ParseType(meta); !ok || mt != typ {
				return fmt.Errorf("invalid value for search attribute %s of type %s: payload type is %s", name, typ, meta)
			}
		}
		if _, err := decodeSearchValue(name, typ, p); err != nil {
			return err
		}
		if p.Metadata == nil {
			p.Metadata = map[string][]byte{}
		}
		p.Metadata["type"] = []byte(typ.String())
	}
	return nil
}

// decodeSearchValue decodes one JSON payload of a search attribute into its indexed values (one per
// element for a KeywordList, else one).
func decodeSearchValue(name string, typ visibility.Type, p *commonpb.Payload) ([]visibility.Value, error) {
	bad := func(err error) error {
		return fmt.Errorf("invalid value for search attribute %s of type %s: %v", name, typ, err)
	}
	if enc := string(p.GetMetadata()["encoding"]); enc != "" && enc != "json/plain" {
		return nil, bad(fmt.Errorf("encoding is %q, want json/plain", enc))
	}
	d := json.NewDecoder(bytes.NewReader(p.GetData()))
	d.UseNumber()
	var raw any
	if err := d.Decode(&raw); err != nil {
		return nil, bad(err)
	}
	v := visibility.Value{Name: name, Type: typ}
	switch typ {
	case visibility.TypeKeyword, visibility.TypeText:
		s, ok := raw.(string)
		if !ok {
			return nil, bad(errors.New("not a string"))
		}
		v.Text = s
	case visibility.TypeKeywordList:
		var elems []any
		switch x := raw.(type) {
		case string:
			elems = []any{x}
		case []any:
			elems = x
		default:
			return nil, bad(errors.New("not a list of strings"))
		}
		out := make([]visibility.Value, 0, len(elems))
		for _, el := range elems {
			s, ok := el.(string)
			if !ok {
				return nil, bad(errors.New("not a list of strings"))
			}
			out = append(out, visibility.Value{Name: name, Type: typ, Text: s})
		}
		return out, nil
	case visibility.TypeInt:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, bad(errors.New("not a number"))
		}
		i, err := n.Int64()
		if err != nil {
			return nil, bad(errors.New("not an integer"))
		}
		v.Int = i
	case visibility.TypeDouble:
		n, ok := raw.(json.Number)
		if !ok {
			return nil, bad(errors.New("not a number"))
		}
		f, err := n.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return nil, bad(errors.New("not a finite number"))
		}
		v.Double = f
	case visibility.TypeBool:
		b, ok := raw.(bool)
		if !ok {
			return nil, bad(errors.New("not a boolean"))
		}
		v.Bool = b
	case visibility.TypeDatetime:
		s, ok := raw.(string)
		if !ok {
			return nil, bad(errors.New("not a datetime string"))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, bad(err)
		}
		v.Time = t.UTC()
	default:
		return nil, bad(errors.New("unknown type"))
	}
	return []visibility.Value{v}, nil
}

// prepareStartSearchAttributes checks a start request's search attributes and stamps their types.
func (e *Engine) prepareStartSearchAttributes(ctx context.Context, ns string, sa *commonpb.SearchAttributes) error {
	if len(sa.GetIndexedFields()) == 0 {
		return nil
	}
	if _, err := e.ns.get(ctx, ns); err != nil {
		return err
	}
	if err := e.sa.ensure(ctx, ns, sa); err != nil {
		return err
	}
	if err := e.sa.checkSearchAttributes(ns, sa); err != nil {
		return invalidArgument("%s", err.Error())
	}
	return nil
}

// prepareCommandSearchAttributes loads the registries a workflow task's commands need (upserts,
// continue-as-new and child workflows, of this namespace or the child's), before the commands are
// applied under the workflow's lock, where they are checked against the cached copies.
func (e *Engine) prepareCommandSearchAttributes(ctx context.Context, ns string, cmds []*commandpb.Command) error {
	for _, cmd := range cmds {
		var sa *commonpb.SearchAttributes
		target := ns
		switch cmd.GetCommandType() {
		case enumspb.COMMAND_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
			sa = cmd.GetUpsertWorkflowSearchAttributesCommandAttributes().GetSearchAttributes()
		case enumspb.COMMAND_TYPE_CONTINUE_AS_NEW_WORKFLOW_EXECUTION:
			sa = cmd.GetContinueAsNewWorkflowExecutionCommandAttributes().GetSearchAttributes()
		case enumspb.COMMAND_TYPE_START_CHILD_WORKFLOW_EXECUTION:
			a := cmd.GetStartChildWorkflowExecutionCommandAttributes()
			sa = a.GetSearchAttributes()
			if a.GetNamespace() != "" {
				target = a.GetNamespace()
			}
		default:
			continue
		}
		if err := e.sa.ensure(ctx, target, sa); err != nil {
			return err
		}
	}
	return nil
}

// checkUpsert validates an UpsertWorkflowSearchAttributes command's attributes.
func (t *txn) checkUpsert(sa *commonpb.SearchAttributes) error {
	return t.checkCommandSearchAttributes(t.ms.Namespace, sa)
}

// checkCommandSearchAttributes validates (and types) the search attributes a command gives a run
// of namespace ns: an upsert, a continue-as-new or a child workflow. A bad one fails the workflow
// task with BAD_SEARCH_ATTRIBUTES, as in Temporal.
func (t *txn) checkCommandSearchAttributes(ns string, sa *commonpb.SearchAttributes) error {
	if err := t.e.sa.checkSearchAttributes(ns, sa); err != nil {
		return badCommand(enumspb.WORKFLOW_TASK_FAILED_CAUSE_BAD_SEARCH_ATTRIBUTES, "%s", err.Error())
	}
	return nil
}

// searchValues returns the typed values the store indexes for this transition's run: nil (keep
// what is indexed) unless the transition creates the run or upserts search attributes.
func (t *txn) searchValues() []visibility.Value {
	changed := t.version == 0 && len(t.ms.SearchAttributes) > 0
	for _, ev := range t.events {
		if ev.GetEventType() == enumspb.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES {
			changed = true
		}
	}
	if !changed {
		return nil
	}
	sa := &commonpb.SearchAttributes{}
	if err := proto.Unmarshal(t.ms.SearchAttributes, sa); err != nil {
		t.e.log.Warn("search attributes not indexed: undecodable", "run", t.ms.RunID, "error", err)
		return []visibility.Value{}
	}
	names := make([]string, 0, len(sa.GetIndexedFields()))
	for name := range sa.GetIndexedFields() {
		names = append(names, name)
	}
	sort.Strings(names)
	out := []visibility.Value{}
	for _, name := range names {
		p := sa.GetIndexedFields()[name]
		typ, ok := visibility.ParseType(string(p.GetMetadata()["type"]))
		if !ok {
			if typ, ok = t.e.sa.lookup(t.ms.Namespace, name); !ok {
				continue // not registered: kept in the blob, not searchable
			}
		}
		vs, err := decodeSearchValue(name, typ, p)
		if err != nil {
			continue
		}
		out = append(out, vs...)
	}
	return out
}

// ParseQuery parses a list filter of namespace ns against its search attributes. A bad query is
// CodeInvalidArgument with Temporal's "invalid query: …" message.
func (e *Engine) ParseQuery(ctx context.Context, ns, query string) (*visibility.Query, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	if _, err := e.ns.get(ctx, ns); err != nil {
		return nil, err
	}
	reg, err := e.sa.get(ctx, ns, false)
	if err != nil {
		return nil, err
	}
	q, err := visibility.Parse(query, reg)
	var qe *visibility.Error
	if errors.As(err, &qe) && strings.Contains(qe.Error(), "is not defined") {
		// Perhaps registered on another node since we cached the registry: look again.
		if reg, err = e.sa.get(ctx, ns, true); err != nil {
			return nil, err
		}
		q, err = visibility.Parse(query, reg)
	}
	if err != nil {
		return nil, invalidArgument("%s", err.Error())
	}
	return q, nil
}

// CountWorkflowsByStatus serves CountWorkflowExecutions with GROUP BY ExecutionStatus.
func (e *Engine) CountWorkflowsByStatus(ctx context.Context, f store.ExecutionFilter) ([]store.GroupCount, error) {
	if _, err := e.ns.get(ctx, f.Namespace); err != nil {
		return nil, err
	}
	groups, err := e.store.CountExecutionsGroupBy(ctx, f, "ExecutionStatus")
	if err != nil {
		return nil, unavailable(err)
	}
	return groups, nil
}

// SearchAttributes returns a namespace's custom search attributes.
func (e *Engine) SearchAttributes(ctx context.Context, ns string) (map[string]visibility.Type, error) {
	if _, err := e.ns.get(ctx, ns); err != nil {
		return nil, err
	}
	return e.sa.get(ctx, ns, true)
}

// AddSearchAttributes registers custom search attributes of a namespace. A name registered with
// the same type already is accepted again; with another type it is CodeAlreadyExists.
func (e *Engine) AddSearchAttributes(ctx context.Context, ns string, attrs map[string]visibility.Type) error {
	if len(attrs) == 0 {
		return invalidArgument("SearchAttributes are not set on request.")
	}
	if _, err := e.ns.get(ctx, ns); err != nil {
		return err
	}
	for name, typ := range attrs {
		if err := validAttributeName(name); err != nil {
			return err
		}
		if _, system := visibility.System[name]; system {
			return invalidArgument("Search attribute %s is reserved by system.", name)
		}
		if !typ.Valid() {
			return invalidArgument("Unknown search attribute type: %d.", typ)
		}
	}
	defer e.sa.forget(ns)
	err := e.store.AddSearchAttributes(ctx, ns, attrs)
	if errors.Is(err, store.ErrAlreadyExists) {
		reg, rerr := e.sa.get(ctx, ns, true)
		if rerr != nil {
			return rerr
		}
		for name, typ := range attrs {
			if cur, ok := reg[name]; ok && cur != typ {
				return &Error{Code: CodeAlreadyExists, cause: err,
					Message: fmt.Sprintf("Search attribute %s already exists with type %s.", name, cur)}
			}
		}
		return &Error{Code: CodeAlreadyExists, Message: "Search attribute already exists.", cause: err}
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// RemoveSearchAttributes unregisters custom search attributes of a namespace.
func (e *Engine) RemoveSearchAttributes(ctx context.Context, ns string, names []string) error {
	if len(names) == 0 {
		return invalidArgument("SearchAttributes are not set on request.")
	}
	if _, err := e.ns.get(ctx, ns); err != nil {
		return err
	}
	for _, name := range names {
		if _, system := visibility.System[name]; system {
			return invalidArgument("Unable to remove non-custom search attributes: %s.", name)
		}
	}
	defer e.sa.forget(ns)
	err := e.store.RemoveSearchAttributes(ctx, ns, names)
	if errors.Is(err, store.ErrNotFound) {
		reg, rerr := e.sa.get(ctx, ns, true)
		if rerr != nil {
			return rerr
		}
		for _, name := range names {
			if _, ok := reg[name]; !ok {
				return &Error{Code: CodeNotFound, cause: err, Message: fmt.Sprintf("Search attribute %s doesn't exist.", name)}
			}
		}
		return &Error{Code: CodeNotFound, cause: err, Message: "Search attribute doesn't exist."}
	}
	if err != nil {
		return unavailable(err)
	}
	return nil
}

// forget drops the cached registry of ns.
func (c *searchAttrCache) forget(ns string) {
	c.mu.Lock()
	delete(c.m, ns)
	c.mu.Unlock()
}

// maxAttributeNameLength bounds a custom attribute's name.
const maxAttributeNameLength = 255

// validAttributeName checks a custom attribute name: non-empty, bounded, printable.
func validAttributeName(name string) error {
	if name == "" {
		return invalidArgument("Search attribute name is not set.")
	}
	if len(name) > maxAttributeNameLength {
		return invalidArgument("Search attribute name %s is longer than %d bytes.", name, maxAttributeNameLength)
	}
	for _, r := range name {
		if r < ' ' || r == '`' || r == 0x7f {
			return invalidArgument("Search attribute name %q has an invalid character.", name)
		}
	}
	return nil
}
