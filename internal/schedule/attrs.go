package schedule

import (
	"bytes"
	"context"
	"encoding/json"
	"sort"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"google.golang.org/protobuf/proto"

	"github.com/duro-dev/duro/internal/visibility"
)

// checkSearchAttributes checks search attributes a schedule is given (its own, or its action's)
// against the namespace's registry, refusing an unknown name or a value that is not of the
// attribute's type (InvalidArgument, as Temporal), and stamps each payload with its type so that
// the SDKs' typed search attributes decode what DescribeSchedule returns.
func (s *Scheduler) checkSearchAttributes(ctx context.Context, namespace string, sa *commonpb.SearchAttributes) error {
	if len(sa.GetIndexedFields()) == 0 {
		return nil
	}
	reg, err := s.e.SearchAttributes(ctx, namespace)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(sa.GetIndexedFields()))
	for name := range sa.GetIndexedFields() {
		names = append(names, name)
	}
	sort.Strings(names) // a deterministic first error
	for _, name := range names {
		typ, ok := reg[name]
		if !ok {
			typ, ok = visibility.Predefined(name)
		}
		if !ok {
			if _, system := visibility.System[name]; system {
				return invalid("search attribute %s is reserved by system", name)
			}
			return invalid("search attribute %s is not defined", name)
		}
		p := sa.GetIndexedFields()[name]
		if !valueFits(typ, p.GetData()) {
			return invalid("invalid value for search attribute %s of type %s: %s", name, typ, p.GetData())
		}
		p = proto.Clone(p).(*commonpb.Payload)
		if p.Metadata == nil {
			p.Metadata = map[string][]byte{}
		}
		p.Metadata["type"] = []byte(typ.String())
		sa.IndexedFields[name] = p
	}
	return nil
}

// valueFits tells whether a JSON payload holds a value of the attribute type (null unsets).
func valueFits(typ visibility.Type, data []byte) bool {
	if len(bytes.TrimSpace(data)) == 0 || bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
		return true
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var v any
	if d.Decode(&v) != nil {
		return false
	}
	switch typ {
	case visibility.TypeKeyword, visibility.TypeText:
		_, ok := v.(string)
		return ok
	case visibility.TypeKeywordList:
		switch x := v.(type) {
		case string:
			return true
		case []any:
			for _, e := range x {
				if _, ok := e.(string); !ok {
					return false
				}
			}
			return true
		}
		return false
	case visibility.TypeInt:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Int64()
		return err == nil
	case visibility.TypeDouble:
		n, ok := v.(json.Number)
		if !ok {
			return false
		}
		_, err := n.Float64()
		return err == nil
	case visibility.TypeBool:
		_, ok := v.(bool)
		return ok
	case visibility.TypeDatetime:
		str, ok := v.(string)
		if !ok {
			return false
		}
		_, err := time.Parse(time.RFC3339Nano, str)
		return err == nil
	}
	return false
}

// decodeValues decodes a search attribute payload into the values a list filter compares (one per
// element of a KeywordList); a value that does not decode has none.
func decodeValues(name string, typ visibility.Type, data []byte) []visibility.Value {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var raw any
	if d.Decode(&raw) != nil {
		return nil
	}
	v := visibility.Value{Name: name, Type: typ}
	switch typ {
	case visibility.TypeKeyword, visibility.TypeText:
		s, ok := raw.(string)
		if !ok {
			return nil
		}
		v.Text = s
	case visibility.TypeKeywordList:
		var out []visibility.Value
		switch x := raw.(type) {
		case string:
			out = append(out, visibility.Value{Name: name, Type: typ, Text: x})
		case []any:
			for _, e := range x {
				if s, ok := e.(string); ok {
					out = append(out, visibility.Value{Name: name, Type: typ, Text: s})
				}
			}
		}
		return out
	case visibility.TypeInt:
		n, ok := raw.(json.Number)
		if !ok {
			return nil
		}
		i, err := n.Int64()
		if err != nil {
			return nil
		}
		v.Int = i
	case visibility.TypeDouble:
		n, ok := raw.(json.Number)
		if !ok {
			return nil
		}
		f, err := n.Float64()
		if err != nil {
			return nil
		}
		v.Double = f
	case visibility.TypeBool:
		b, ok := raw.(bool)
		if !ok {
			return nil
		}
		v.Bool = b
	case visibility.TypeDatetime:
		s, ok := raw.(string)
		if !ok {
			return nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil
		}
		v.Time = t.UTC()
	default:
		return nil
	}
	return []visibility.Value{v}
}
