package asl

import (
	"fmt"
	"time"
)

// Severity of a [Diagnostic].
const (
	SeverityError   = "ERROR"
	SeverityWarning = "WARNING"
)

// Diagnostic codes, after ValidateStateMachineDefinition's.
const (
	codeInvalidJSON        = "INVALID_JSON_DESCRIPTION"
	codeMissingDescription = "MISSING_DESCRIPTION"
	codeSchema             = "SCHEMA_VALIDATION_FAILED"
	codeInvalidResource    = "INVALID_RESOURCE"
	codeMissingEndState    = "MISSING_END_STATE"
	codeDuplicateStateName = "DUPLICATE_STATE_NAME"
	codeInvalidStateName   = "INVALID_STATE_NAME"
	codeMissingTarget      = "MISSING_TRANSITION_TARGET"
	codeUnreachable        = "UNREACHABLE_STATE"
	codeNoDollar           = "NO_DOLLAR"
)

// Diagnostic is one problem found in a definition, as ValidateStateMachineDefinition reports it:
// Location is the JSON pointer of the offending field (for example /States/Foo/Next).
type Diagnostic struct {
	Severity string `json:"severity"`
	Code     string `json:"code"`
	Message  string `json:"message"`
	Location string `json:"location,omitempty"`
}

// String formats the diagnostic on one line.
func (d Diagnostic) String() string {
	if d.Location == "" {
		return fmt.Sprintf("%s %s: %s", d.Severity, d.Code, d.Message)
	}
	return fmt.Sprintf("%s %s: %s at %s", d.Severity, d.Code, d.Message, d.Location)
}

// Validate compiles src and returns its diagnostics; the definition is valid when none has
// severity ERROR.
func Validate(src []byte) []Diagnostic {
	_, diags := Compile(src)
	return diags
}

// HasErrors reports whether any diagnostic is an error.
func HasErrors(diags []Diagnostic) bool {
	for _, d := range diags {
		if d.Severity == SeverityError {
			return true
		}
	}
	return false
}

// graph checks a body's transitions: every target exists, every state is reachable from StartAt
// and every state can reach a terminal state.
func (c *compiler) graph(b *body, loc string) {
	edges := map[string][]string{}
	terminal := map[string]bool{}
	for _, name := range b.order {
		st := b.states[name]
		sloc := loc + "/States/" + escapeLoc(name)
		add := func(target, field string) {
			if target == "" {
				return
			}
			if _, ok := b.states[target]; !ok {
				c.errf(codeMissingTarget, sloc+field, "Missing '%s' target: %s", lastField(field), target)
				return
			}
			edges[name] = append(edges[name], target)
		}
		add(st.next, "/Next")
		for i, r := range st.choices {
			add(r.next, fmt.Sprintf("/Choices/%d/Next", i))
		}
		add(st.deflt, "/Default")
		for i, k := range st.catch {
			add(k.next, fmt.Sprintf("/Catch/%d/Next", i))
		}
		if st.end || st.typ == TypeSucceed || st.typ == TypeFail {
			terminal[name] = true
		}
	}
	if _, ok := b.states[b.startAt]; !ok {
		return
	}
	reached := map[string]bool{b.startAt: true}
	queue := []string{b.startAt}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, t := range edges[n] {
			if !reached[t] {
				reached[t] = true
				queue = append(queue, t)
			}
		}
	}
	for _, name := range b.order {
		if !reached[name] {
			c.errf(codeUnreachable, loc+"/States/"+escapeLoc(name), "State '%s' is not reachable", name)
		}
	}
	if len(terminal) == 0 {
		c.errf(codeMissingEndState, loc+"/States", "No terminal state: a state machine must have a state with 'End': true, a Succeed state or a Fail state")
		return
	}
	reverse := map[string][]string{}
	for from, tos := range edges {
		for _, t := range tos {
			reverse[t] = append(reverse[t], from)
		}
	}
	canEnd := map[string]bool{}
	for name := range terminal {
		canEnd[name] = true
		queue = append(queue, name)
	}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, f := range reverse[n] {
			if !canEnd[f] {
				canEnd[f] = true
				queue = append(queue, f)
			}
		}
	}
	for _, name := range b.order {
		if reached[name] && !canEnd[name] {
			c.errf(codeMissingEndState, loc+"/States/"+escapeLoc(name), "State '%s' cannot reach a terminal state", name)
		}
	}
}

func lastField(field string) string {
	for i := len(field) - 1; i >= 0; i-- {
		if field[i] == '/' {
			return field[i+1:]
		}
	}
	return field
}

type timeValue = time.Time

// parseTime parses an RFC 3339 timestamp with an upper-case T and an explicit offset, which is
// what Step Functions accepts for Wait timestamps and Timestamp comparisons.
func parseTime(s string) (time.Time, bool) {
	if len(s) < 20 || s[10] != 'T' {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
