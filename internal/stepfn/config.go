package stepfn

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/duro-dev/duro/internal/frontend/sfn"
)

// The optional configurations of state machines and activities are stored with AWS's defaults
// filled in (logging OFF without execution data, tracing off, encryption with an AWS-owned key),
// so that Describe answers them as AWS does and an idempotent retry that spells a default out
// compares equal to one that leaves it absent. Duro writes no CloudWatch logs, sends no X-Ray
// traces and calls no KMS: the configurations are kept and answered, not acted on.

// Enums and ranges of the model's configuration members the protocol layer does not check.
var (
	logLevels       = []string{"ALL", "ERROR", "FATAL", "OFF"}
	encryptionTypes = []string{"AWS_OWNED_KEY", "CUSTOMER_MANAGED_KMS_KEY"}
)

const (
	// AWS's default and bounds for kmsDataKeyReusePeriodSeconds.
	defaultKeyReuse = 300
	minKeyReuse     = 60
	maxKeyReuse     = 900
	maxKmsKeyID     = 2048
)

// normLogging returns l checked and with AWS's defaults filled in.
func normLogging(l *sfn.LoggingConfiguration) (*sfn.LoggingConfiguration, error) {
	out := &sfn.LoggingConfiguration{Level: "OFF", IncludeExecutionData: new(bool)}
	if l == nil {
		return out, nil
	}
	if l.Level != "" {
		if !oneOf(l.Level, logLevels) {
			return nil, enumError("loggingConfiguration.level", l.Level, logLevels)
		}
		out.Level = l.Level
	}
	if l.IncludeExecutionData != nil {
		v := *l.IncludeExecutionData
		out.IncludeExecutionData = &v
	}
	if len(l.Destinations) > 0 {
		out.Destinations = append([]sfn.LogDestination(nil), l.Destinations...)
	}
	if len(out.Destinations) > 1 || (out.Level != "OFF" && len(out.Destinations) == 0) {
		return nil, sfn.Errorf(sfn.KindInvalidLoggingConfiguration,
			"Invalid Logging Configuration: Must specify exactly one Log Destination.")
	}
	for _, d := range out.Destinations {
		if d.CloudWatchLogsLogGroup == nil || d.CloudWatchLogsLogGroup.LogGroupArn == "" {
			return nil, sfn.Errorf(sfn.KindInvalidLoggingConfiguration,
				"Invalid Logging Configuration: Log Destination must have a CloudWatch Logs Log Group ARN.")
		}
	}
	return out, nil
}

// normTracing returns t with AWS's default (disabled) filled in.
func normTracing(t *sfn.TracingConfiguration) *sfn.TracingConfiguration {
	v := t != nil && t.Enabled != nil && *t.Enabled
	return &sfn.TracingConfiguration{Enabled: &v}
}

// normEncryption returns e checked and with AWS's defaults filled in.
func normEncryption(e *sfn.EncryptionConfiguration) (*sfn.EncryptionConfiguration, error) {
	if e == nil {
		return &sfn.EncryptionConfiguration{Type: "AWS_OWNED_KEY"}, nil
	}
	switch {
	case e.Type == "":
		return nil, sfn.Errorf(sfn.KindValidation, "1 validation error detected: Value null at "+
			"'encryptionConfiguration.type' failed to satisfy constraint: Member must not be null")
	case !oneOf(e.Type, encryptionTypes):
		return nil, enumError("encryptionConfiguration.type", e.Type, encryptionTypes)
	case utf8.RuneCountInString(e.KmsKeyID) > maxKmsKeyID:
		return nil, sfn.Errorf(sfn.KindValidation, "1 validation error detected: Value at "+
			"'encryptionConfiguration.kmsKeyId' failed to satisfy constraint: Member must have length less than or equal to %d", maxKmsKeyID)
	case e.KmsDataKeyReusePeriodSeconds != nil && (*e.KmsDataKeyReusePeriodSeconds < minKeyReuse || *e.KmsDataKeyReusePeriodSeconds > maxKeyReuse):
		return nil, sfn.Errorf(sfn.KindValidation, "1 validation error detected: Value '%d' at "+
			"'encryptionConfiguration.kmsDataKeyReusePeriodSeconds' failed to satisfy constraint: "+
			"Member must have value between %d and %d", *e.KmsDataKeyReusePeriodSeconds, minKeyReuse, maxKeyReuse)
	}
	out := *e
	if out.Type == "AWS_OWNED_KEY" {
		if out.KmsKeyID != "" || out.KmsDataKeyReusePeriodSeconds != nil {
			return nil, sfn.Errorf(sfn.KindInvalidEncryptionConfiguration,
				"Invalid Encryption Configuration: kmsKeyId and kmsDataKeyReusePeriodSeconds apply only to CUSTOMER_MANAGED_KMS_KEY")
		}
		return &out, nil
	}
	if out.KmsKeyID == "" {
		return nil, sfn.Errorf(sfn.KindInvalidEncryptionConfiguration,
			"Invalid Encryption Configuration: kmsKeyId is required for CUSTOMER_MANAGED_KMS_KEY")
	}
	if out.KmsDataKeyReusePeriodSeconds == nil {
		v := int64(defaultKeyReuse)
		out.KmsDataKeyReusePeriodSeconds = &v
	}
	return &out, nil
}

