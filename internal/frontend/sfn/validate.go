package sfn

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// checker accumulates the model's constraint violations, worded as AWS words them
// ("1 validation error detected: Value 'x' at 'name' failed to satisfy constraint: ...").
// Sensitive members are named without their value, as AWS does.
type checker struct{ msgs []string }

func (c *checker) add(member, value string, sensitive bool, constraint string) {
	v := "Value '" + value + "' at"
	if sensitive {
		v = "Value at"
	}
	c.msgs = append(c.msgs, fmt.Sprintf("%s '%s' failed to satisfy constraint: %s", v, member, constraint))
}

// required records a missing member.
func (c *checker) required(member string, present bool) {
	if !present {
		c.msgs = append(c.msgs, fmt.Sprintf("Value null at '%s' failed to satisfy constraint: Member must not be null", member))
	}
}

// length checks a string's length in characters (the model's length trait).
func (c *checker) length(member, s string, lo, hi int, sensitive bool) {
	n := utf8.RuneCountInString(s)
	if n < lo {
		c.add(member, s, sensitive, fmt.Sprintf("Member must have length greater than or equal to %d", lo))
	}
	if hi >= 0 && n > hi {
		c.add(member, s, sensitive, fmt.Sprintf("Member must have length less than or equal to %d", hi))
	}
}

// optLength checks an optional string member when present.
func (c *checker) optLength(member string, s *string, lo, hi int, sensitive bool) {
	if s != nil {
		c.length(member, *s, lo, hi, sensitive)
	}
}

// payload checks a JSON payload against the 256 KiB quota, counted in UTF-8 bytes as the
// quota is.
func (c *checker) payload(member string, s *string) {
	if s != nil && len(*s) > maxPayload {
		c.add(member, "", true, fmt.Sprintf("Member must have length less than or equal to %d", maxPayload))
	}
}

// enum checks an optional enum member.
func (c *checker) enum(member, s string, values ...string) {
	if s == "" {
		return
	}
	for _, v := range values {
		if s == v {
			return
		}
	}
	c.add(member, s, false, "Member must satisfy enum value set: ["+strings.Join(values, ", ")+"]")
}

// rng checks an integer member's range.
func (c *checker) rng(member string, n, lo, hi int64) {
	if n < lo {
		c.add(member, fmt.Sprint(n), false, fmt.Sprintf("Member must have value greater than or equal to %d", lo))
	}
	if n > hi {
		c.add(member, fmt.Sprint(n), false, fmt.Sprintf("Member must have value less than or equal to %d", hi))
	}
}

func (c *checker) tags(member string, tags []Tag) {
	for i, t := range tags {
		c.length(fmt.Sprintf("%s.%d.member.key", member, i+1), t.Key, 1, 128, false)
		c.length(fmt.Sprintf("%s.%d.member.value", member, i+1), t.Value, 0, 256, false)
	}
}

// err returns the ValidationException, or nil when nothing was violated.
func (c *checker) err() error {
	switch len(c.msgs) {
	case 0:
		return nil
	case 1:
		return Errorf(KindValidation, "1 validation error detected: %s", c.msgs[0])
	}
	return Errorf(KindValidation, "%d validation errors detected: %s", len(c.msgs), strings.Join(c.msgs, "; "))
}

// Model limits.
const (
	maxPayload    = 256 << 10 // SensitiveData: execution input, task output
	maxDefinition = 1 << 20   // Definition
	maxArn        = 256
	maxName       = 80
	maxToken      = 2048
	maxPageToken  = 1024
	maxError      = 256
	maxCause      = 32768
)

var (
	typeEnum     = []string{"STANDARD", "EXPRESS"}
	includedEnum = []string{"ALL_DATA", "METADATA_ONLY"}
	statusEnum   = []string{"RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"}
)

func (c *checker) arn(member, s string, required bool) {
	if required {
		c.required(member, s != "")
	}
	if s != "" {
		c.length(member, s, 1, maxArn, false)
	}
}

func (c *checker) name(member, s string, required bool) {
	if required {
		c.required(member, s != "")
	}
	if s != "" {
		c.length(member, s, 1, maxName, false)
	}
}

// checkName answers InvalidName for a name outside AWS's rules.
func checkName(s string) error {
	if s != "" && !ValidName(s) {
		return Errorf(KindInvalidName, "Invalid Name: '%s'", s)
	}
	return nil
}

// checkARN parses a present ARN member; absent ones were reported by the checker.
func checkARN(s string, want ...string) error {
	if s == "" {
		return nil
	}
	_, err := ParseARN(s, want...)
	return err
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}
