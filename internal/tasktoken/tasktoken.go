// Package tasktoken encodes the fenced task tokens Duro hands to workers (DESIGN.md, invariant 3).
//
// A token names the namespace, workflow, run, the task's scheduled (or started) event ID and its
// attempt, so the engine can reject a stale or duplicate completion by comparing against mutable
// state instead of trusting the worker. Tokens are opaque to SDKs, which only echo them and use
// them as map keys; they must be non-empty and unique per task attempt.
package tasktoken

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Kind says what a token completes.
type Kind byte

// Token kinds.
const (
	Workflow Kind = 1
	Activity Kind = 2
	Query    Kind = 3
	// Speculative is a workflow task that exists only in memory (it carries updates; if the worker
	// only rejects them, nothing of it is ever persisted).
	Speculative Kind = 4
)

// Token is a decoded task token.
type Token struct {
	Kind       Kind
	Namespace  string
	WorkflowID string
	RunID      string
	// EventID is the workflow task's started event ID, or the activity's scheduled event ID.
	EventID int64
	Attempt int32
	// ActivityID identifies the activity (activity tokens); QueryID the query (query tokens).
	ActivityID string
	QueryID    string
}

const version = 1

// ErrMalformed is returned for bytes that are not a token Duro issued.
var ErrMalformed = errors.New("malformed task token")

// Encode serializes t.
func Encode(t Token) []byte {
	b := make([]byte, 0, 64+len(t.Namespace)+len(t.WorkflowID)+len(t.RunID)+len(t.ActivityID)+len(t.QueryID))
	b = append(b, version, byte(t.Kind))
	for _, s := range []string{t.Namespace, t.WorkflowID, t.RunID, t.ActivityID, t.QueryID} {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, t.EventID)
	b = binary.AppendVarint(b, int64(t.Attempt))
	return b
}

// Decode parses a token; any deviation from what Encode writes is ErrMalformed.
func Decode(b []byte) (Token, error) {
	var t Token
	if len(b) < 2 || b[0] != version {
		return t, ErrMalformed
	}
	t.Kind = Kind(b[1])
	if t.Kind < Workflow || t.Kind > Speculative {
		return t, ErrMalformed
	}
	b = b[2:]
	fields := []*string{&t.Namespace, &t.WorkflowID, &t.RunID, &t.ActivityID, &t.QueryID}
	for _, f := range fields {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return t, ErrMalformed
		}
		*f = string(b[k : k+int(n)])
		b = b[k+int(n):]
	}
	ev, k := binary.Varint(b)
	if k <= 0 {
		return t, ErrMalformed
	}
	b = b[k:]
	att, k := binary.Varint(b)
	if k <= 0 || k != len(b) || att < 0 || att > 1<<31-1 {
		return t, ErrMalformed
	}
	t.EventID, t.Attempt = ev, int32(att)
	if t.Namespace == "" || t.WorkflowID == "" || t.RunID == "" {
		return t, fmt.Errorf("%w: missing execution", ErrMalformed)
	}
	return t, nil
}
