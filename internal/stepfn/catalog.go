package stepfn

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
)

// machineData is the Data of a "sfn.statemachine" record: the machine's current revision, its
// tags and its published versions.
type machineData struct {
	Definition string                       `json:"definition"`
	RoleArn    string                       `json:"roleArn"`
	Type       string                       `json:"type"`
	Logging    *sfn.LoggingConfiguration    `json:"logging"`
	Tracing    *sfn.TracingConfiguration    `json:"tracing"`
	Encryption *sfn.EncryptionConfiguration `json:"encryption"`
	Tags       []sfn.Tag                    `json:"tags,omitempty"`
	Created    time.Time                    `json:"created"`
	Updated    time.Time                    `json:"updated"`
	// RevisionID names the current revision (definition, role and configurations); it changes
	// with each update that changes one of them.
	RevisionID string `json:"revisionId"`
	// Publish and VersionDescription are the creating request's, which AWS's idempotency check
	// compares.
	Publish            bool    `json:"publish,omitempty"`
	VersionDescription *string `json:"versionDescription,omitempty"`
	// Versions are the published versions, oldest first.
	Versions []versionRef `json:"versions,omitempty"`
}

// StateMachine is a state machine, or one of its published versions, as the execution half
// needs it.
type StateMachine struct {
	// ARN is the ARN that was looked up: the machine's, or a version's.
	ARN string
	// MachineARN is the machine's unqualified ARN.
	MachineARN string
	// Name is the machine's name.
	Name string
	// Version is the version's number when ARN names a published version, else 0.
	Version int64
	// Definition is the ASL text exactly as the client sent it.
	Definition string
	RoleArn    string
	// Type is STANDARD or EXPRESS.
	Type       string
	Logging    *sfn.LoggingConfiguration
	Tracing    *sfn.TracingConfiguration
	Encryption *sfn.EncryptionConfiguration
	// CreationDate is the machine's, or the version's when ARN names one.
	CreationDate time.Time
	// UpdateDate is the machine's last UpdateStateMachine (its creation date before the first);
	// for a version, the version's creation date.
	UpdateDate time.Time
	// RevisionID names the revision: the machine's current one, or the one the version froze.
	RevisionID string
	// Description is a version's description.
	Description string
}

func (d *machineData) view(arn, name string) *StateMachine {
	return &StateMachine{
		ARN: arn, MachineARN: arn, Name: name, Definition: d.Definition, RoleArn: d.RoleArn, Type: d.Type,
		Logging: d.Logging, Tracing: d.Tracing, Encryption: d.Encryption,
		CreationDate: d.Created, UpdateDate: d.Updated, RevisionID: d.RevisionID,
	}
}

// sameRevision reports whether two revisions have the same definition, role and configurations.
func sameRevision(a, b *machineData) bool {
	return a.Definition == b.Definition && a.RoleArn == b.RoleArn && reflect.DeepEqual(a.Logging, b.Logging) &&
		reflect.DeepEqual(a.Tracing, b.Tracing) && reflect.DeepEqual(a.Encryption, b.Encryption)
}

// sameCreate reports whether a CreateStateMachine that would store b repeats the one that stored
// a. AWS compares the name, definition, type, logging, tracing and encryption configurations,
// publish and versionDescription; a different roleArn or tags are ignored (and not applied).
func sameCreate(a, b *machineData) bool {
	return a.Definition == b.Definition && a.Type == b.Type && reflect.DeepEqual(a.Logging, b.Logging) &&
		reflect.DeepEqual(a.Tracing, b.Tracing) && reflect.DeepEqual(a.Encryption, b.Encryption) &&
		a.Publish == b.Publish && reflect.DeepEqual(a.VersionDescription, b.VersionDescription)
}

// machineName resolves a state machine ARN to the machine's name and the ARN's qualifier (a
// version number or an alias name, "" for none). An ARN of another partition, region or account,
// or one that names a Map Run label ("name/label"), names no state machine here.
func (s *Service) machineName(arn string) (name, qualifier string, err error) {
	a, err := sfn.ParseARN(arn, "stateMachine")
	if err != nil {
		return "", "", err
	}
	if !s.cfg.ARN.Local(a) || strings.Contains(a.Parts[0], "/") {
		return "", "", errNoMachine(arn)
	}
	if len(a.Parts) > 1 {
		qualifier = a.Parts[1]
	}
	return a.Parts[0], qualifier, nil
}

