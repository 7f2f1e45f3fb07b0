package sfn

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Config is the protocol layer's configuration.
type Config struct {
	// Region in formatted ARNs; default us-east-1, as Step Functions Local.
	Region string
	// Account in formatted ARNs; default 123456789012, as Step Functions Local.
	Account string
	// Partition in formatted ARNs; default aws.
	Partition string
	// MaxBodyBytes caps a request body; default 8 MiB (room for a 1 MiB definition JSON-escaped).
	MaxBodyBytes int64
}

// WithDefaults returns c with its zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Region == "" {
		c.Region = "us-east-1"
	}
	if c.Account == "" {
		c.Account = "123456789012"
	}
	if c.Partition == "" {
		c.Partition = "aws"
	}
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = 8 << 20
	}
	return c
}

func (c Config) prefix() string {
	return "arn:" + c.Partition + ":states:" + c.Region + ":" + c.Account + ":"
}

// StateMachineARN formats a state machine's ARN.
func (c Config) StateMachineARN(name string) string { return c.prefix() + "stateMachine:" + name }

// ExecutionARN formats an execution's ARN.
func (c Config) ExecutionARN(stateMachine, name string) string {
	return c.prefix() + "execution:" + stateMachine + ":" + name
}

// ActivityARN formats an activity's ARN.
func (c Config) ActivityARN(name string) string { return c.prefix() + "activity:" + name }

// ARN is a parsed Step Functions ARN.
type ARN struct {
	Partition, Region, Account string
	// Resource is the resource type: stateMachine, execution, express, activity, mapRun.
	Resource string
	// Parts are the colon-separated parts after the resource type.
	Parts []string
}

// Local reports whether a is in c's partition, region and account.
func (c Config) Local(a ARN) bool {
	return a.Partition == c.Partition && a.Region == c.Region && a.Account == c.Account
}

// ParseARN parses a Step Functions ARN and checks its resource type is one of want; the error is
// an InvalidArn [*Error].
func ParseARN(s string, want ...string) (ARN, error) {
	bad := func(why string) (ARN, error) { return ARN{}, Errorf(KindInvalidArn, "Invalid Arn: '%s'", why) }
	f := strings.Split(s, ":")
	if len(f) < 7 || f[0] != "arn" || f[1] == "" {
		return bad("Invalid ARN prefix: " + s)
	}
	if f[2] != "states" {
		return bad("Invalid ARN service: " + s)
	}
	if f[3] == "" || f[4] == "" {
		return bad("Invalid ARN: " + s)
	}
	a := ARN{Partition: f[1], Region: f[3], Account: f[4], Resource: f[5], Parts: f[6:]}
	ok := false
	for _, w := range want {
		ok = ok || w == a.Resource
	}
	if !ok {
		return bad("Resource type not valid in this context: " + a.Resource)
	}
	n := map[string][2]int{"stateMachine": {1, 2}, "execution": {2, 2}, "express": {3, 3}, "activity": {1, 1}, "mapRun": {2, 2}}[a.Resource]
	if len(a.Parts) < n[0] || len(a.Parts) > n[1] {
		return bad("Invalid ARN: " + s)
	}
	for _, p := range a.Parts {
		if p == "" {
			return bad("Invalid ARN: " + s)
		}
	}
	return a, nil
}

// ValidName reports whether s follows AWS's rules for state machine, execution and activity
// names (length is checked separately, against the model's 1..80): no white space, no
// < > { } [ ] ? * " # % \ ^ | ~ ` $ & , ; : /, no control characters.
func ValidName(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsSpace(r) || unicode.IsControl(r) || strings.ContainsRune("<>{}[]?*\"#%\\^|~`$&,;:/", r) {
			return false
		}
	}
	return true
}
