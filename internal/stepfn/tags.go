package stepfn

import (
	"context"
	"errors"

	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
)

// Tags of state machines and activities live in their records, so a tag change is one
// compare-and-swap of the resource's record and concurrent changes (on any node) all land. Tags
// are not part of a machine's revision: changing them neither updates the machine nor makes a new
// revision. Keys keep the order they were first added in.

// TagResource adds tags to a state machine or an activity, replacing the values of keys it
// already has; more than 50 tags in all is TooManyTags, and nothing is changed.
func (s *Service) TagResource(ctx context.Context, in *sfn.TagResourceInput) error {
	if err := checkTags("tags", in.Tags); err != nil {
		return err
	}
	return s.editTags(ctx, in.ResourceArn, func(tags []sfn.Tag) ([]sfn.Tag, error) {
		out := mergeTags(tags, in.Tags)
		if len(out) > maxTags {
			return nil, tooManyTags(in.ResourceArn)
		}
		return out, nil
	})
}

// UntagResource removes tags by key; keys the resource does not have are ignored.
func (s *Service) UntagResource(ctx context.Context, in *sfn.UntagResourceInput) error {
	if err := checkTagKeys(in.TagKeys); err != nil {
		return err
	}
	return s.editTags(ctx, in.ResourceArn, func(tags []sfn.Tag) ([]sfn.Tag, error) {
		return removeTags(tags, in.TagKeys), nil
	})
}

// ListTagsForResource lists a state machine's or an activity's tags.
func (s *Service) ListTagsForResource(ctx context.Context, in *sfn.ARNInput) (*sfn.ListTagsForResourceOutput, error) {
	kind, name, err := s.tagged(in.ResourceArn)
	if err != nil {
		return nil, err
	}
	var tags []sfn.Tag
	switch kind {
	case kindMachine:
		var d *machineData
		_, d, err = getRecord[machineData](ctx, s, kind, name)
		if d != nil {
			tags = d.Tags
		}
	default:
		var d *activityData
		_, d, err = getRecord[activityData](ctx, s, kind, name)
		if d != nil {
			tags = d.Tags
		}
	}
	if errors.Is(err, store.ErrNotFound) {
		return nil, errNoResource(in.ResourceArn)
	}
	if err != nil {
		return nil, err
	}
	return &sfn.ListTagsForResourceOutput{Tags: tags}, nil
}

// editTags replaces the tags of the resource arn names with what f makes of them, in a
// compare-and-swap loop.
func (s *Service) editTags(ctx context.Context, arn string, f func([]sfn.Tag) ([]sfn.Tag, error)) error {
	kind, name, err := s.tagged(arn)
	if err != nil {
		return err
	}
	switch kind {
	case kindMachine:
		_, err = mutate(ctx, s, kind, name, func(d *machineData) (err error) {
			d.Tags, err = f(d.Tags)
			return err
		})
	default:
		_, err = mutate(ctx, s, kind, name, func(d *activityData) (err error) {
			d.Tags, err = f(d.Tags)
			return err
		})
	}
	if errors.Is(err, store.ErrNotFound) {
		return errNoResource(arn)
	}
	return err
}

// tagged resolves the ARN of a taggable resource to its record: a state machine or an activity
// of this partition, region and account. Anything else (another account, a version or alias
// ARN, a Map Run label) is ResourceNotFound.
func (s *Service) tagged(arn string) (kind, name string, err error) {
	a, err := sfn.ParseARN(arn, "stateMachine", "activity")
	if err != nil {
		return "", "", err
	}
	if !s.cfg.ARN.Local(a) || len(a.Parts) != 1 || !sfn.ValidName(a.Parts[0]) {
		return "", "", errNoResource(arn)
	}
	if a.Resource == "activity" {
		return kindActivity, a.Parts[0], nil
	}
	return kindMachine, a.Parts[0], nil
}

func errNoResource(arn string) error {
	e := sfn.Errorf(sfn.KindResourceNotFound, "Resource not found: '%s'", arn)
	e.ResourceName = arn
	return e
}