// unqualified resolves the ARN of an action that applies to a machine itself, never to one of
// its versions or aliases (ValidationException, as AWS answers a qualified ARN there).
func (s *Service) unqualified(arn string) (string, error) {
	name, q, err := s.machineName(arn)
	if err != nil {
		return "", err
	}
	if q != "" {
		return "", sfn.Errorf(sfn.KindValidation, "Invalid input: '%s' is a qualified state machine ARN; "+
			"this action takes the state machine's unqualified ARN", arn)
	}
	return name, nil
}

func errNoMachine(arn string) error {
	return sfn.Errorf(sfn.KindStateMachineDoesNotExist, "State Machine Does Not Exist: '%s'", arn)
}

// newRevision returns a fresh revision ID.
func newRevision() string { return uuid.NewString() }

// now returns the clock's time at the millisecond, the precision timestamps are answered with,
// so that what is stored and what is answered agree.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Millisecond) }

// LookupStateMachine returns the state machine, or the published version, that arn names. The
// error is an [*sfn.Error]: InvalidArn for a malformed ARN, StateMachineDoesNotExist for one that
// names nothing here (another region or account, an unknown name or version, an alias: Duro
// has none).
func (s *Service) LookupStateMachine(ctx context.Context, arn string) (*StateMachine, error) {
	name, q, err := s.machineName(arn)
	if err != nil {
		return nil, err
	}
	_, d, err := getRecord[machineData](ctx, s, kindMachine, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoMachine(arn)
	}
	if err != nil {
		return nil, err
	}
	machineARN := s.cfg.ARN.StateMachineARN(name)
	if q == "" {
		return d.view(machineARN, name), nil
	}
	n, ok := parseVersion(q)
	if !ok {
		return nil, errNoMachine(arn)
	}
	ref, ok := findVersion(d.Versions, n)
	if !ok {
		return nil, errNoMachine(arn)
	}
	_, v, err := getRecord[versionData](ctx, s, kindVersion, ref.Record)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoMachine(arn)
	}
	if err != nil {
		return nil, err
	}
	m := &StateMachine{
		ARN: versionARN(machineARN, n), MachineARN: machineARN, Name: name, Version: n,
		Definition: v.Definition, RoleArn: v.RoleArn, Type: v.Type,
		Logging: v.Logging, Tracing: v.Tracing, Encryption: v.Encryption,
		CreationDate: v.Created, UpdateDate: v.Created, RevisionID: v.RevisionID,
	}
	if v.Description != nil {
		m.Description = *v.Description
	}
	return m, nil
}

