package asl

import (
	"time"

	"github.com/duro-dev/duro/asl/jsonv"
)

// Event is one Step Functions history event. Details hold the values as recorded (jsonv values,
// shared, never mutated); [Event.JSON] renders them the way GetExecutionHistory does, with inputs
// and outputs as JSON text.
type Event struct {
	ID              int64
	PreviousEventID int64
	Timestamp       time.Time
	Type            string
	detailsKey      string
	details         []detail
}

type detail struct {
	key  string
	val  any
	json bool // render val as JSON text (inputs, outputs, parameters)
}

func field(k string, v any) detail     { return detail{key: k, val: v} }
func jsonField(k string, v any) detail { return detail{key: k, val: v, json: true} }

// notTruncated is the shared {"truncated": false} of inputDetails and outputDetails; like every
// recorded value it is never mutated.
var notTruncated = func() *jsonv.Object {
	o := jsonv.NewObject()
	o.Set("truncated", false)
	return o
}()

func truncatedFalse() *jsonv.Object { return notTruncated }

// Detail returns a detail value as recorded (inputs and outputs as jsonv values, not text).
func (e *Event) Detail(key string) (any, bool) {
	for _, d := range e.details {
		if d.key == key {
			return d.val, true
		}
	}
	return nil, false
}

// JSON renders the event as a Step Functions HistoryEvent object: timestamp (seconds since the
// epoch), type, id, previousEventId and the type's details object.
func (e *Event) JSON() *jsonv.Object {
	o := jsonv.NewObject()
	ms := e.Timestamp.UnixMilli()
	o.Set("timestamp", jsonv.NumberFromFloat(float64(ms)/1000))
	o.Set("type", e.Type)
	o.Set("id", jsonv.NumberFromInt(e.ID))
	o.Set("previousEventId", jsonv.NumberFromInt(e.PreviousEventID))
	if e.detailsKey != "" {
		d := jsonv.NewObject()
		for _, f := range e.details {
			v := f.val
			if f.json {
				v = jsonv.String(v)
			} else if s, ok := v.(string); ok && s == "" {
				continue
			} else if i, ok := v.(int64); ok {
				v = jsonv.NumberFromInt(i)
			} else if i, ok := v.(int); ok {
				v = jsonv.NumberFromInt(int64(i))
			}
			d.Set(f.key, v)
		}
		o.Set(e.detailsKey, d)
	}
	return o
}

// HistoryJSON renders a list of events as a JSON array.
func HistoryJSON(events []Event) []any {
	out := make([]any, len(events))
	for i := range events {
		out[i] = events[i].JSON()
	}
	return out
}

// record appends an event and returns its ID.
func (x *Execution) record(prev int64, typ, detailsKey string, details ...detail) int64 {
	id := int64(len(x.events) + 1)
	x.events = append(x.events, Event{ID: id, PreviousEventID: prev, Timestamp: x.now, Type: typ, detailsKey: detailsKey, details: details})
	return id
}

// recordOn appends an event after a thread's last event and makes it the thread's last event.
func (x *Execution) recordOn(th *thread, typ, detailsKey string, details ...detail) int64 {
	id := x.record(th.prev, typ, detailsKey, details...)
	th.prev = id
	return id
}