// maxTags is AWS's quota of tags per resource.
const maxTags = 50

// checkTags answers ValidationException for a tag key or value outside AWS's character set
// (Unicode letters, digits, white space and _ . : / = + - @); lengths were checked by the
// protocol layer.
func checkTags(member string, tags []sfn.Tag) error {
	for i, t := range tags {
		if !tagText(t.Key) {
			return patternError(fmt.Sprintf("%s.%d.member.key", member, i+1), t.Key)
		}
		if !tagText(t.Value) {
			return patternError(fmt.Sprintf("%s.%d.member.value", member, i+1), t.Value)
		}
	}
	return nil
}

// checkTagKeys is checkTags for UntagResource's keys.
func checkTagKeys(keys []string) error {
	for i, k := range keys {
		if !tagText(k) {
			return patternError(fmt.Sprintf("tagKeys.%d.member", i+1), k)
		}
	}
	return nil
}

// tagText reports whether s matches AWS's tag pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.
func tagText(s string) bool {
	for _, r := range s {
		if !unicode.In(r, unicode.L, unicode.Z, unicode.N) && !strings.ContainsRune("_.:/=+-@", r) {
			return false
		}
	}
	return true
}

// mergeTags returns old with add applied: a key already present takes the new value in place,
// a new key is appended; within add, a later duplicate wins.
func mergeTags(old, add []sfn.Tag) []sfn.Tag {
	out := append([]sfn.Tag(nil), old...)
	for _, t := range add {
		i := tagIndex(out, t.Key)
		if i >= 0 {
			out[i].Value = t.Value
		} else {
			out = append(out, t)
		}
	}
	return out
}

// removeTags returns tags without the given keys; absent keys are ignored, as AWS ignores them.
func removeTags(tags []sfn.Tag, keys []string) []sfn.Tag {
	var out []sfn.Tag
	for _, t := range tags {
		drop := false
		for _, k := range keys {
			drop = drop || k == t.Key
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

func tagIndex(tags []sfn.Tag, key string) int {
	for i, t := range tags {
		if t.Key == key {
			return i
		}
	}
	return -1
}

// tooManyTags answers TooManyTags for the resource named by arn.
func tooManyTags(arn string) error {
	e := sfn.Errorf(sfn.KindTooManyTags, "Too many tags: a resource can have at most %d tags", maxTags)
	e.ResourceName = arn
	return e
}

func oneOf(s string, values []string) bool {
	for _, v := range values {
		if s == v {
			return true
		}
	}
	return false
}

func enumError(member, value string, values []string) error {
	return sfn.Errorf(sfn.KindValidation, "1 validation error detected: Value '%s' at '%s' failed to "+
		"satisfy constraint: Member must satisfy enum value set: [%s]", value, member, strings.Join(values, ", "))
}

func patternError(member, value string) error {
	return sfn.Errorf(sfn.KindValidation, "1 validation error detected: Value '%s' at '%s' failed to "+
		`satisfy constraint: Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, value, member)
}