// CreateStateMachine creates a state machine, idempotently: repeating a creation returns the
// existing machine's ARN and creation date (see [sameCreate] for what must match), anything else
// under a taken name is StateMachineAlreadyExists.
//
// EXPRESS is accepted and stored as AWS accepts it; how its executions run is the execution
// half's business.
func (s *Service) CreateStateMachine(ctx context.Context, in *sfn.CreateStateMachineInput) (*sfn.CreateStateMachineOutput, error) {
	now := s.now()
	d := &machineData{
		Definition: in.Definition, RoleArn: in.RoleArn, Type: in.Type,
		Tracing: normTracing(in.TracingConfiguration), Created: now, Updated: now, RevisionID: newRevision(),
		Publish: in.Publish, VersionDescription: in.VersionDescription,
	}
	if d.Type == "" {
		d.Type = "STANDARD"
	}
	var err error
	if d.Logging, err = normLogging(in.LoggingConfiguration); err != nil {
		return nil, err
	}
	if d.Encryption, err = normEncryption(in.EncryptionConfiguration); err != nil {
		return nil, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return nil, err
	}
	arn := s.cfg.ARN.StateMachineARN(in.Name)
	if d.Tags = mergeTags(nil, in.Tags); len(d.Tags) > maxTags {
		return nil, tooManyTags(arn)
	}
	for range maxCASAttempts {
		// The common repeat (a client retrying) costs one read and no write.
		_, old, err := getRecord[machineData](ctx, s, kindMachine, in.Name)
		if err == nil {
			return s.repeatCreate(arn, old, d)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		if in.Publish {
			ref, err := s.publish(ctx, in.Name, 1, d, in.VersionDescription, now)
			if err != nil {
				return nil, err
			}
			d.Versions = []versionRef{ref}
		}
		_, err = s.putRecord(ctx, kindMachine, in.Name, 0, d)
		if err == nil {
			out := &sfn.CreateStateMachineOutput{StateMachineArn: arn, CreationDate: sfn.Timestamp{Time: now}}
			if in.Publish {
				out.StateMachineVersionArn = versionARN(arn, 1)
			}
			return out, nil
		}
		s.dropVersions(ctx, d.Versions)
		d.Versions = nil
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
		// Another request created it first: compare with it on the next round.
	}
	return nil, errContended(kindMachine, in.Name)
}

// repeatCreate answers a CreateStateMachine whose name exists: the existing machine if the
// request repeats its creation, else StateMachineAlreadyExists.
func (s *Service) repeatCreate(arn string, old, d *machineData) (*sfn.CreateStateMachineOutput, error) {
	if !sameCreate(old, d) {
		return nil, sfn.Errorf(sfn.KindStateMachineAlreadyExists, "State Machine Already Exists: '%s'", arn)
	}
	out := &sfn.CreateStateMachineOutput{StateMachineArn: arn, CreationDate: sfn.Timestamp{Time: old.Created}}
	if old.Publish && len(old.Versions) > 0 && old.Versions[0].Number == 1 {
		out.StateMachineVersionArn = versionARN(arn, 1)
	}
	return out, nil
}

// DescribeStateMachine describes a state machine or one of its published versions.
func (s *Service) DescribeStateMachine(ctx context.Context, in *sfn.DescribeStateMachineInput) (*sfn.DescribeStateMachineOutput, error) {
	m, err := s.LookupStateMachine(ctx, in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	out := &sfn.DescribeStateMachineOutput{
		StateMachineArn: m.ARN, Name: m.Name, Status: "ACTIVE", Definition: m.Definition, RoleArn: m.RoleArn,
		Type: m.Type, CreationDate: sfn.Timestamp{Time: m.CreationDate}, LoggingConfiguration: m.Logging,
		TracingConfiguration: m.Tracing, RevisionID: m.RevisionID, Description: m.Description,
		EncryptionConfiguration: m.Encryption,
	}
	if in.IncludedData == "METADATA_ONLY" {
		// As AWS: the definition is left out (as "{}"), for callers without access to its key.
		out.Definition = "{}"
	}
	return out, nil
}

// UpdateStateMachine replaces the definition, role and configurations it is given, and with
// publish=true publishes the resulting revision as a new version (or answers the latest version
// when it already froze that revision, as AWS does). The type cannot change.
func (s *Service) UpdateStateMachine(ctx context.Context, in *sfn.UpdateStateMachineInput) (*sfn.UpdateStateMachineOutput, error) {
	if in.Definition == nil && in.RoleArn == nil && in.LoggingConfiguration == nil && in.TracingConfiguration == nil && in.EncryptionConfiguration == nil {
		return nil, sfn.Errorf(sfn.KindMissingRequiredParameter,
			"Either the definition, roleArn, loggingConfiguration, tracingConfiguration or encryptionConfiguration must be specified")
	}
	name, err := s.unqualified(in.StateMachineArn)
	if err != nil {
		return nil, err
	}
	var logging *sfn.LoggingConfiguration
	if in.LoggingConfiguration != nil {
		if logging, err = normLogging(in.LoggingConfiguration); err != nil {
			return nil, err
		}
	}
	var encryption *sfn.EncryptionConfiguration
	if in.EncryptionConfiguration != nil {
		if encryption, err = normEncryption(in.EncryptionConfiguration); err != nil {
			return nil, err
		}
	}
	arn := s.cfg.ARN.StateMachineARN(name)
	for range maxCASAttempts {
		r, d, err := getRecord[machineData](ctx, s, kindMachine, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoMachine(in.StateMachineArn)
		}
		if err != nil {
			return nil, err
		}
		before := *d
		if in.Definition != nil {
			d.Definition = *in.Definition
		}
		if in.RoleArn != nil {
			d.RoleArn = *in.RoleArn
		}
		if logging != nil {
			d.Logging = logging
		}
		if in.TracingConfiguration != nil {
			d.Tracing = normTracing(in.TracingConfiguration)
		}
		if encryption != nil {
			d.Encryption = encryption
		}
		if !sameRevision(&before, d) {
			d.RevisionID = newRevision()
		}
		now := s.now()
		d.Updated = now
		var published []versionRef
		out := &sfn.UpdateStateMachineOutput{UpdateDate: sfn.Timestamp{Time: now}, RevisionID: d.RevisionID}
		if in.Publish {
			last := len(d.Versions) - 1
			if last >= 0 && d.Versions[last].RevisionID == d.RevisionID {
				out.StateMachineVersionArn = versionARN(arn, d.Versions[last].Number)
			} else {
				if len(d.Versions) >= maxVersions {
					return nil, sfn.Errorf(sfn.KindServiceQuotaExceeded,
						"Service quota exceeded: a state machine can have at most %d versions", maxVersions)
				}
				n := int64(1)
				if last >= 0 {
					n = d.Versions[last].Number + 1
				}
				ref, err := s.publish(ctx, name, n, d, in.VersionDescription, now)
				if err != nil {
					return nil, err
				}
				published = append(published, ref)
				d.Versions = append(d.Versions, ref)
				out.StateMachineVersionArn = versionARN(arn, n)
			}
		}
		_, err = s.putRecord(ctx, kindMachine, name, r.Version, d)
		if err == nil {
			return out, nil
		}
		s.dropVersions(ctx, published)
		if errors.Is(err, store.ErrNotFound) {
			return nil, errNoMachine(in.StateMachineArn)
		}
		if !errors.Is(err, store.ErrConflict) {
			return nil, err
		}
	}
	return nil, errContended(kindMachine, name)
}

// DeleteStateMachine deletes a state machine with its versions. Deleting one that does not
// exist succeeds, as in AWS (whose deletion is asynchronous and idempotent).
//
// AWS keeps a machine DELETING until its running executions end; here the record goes at once.
// Executions hold what they run, so they are not affected.
func (s *Service) DeleteStateMachine(ctx context.Context, in *sfn.ARNInput) error {
	name, err := s.unqualified(in.StateMachineArn)
	if isKind(err, sfn.KindStateMachineDoesNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for range maxCASAttempts {
		r, d, err := getRecord[machineData](ctx, s, kindMachine, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		err = s.deleteRecord(ctx, kindMachine, name, r.Version)
		if errors.Is(err, store.ErrConflict) {
			continue // updated meanwhile: delete what it became, versions included
		}
		if err != nil {
			return err
		}
		s.dropVersions(ctx, d.Versions)
		return nil
	}
	return errContended(kindMachine, name)
}

// ListStateMachines lists state machines in name order, a page at a time.
func (s *Service) ListStateMachines(ctx context.Context, in *sfn.ListInput) (*sfn.ListStateMachinesOutput, error) {
	recs, next, err := s.listPage(ctx, kindMachine, in)
	if err != nil {
		return nil, err
	}
	out := &sfn.ListStateMachinesOutput{StateMachines: make([]sfn.StateMachineListItem, 0, len(recs)), NextToken: next}
	for _, r := range recs {
		d, err := decode[machineData](r)
		if err != nil {
			return nil, err
		}
		out.StateMachines = append(out.StateMachines, sfn.StateMachineListItem{
			StateMachineArn: s.cfg.ARN.StateMachineARN(r.Name), Name: r.Name, Type: d.Type,
			CreationDate: sfn.Timestamp{Time: d.Created},
		})
	}
	return out, nil
}

// activityData is the Data of a "sfn.activity" record.
type activityData struct {
	Created    time.Time                    `json:"created"`
	Encryption *sfn.EncryptionConfiguration `json:"encryption"`
	Tags       []sfn.Tag                    `json:"tags,omitempty"`
}

// Activity is an activity, as the execution half needs it.
type Activity struct {
	ARN          string
	Name         string
	CreationDate time.Time
	Encryption   *sfn.EncryptionConfiguration
}

// activityName resolves an activity ARN to the activity's name; an ARN of another partition,
// region or account names no activity here.
func (s *Service) activityName(arn string) (string, error) {
	a, err := sfn.ParseARN(arn, "activity")
	if err != nil {
		return "", err
	}
	if !s.cfg.ARN.Local(a) {
		return "", errNoActivity(arn)
	}
	return a.Parts[0], nil
}

func errNoActivity(arn string) error {
	return sfn.Errorf(sfn.KindActivityDoesNotExist, "Activity Does Not Exist: '%s'", arn)
}

// LookupActivity returns the activity arn names. The error is an [*sfn.Error]: InvalidArn for a
// malformed ARN, ActivityDoesNotExist for one that names nothing here.
func (s *Service) LookupActivity(ctx context.Context, arn string) (*Activity, error) {
	name, err := s.activityName(arn)
	if err != nil {
		return nil, err
	}
	_, d, err := getRecord[activityData](ctx, s, kindActivity, name)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoActivity(arn)
	}
	if err != nil {
		return nil, err
	}
	return &Activity{ARN: s.cfg.ARN.ActivityARN(name), Name: name, CreationDate: d.Created, Encryption: d.Encryption}, nil
}

// CreateActivity creates an activity, idempotently on its name as AWS: a repeat returns the
// existing activity's ARN and creation date whatever its tags and encryption configuration say
// (they are not applied).
func (s *Service) CreateActivity(ctx context.Context, in *sfn.CreateActivityInput) (*sfn.CreateActivityOutput, error) {
	arn := s.cfg.ARN.ActivityARN(in.Name)
	d := &activityData{Created: s.now()}
	var err error
	if d.Encryption, err = normEncryption(in.EncryptionConfiguration); err != nil {
		return nil, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return nil, err
	}
	if d.Tags = mergeTags(nil, in.Tags); len(d.Tags) > maxTags {
		return nil, tooManyTags(arn)
	}
	for range maxCASAttempts {
		_, old, err := getRecord[activityData](ctx, s, kindActivity, in.Name)
		if err == nil {
			return &sfn.CreateActivityOutput{ActivityArn: arn, CreationDate: sfn.Timestamp{Time: old.Created}}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		_, err = s.putRecord(ctx, kindActivity, in.Name, 0, d)
		if err == nil {
			return &sfn.CreateActivityOutput{ActivityArn: arn, CreationDate: sfn.Timestamp{Time: d.Created}}, nil
		}
		if !errors.Is(err, store.ErrAlreadyExists) {
			return nil, err
		}
	}
	return nil, errContended(kindActivity, in.Name)
}

// DescribeActivity describes an activity.
func (s *Service) DescribeActivity(ctx context.Context, in *sfn.ARNInput) (*sfn.DescribeActivityOutput, error) {
	a, err := s.LookupActivity(ctx, in.ActivityArn)
	if err != nil {
		return nil, err
	}
	return &sfn.DescribeActivityOutput{ActivityArn: a.ARN, Name: a.Name, CreationDate: sfn.Timestamp{Time: a.CreationDate},
		EncryptionConfiguration: a.Encryption}, nil
}

// DeleteActivity deletes an activity. Deleting one that does not exist succeeds, as in AWS.
func (s *Service) DeleteActivity(ctx context.Context, in *sfn.ARNInput) error {
	name, err := s.activityName(in.ActivityArn)
	if isKind(err, sfn.KindActivityDoesNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	for range maxCASAttempts {
		r, err := s.store.GetRecord(ctx, s.cfg.Namespace, kindActivity, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("read %s %q: %w", kindActivity, name, err)
		}
		err = s.deleteRecord(ctx, kindActivity, name, r.Version)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return errContended(kindActivity, name)
}

// ListActivities lists activities in name order, a page at a time.
func (s *Service) ListActivities(ctx context.Context, in *sfn.ListInput) (*sfn.ListActivitiesOutput, error) {
	recs, next, err := s.listPage(ctx, kindActivity, in)
	if err != nil {
		return nil, err
	}
	out := &sfn.ListActivitiesOutput{Activities: make([]sfn.ActivityListItem, 0, len(recs)), NextToken: next}
	for _, r := range recs {
		d, err := decode[activityData](r)
		if err != nil {
			return nil, err
		}
		out.Activities = append(out.Activities, sfn.ActivityListItem{
			ActivityArn: s.cfg.ARN.ActivityARN(r.Name), Name: r.Name, CreationDate: sfn.Timestamp{Time: d.Created},
		})
	}
	return out, nil
}
