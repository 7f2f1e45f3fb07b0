package stepfn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"time"

	"github.com/duro-dev/duro/internal/frontend/sfn"
)

// Published versions. CreateStateMachine and UpdateStateMachine with publish=true snapshot the
// machine's current revision as version 1, 2, ... (ARN: the machine's ARN, a colon, the number),
// which DescribeStateMachine, LookupStateMachine and so StartExecution accept.
//
// Each version is its own record, so a machine record stays small however many versions it has
// (up to AWS's 1,000, each with a definition of up to 1 MiB). The machine record lists its
// versions (number → record name) and is the truth: a version exists only while its machine's
// record lists it. A version record is written before the machine record that lists it, under a
// name no other attempt can use (the machine's name, the number and a random suffix); an
// attempt that then loses its compare-and-swap deletes its record, and the rare leftover of a
// crash between the two writes is unreachable, never mistaken for a version.

// maxVersions is AWS's quota of versions per state machine.
const maxVersions = 1000

// versionRef is a machine record's entry for one published version.
type versionRef struct {
	Number     int64  `json:"n"`
	Record     string `json:"record"`
	RevisionID string `json:"revisionId"`
}

// versionData is the Data of a "sfn.statemachine.version" record: an immutable snapshot.
type versionData struct {
	Machine     string                       `json:"machine"`
	Number      int64                        `json:"n"`
	Definition  string                       `json:"definition"`
	RoleArn     string                       `json:"roleArn"`
	Type        string                       `json:"type"`
	Logging     *sfn.LoggingConfiguration    `json:"logging"`
	Tracing     *sfn.TracingConfiguration    `json:"tracing"`
	Encryption  *sfn.EncryptionConfiguration `json:"encryption"`
	Description *string                      `json:"description,omitempty"`
	RevisionID  string                       `json:"revisionId"`
	Created     time.Time                    `json:"created"`
}

// publish writes the record of version n of machine name, a snapshot of d's current revision,
// and returns its entry for the machine record. The caller lists it in the machine record, or
// deletes it with dropVersion if that write fails.
func (s *Service) publish(ctx context.Context, name string, n int64, d *machineData, desc *string, now time.Time) (versionRef, error) {
	var suffix [8]byte
	_, _ = rand.Read(suffix[:])
	ref := versionRef{Number: n, Record: name + ":" + strconv.FormatInt(n, 10) + ":" + hex.EncodeToString(suffix[:]), RevisionID: d.RevisionID}
	v := versionData{
		Machine: name, Number: n, Definition: d.Definition, RoleArn: d.RoleArn, Type: d.Type,
		Logging: d.Logging, Tracing: d.Tracing, Encryption: d.Encryption, Description: desc,
		RevisionID: d.RevisionID, Created: now,
	}
	if _, err := s.putRecord(ctx, kindVersion, ref.Record, 0, v); err != nil {
		return versionRef{}, err
	}
	return ref, nil
}

// dropVersions deletes version records no machine record lists (any more). It is best effort:
// a record it fails to delete is unreachable anyway, so the failure is logged, not answered.
func (s *Service) dropVersions(ctx context.Context, refs []versionRef) {
	for _, r := range refs {
		if err := s.deleteRecord(ctx, kindVersion, r.Record, 0); err != nil {
			s.log.Warn("stepfn: an unreachable state machine version record stays in the store",
				"record", r.Record, "err", err)
		}
	}
}

// versionARN formats the ARN of version n of the machine whose ARN is machineARN.
func versionARN(machineARN string, n int64) string {
	return machineARN + ":" + strconv.FormatInt(n, 10)
}

// parseVersion reads a version ARN's qualifier: a positive decimal number without leading
// zeros. Anything else (an alias name) is not a version.
func parseVersion(q string) (int64, bool) {
	n, err := strconv.ParseInt(q, 10, 64)
	if err != nil || n <= 0 || strconv.FormatInt(n, 10) != q {
		return 0, false
	}
	return n, true
}

// findVersion returns the entry of version n in refs.
func findVersion(refs []versionRef, n int64) (versionRef, bool) {
	for _, r := range refs {
		if r.Number == n {
			return r, true
		}
	}
	return versionRef{}, false
}
