package stepfn_test

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store/storeopen"
)

func createMachine(t *testing.T, b *testBundle, name, def string) *sdk.CreateStateMachineOutput {
	t.Helper()
	out, err := b.client.CreateStateMachine(t.Context(), &sdk.CreateStateMachineInput{
		Name: aws.String(name), Definition: aws.String(def), RoleArn: aws.String(role),
	})
	require.NoError(t, err)
	return out
}

func TestStateMachineLifecycle(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		def := passDef("one")
		before := b.clock.Now()
		created, err := b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{
			Name: aws.String("orders"), Definition: aws.String(def), RoleArn: aws.String(role),
			Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("billing")}},
		})
		require.NoError(t, err)
		arn := arnCfg.StateMachineARN("orders")
		require.Equal(t, arn, aws.ToString(created.StateMachineArn))
		require.Nil(t, created.StateMachineVersionArn, "no version without publish")
		requireBetween(t, before, aws.ToTime(created.CreationDate), b.clock.Now())

		got, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, def, aws.ToString(got.Definition), "the definition comes back byte for byte")
		require.Equal(t, "orders", aws.ToString(got.Name))
		require.Equal(t, arn, aws.ToString(got.StateMachineArn))
		require.Equal(t, role, aws.ToString(got.RoleArn))
		require.Equal(t, types.StateMachineTypeStandard, got.Type)
		require.Equal(t, types.StateMachineStatusActive, got.Status)
		require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(got.CreationDate))
		require.Equal(t, &types.LoggingConfiguration{Level: types.LogLevelOff}, got.LoggingConfiguration)
		require.Equal(t, &types.TracingConfiguration{Enabled: false}, got.TracingConfiguration)
		require.Equal(t, &types.EncryptionConfiguration{Type: types.EncryptionTypeAwsOwnedKey}, got.EncryptionConfiguration)
		require.NotEmpty(t, aws.ToString(got.RevisionId))
		rev1 := aws.ToString(got.RevisionId)

		meta, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn), IncludedData: types.IncludedDataMetadataOnly})
		require.NoError(t, err)
		require.Equal(t, "{}", aws.ToString(meta.Definition), "METADATA_ONLY leaves the definition out")

		// A new definition: a new revision and an update date; the creation date stays.
		b.clock.Advance(time.Hour)
		def2 := passDef("two")
		before = b.clock.Now()
		upd, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def2)})
		require.NoError(t, err)
		require.Nil(t, upd.StateMachineVersionArn)
		requireBetween(t, before, aws.ToTime(upd.UpdateDate), b.clock.Now())
		require.NotEqual(t, rev1, aws.ToString(upd.RevisionId))
		got, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, def2, aws.ToString(got.Definition))
		require.Equal(t, role, aws.ToString(got.RoleArn))
		require.Equal(t, aws.ToString(upd.RevisionId), aws.ToString(got.RevisionId))
		require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(got.CreationDate))

		// The role alone, then tracing alone.
		role2 := "arn:aws:iam::123456789012:role/other"
		upd2, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), RoleArn: aws.String(role2)})
		require.NoError(t, err)
		require.NotEqual(t, aws.ToString(upd.RevisionId), aws.ToString(upd2.RevisionId))
		upd3, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn),
			TracingConfiguration: &types.TracingConfiguration{Enabled: true}})
		require.NoError(t, err)
		got, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, def2, aws.ToString(got.Definition))
		require.Equal(t, role2, aws.ToString(got.RoleArn))
		require.True(t, got.TracingConfiguration.Enabled)
		require.Equal(t, aws.ToString(upd3.RevisionId), aws.ToString(got.RevisionId))

		// An update that changes nothing keeps the revision.
		same, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def2)})
		require.NoError(t, err)
		require.Equal(t, aws.ToString(upd3.RevisionId), aws.ToString(same.RevisionId))

		// The execution half's view.
		m, err := b.svc.LookupStateMachine(ctx, arn)
		require.NoError(t, err)
		require.Equal(t, def2, m.Definition)
		require.Equal(t, "orders", m.Name)
		require.Equal(t, arn, m.ARN)
		require.Equal(t, arn, m.MachineARN)
		require.Equal(t, role2, m.RoleArn)
		require.Equal(t, "STANDARD", m.Type)
		require.Equal(t, aws.ToString(same.RevisionId), m.RevisionID)
		require.Equal(t, aws.ToTime(created.CreationDate), m.CreationDate.UTC())
		require.Equal(t, aws.ToTime(same.UpdateDate), m.UpdateDate.UTC())
		require.Zero(t, m.Version)

		// Delete, then everything about it is gone; deleting again succeeds, as in AWS.
		_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		_, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		errAs[*types.StateMachineDoesNotExist](t, err)
		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def)})
		errAs[*types.StateMachineDoesNotExist](t, err)
		_, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		errAs[*types.ResourceNotFound](t, err)
		_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		_, err = b.svc.LookupStateMachine(ctx, arn)
		require.Equal(t, sfn.KindStateMachineDoesNotExist, errAs[*sfn.Error](t, err).Kind)

		// The name is free again, with nothing of the old machine left.
		again := createMachine(t, b, "orders", def)
		require.Equal(t, arn, aws.ToString(again.StateMachineArn))
		tags, err := b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		require.NoError(t, err)
		require.Empty(t, tags.Tags)
	})
}

func TestCreateStateMachineIdempotent(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		def := passDef("x")
		in := func() *sdk.CreateStateMachineInput {
			return &sdk.CreateStateMachineInput{
				Name: aws.String("idem"), Definition: aws.String(def), RoleArn: aws.String(role),
				Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}},
			}
		}
		first, err := b.client.CreateStateMachine(ctx, in())
		require.NoError(t, err)
		b.clock.Advance(time.Hour)

		// Identical, and identical but for roleArn and tags (which AWS ignores and does not apply),
		// and spelling out the defaults: the first machine, its ARN and creation date.
		other := in()
		other.RoleArn = aws.String("arn:aws:iam::123456789012:role/ignored")
		other.Tags = []types.Tag{{Key: aws.String("b"), Value: aws.String("2")}}
		defaults := in()
		defaults.Type = types.StateMachineTypeStandard
		defaults.LoggingConfiguration = &types.LoggingConfiguration{Level: types.LogLevelOff}
		defaults.TracingConfiguration = &types.TracingConfiguration{Enabled: false}
		defaults.EncryptionConfiguration = &types.EncryptionConfiguration{Type: types.EncryptionTypeAwsOwnedKey}
		for i, again := range []*sdk.CreateStateMachineInput{in(), other, defaults} {
			out, err := b.client.CreateStateMachine(ctx, again)
			require.NoError(t, err, "repeat %d", i)
			require.Equal(t, aws.ToString(first.StateMachineArn), aws.ToString(out.StateMachineArn))
			require.Equal(t, aws.ToTime(first.CreationDate), aws.ToTime(out.CreationDate), "repeat %d", i)
		}
		got, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: first.StateMachineArn})
		require.NoError(t, err)
		require.Equal(t, role, aws.ToString(got.RoleArn), "a repeat does not change the role")
		tags, err := b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: first.StateMachineArn})
		require.NoError(t, err)
		require.Equal(t, []string{"a=1"}, pairs(tags.Tags), "a repeat does not change the tags")

		// Anything AWS compares, changed: StateMachineAlreadyExists.
		changes := map[string]func(*sdk.CreateStateMachineInput){
			"definition": func(in *sdk.CreateStateMachineInput) { in.Definition = aws.String(passDef("y")) },
			"type":       func(in *sdk.CreateStateMachineInput) { in.Type = types.StateMachineTypeExpress },
			"logging": func(in *sdk.CreateStateMachineInput) {
				in.LoggingConfiguration = &types.LoggingConfiguration{Level: types.LogLevelOff, IncludeExecutionData: true}
			},
			"tracing": func(in *sdk.CreateStateMachineInput) {
				in.TracingConfiguration = &types.TracingConfiguration{Enabled: true}
			},
			"encryption": func(in *sdk.CreateStateMachineInput) {
				in.EncryptionConfiguration = &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k")}
			},
			"publish": func(in *sdk.CreateStateMachineInput) { in.Publish = true },
		}
		for what, change := range changes {
			in := in()
			change(in)
			_, err := b.client.CreateStateMachine(ctx, in)
			errAs[*types.StateMachineAlreadyExists](t, err, "another %s", what)
		}

		// Concurrent first creations: one machine, and every caller gets its ARN and date.
		const n = 8
		outs := make([]*sdk.CreateStateMachineOutput, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				outs[i], errs[i] = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{
					Name: aws.String("race"), Definition: aws.String(def), RoleArn: aws.String(role),
				})
			})
		}
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i])
			require.Equal(t, aws.ToTime(outs[0].CreationDate), aws.ToTime(outs[i].CreationDate))
			require.Equal(t, arnCfg.StateMachineARN("race"), aws.ToString(outs[i].StateMachineArn))
		}
	})
}

func TestStateMachineErrors(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		arn := aws.ToString(createMachine(t, b, "m", passDef("a")).StateMachineArn)
		missing := arnCfg.StateMachineARN("nope")
		elsewhere := []string{
			"arn:aws:states:eu-west-1:123456789012:stateMachine:m", // another region
			"arn:aws:states:us-east-1:210987654321:stateMachine:m", // another account
			"arn:aws-cn:states:us-east-1:123456789012:stateMachine:m",
		}
		for _, a := range append([]string{missing}, elsewhere...) {
			_, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(a)})
			errAs[*types.StateMachineDoesNotExist](t, err)
			_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(a), Definition: aws.String(passDef("b"))})
			errAs[*types.StateMachineDoesNotExist](t, err)
			_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(a)})
			require.NoError(t, err, "deleting what does not exist succeeds")
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(a), Tags: []types.Tag{{Key: aws.String("k")}}})
			errAs[*types.ResourceNotFound](t, err)
		}
		// The elsewhere ARNs deleted nothing here.
		_, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)

		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn)})
		errAs[*types.MissingRequiredParameter](t, err)
		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn + ":1"), Definition: aws.String(passDef("b"))})
		errAs[*types.ValidationException](t, err)
		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(`{"StartAt":"X","States":{}}`)})
		errAs[*types.InvalidDefinition](t, err)
		_, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arnCfg.ActivityARN("m"))})
		errAs[*types.InvalidArn](t, err)

		_, err = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("logs"), Definition: aws.String(passDef("a")), RoleArn: aws.String(role),
			LoggingConfiguration: &types.LoggingConfiguration{Level: types.LogLevelAll}})
		errAs[*types.InvalidLoggingConfiguration](t, err)
		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn),
			LoggingConfiguration: &types.LoggingConfiguration{Level: types.LogLevelError}})
		errAs[*types.InvalidLoggingConfiguration](t, err)
		_, err = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("kms"), Definition: aws.String(passDef("a")), RoleArn: aws.String(role),
			EncryptionConfiguration: &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey}})
		errAs[*types.InvalidEncryptionConfiguration](t, err)
		_, err = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("kms"), Definition: aws.String(passDef("a")), RoleArn: aws.String(role),
			EncryptionConfiguration: &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("k"), KmsDataKeyReusePeriodSeconds: aws.Int32(30)}})
		errAs[*types.ValidationException](t, err)
		_, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arnCfg.StateMachineARN("logs"))})
		errAs[*types.StateMachineDoesNotExist](t, err)

		// Configurations that pass are stored with AWS's defaults filled in.
		lg := "arn:aws:logs:us-east-1:123456789012:log-group:g:*"
		_, err = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("configured"), Definition: aws.String(passDef("a")), RoleArn: aws.String(role),
			Type:                    types.StateMachineTypeExpress,
			LoggingConfiguration:    &types.LoggingConfiguration{Level: types.LogLevelAll, IncludeExecutionData: true, Destinations: []types.LogDestination{{CloudWatchLogsLogGroup: &types.CloudWatchLogsLogGroup{LogGroupArn: aws.String(lg)}}}},
			EncryptionConfiguration: &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k")}})
		require.NoError(t, err)
		got, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arnCfg.StateMachineARN("configured"))})
		require.NoError(t, err)
		require.Equal(t, types.StateMachineTypeExpress, got.Type)
		require.Equal(t, types.LogLevelAll, got.LoggingConfiguration.Level)
		require.True(t, got.LoggingConfiguration.IncludeExecutionData)
		require.Equal(t, lg, aws.ToString(got.LoggingConfiguration.Destinations[0].CloudWatchLogsLogGroup.LogGroupArn))
		require.Equal(t, &types.EncryptionConfiguration{Type: types.EncryptionTypeCustomerManagedKmsKey, KmsKeyId: aws.String("alias/k"), KmsDataKeyReusePeriodSeconds: aws.Int32(300)}, got.EncryptionConfiguration)

		// The execution half's lookups answer *sfn.Error.
		_, err = b.svc.LookupStateMachine(ctx, "not an arn")
		require.Equal(t, sfn.KindInvalidArn, errAs[*sfn.Error](t, err).Kind)
		for _, a := range append([]string{missing, arn + ":PROD", arn + ":0", arn + ":01", arn + "/label"}, elsewhere...) {
			_, err = b.svc.LookupStateMachine(ctx, a)
			require.Equal(t, sfn.KindStateMachineDoesNotExist, errAs[*sfn.Error](t, err).Kind, a)
		}
	})
}

func TestStateMachineVersions(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		def1 := passDef("v1")
		in := &sdk.CreateStateMachineInput{Name: aws.String("ver"), Definition: aws.String(def1), RoleArn: aws.String(role),
			Publish: true, VersionDescription: aws.String("first")}
		created, err := b.client.CreateStateMachine(ctx, in)
		require.NoError(t, err)
		arn := aws.ToString(created.StateMachineArn)
		require.Equal(t, arn+":1", aws.ToString(created.StateMachineVersionArn))
		again, err := b.client.CreateStateMachine(ctx, in)
		require.NoError(t, err, "an identical publishing create is a repeat")
		require.Equal(t, arn+":1", aws.ToString(again.StateMachineVersionArn))

		b.clock.Advance(time.Minute)
		def2 := passDef("v2")
		upd, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def2), Publish: true})
		require.NoError(t, err)
		require.Equal(t, arn+":2", aws.ToString(upd.StateMachineVersionArn))
		// Nothing changed since version 2: publishing answers version 2 again.
		same, err := b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(def2), Publish: true})
		require.NoError(t, err)
		require.Equal(t, arn+":2", aws.ToString(same.StateMachineVersionArn))
		// Change without publishing, then the current machine differs from both versions.
		_, err = b.client.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(arn), Definition: aws.String(passDef("v3"))})
		require.NoError(t, err)

		v1, err := b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
		require.NoError(t, err)
		require.Equal(t, arn+":1", aws.ToString(v1.StateMachineArn))
		require.Equal(t, def1, aws.ToString(v1.Definition))
		require.Equal(t, "first", aws.ToString(v1.Description))
		require.Equal(t, "ver", aws.ToString(v1.Name))
		require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(v1.CreationDate))
		v2, err := b.svc.LookupStateMachine(ctx, arn+":2")
		require.NoError(t, err)
		require.Equal(t, def2, v2.Definition)
		require.Equal(t, int64(2), v2.Version)
		require.Equal(t, arn, v2.MachineARN)
		require.Equal(t, aws.ToString(upd.RevisionId), v2.RevisionID)
		require.Equal(t, aws.ToTime(upd.UpdateDate), v2.CreationDate.UTC())
		cur, err := b.svc.LookupStateMachine(ctx, arn)
		require.NoError(t, err)
		require.Equal(t, passDef("v3"), cur.Definition)
		require.NotEqual(t, v2.RevisionID, cur.RevisionID)

		for _, a := range []string{arn + ":3", arn + ":PROD"} {
			_, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(a)})
			errAs[*types.StateMachineDoesNotExist](t, err)
		}
		_, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn + ":1")})
		errAs[*types.ResourceNotFound](t, err)
		_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
		errAs[*types.ValidationException](t, err)

		// Deleting the machine deletes its versions; a new machine of the same name starts at 1.
		_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(arn)})
		require.NoError(t, err)
		_, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
		errAs[*types.StateMachineDoesNotExist](t, err)
		def4 := passDef("v4")
		reborn, err := b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("ver"), Definition: aws.String(def4), RoleArn: aws.String(role), Publish: true})
		require.NoError(t, err)
		require.Equal(t, arn+":1", aws.ToString(reborn.StateMachineVersionArn))
		v1, err = b.client.DescribeStateMachine(ctx, &sdk.DescribeStateMachineInput{StateMachineArn: aws.String(arn + ":1")})
		require.NoError(t, err)
		require.Equal(t, def4, aws.ToString(v1.Definition))
		require.Nil(t, v1.Description)
	})
}

func TestListStateMachinesPaging(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		names := []string{"m5", "m1", "m7", "m3", "m2", "m6", "m4"}
		for _, n := range names {
			createMachine(t, b, n, passDef(n))
		}
		_, err := b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("m8"), Definition: aws.String(passDef("x")),
			RoleArn: aws.String(role), Type: types.StateMachineTypeExpress})
		require.NoError(t, err)
		want := []string{"m1", "m2", "m3", "m4", "m5", "m6", "m7", "m8"}

		var pages [][]string
		var token *string
		for {
			out, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 3, NextToken: token})
			require.NoError(t, err)
			var page []string
			for _, m := range out.StateMachines {
				page = append(page, aws.ToString(m.Name))
				require.Equal(t, arnCfg.StateMachineARN(aws.ToString(m.Name)), aws.ToString(m.StateMachineArn))
				require.NotZero(t, aws.ToTime(m.CreationDate))
				wantType := types.StateMachineTypeStandard
				if aws.ToString(m.Name) == "m8" {
					wantType = types.StateMachineTypeExpress
				}
				require.Equal(t, wantType, m.Type)
			}
			pages = append(pages, page)
			if out.NextToken == nil {
				break
			}
			token = out.NextToken
		}
		require.Equal(t, [][]string{{"m1", "m2", "m3"}, {"m4", "m5", "m6"}, {"m7", "m8"}}, pages)

		// maxResults 0 is 100: one page, no token.
		all, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{})
		require.NoError(t, err)
		require.Len(t, all.StateMachines, len(want))
		require.Nil(t, all.NextToken)

		// The SDK's paginator walks the same pages.
		var walked []string
		p := sdk.NewListStateMachinesPaginator(b.client, &sdk.ListStateMachinesInput{MaxResults: 3})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			require.NoError(t, err)
			for _, m := range out.StateMachines {
				walked = append(walked, aws.ToString(m.Name))
			}
		}
		require.Equal(t, want, walked)

		// A page exactly full ends the listing without an empty page after it.
		four, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 4})
		require.NoError(t, err)
		rest, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 4, NextToken: four.NextToken})
		require.NoError(t, err)
		require.Len(t, rest.StateMachines, 4)
		require.Nil(t, rest.NextToken)

		// Keyset tokens survive deletions: removing the last machine of page 1 skips nothing.
		first, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 3})
		require.NoError(t, err)
		_, err = b.client.DeleteStateMachine(ctx, &sdk.DeleteStateMachineInput{StateMachineArn: aws.String(arnCfg.StateMachineARN("m3"))})
		require.NoError(t, err)
		second, err := b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 3, NextToken: first.NextToken})
		require.NoError(t, err)
		require.Equal(t, "m4", aws.ToString(second.StateMachines[0].Name))

		// Bad tokens: garbage, an activity list's token, an expired one.
		acts := createActivities(t, b, "a1", "a2")
		actPage, err := b.client.ListActivities(ctx, &sdk.ListActivitiesInput{MaxResults: 1})
		require.NoError(t, err)
		require.Len(t, acts, 2)
		for _, tok := range []string{"garbage", "eyJrIjoic2Z", aws.ToString(actPage.NextToken)} {
			_, err = b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{NextToken: aws.String(tok)})
			errAs[*types.InvalidToken](t, err)
		}
		b.clock.Advance(25 * time.Hour)
		_, err = b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 3, NextToken: first.NextToken})
		errAs[*types.InvalidToken](t, err)
		_, err = b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 1001})
		requireCode(t, err, "ValidationException")
	})
}

func createActivities(t *testing.T, b *testBundle, names ...string) []string {
	t.Helper()
	var arns []string
	for _, n := range names {
		out, err := b.client.CreateActivity(t.Context(), &sdk.CreateActivityInput{Name: aws.String(n)})
		require.NoError(t, err)
		arns = append(arns, aws.ToString(out.ActivityArn))
	}
	return arns
}

func TestActivities(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		created, err := b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("worker"),
			Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
		require.NoError(t, err)
		arn := arnCfg.ActivityARN("worker")
		require.Equal(t, arn, aws.ToString(created.ActivityArn))

		got, err := b.client.DescribeActivity(ctx, &sdk.DescribeActivityInput{ActivityArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, "worker", aws.ToString(got.Name))
		require.Equal(t, arn, aws.ToString(got.ActivityArn))
		require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(got.CreationDate))
		require.Equal(t, &types.EncryptionConfiguration{Type: types.EncryptionTypeAwsOwnedKey}, got.EncryptionConfiguration)

		// Idempotent on the name alone: other tags are ignored, not applied.
		b.clock.Advance(time.Hour)
		again, err := b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("worker"),
			Tags: []types.Tag{{Key: aws.String("other"), Value: aws.String("x")}}})
		require.NoError(t, err)
		require.Equal(t, arn, aws.ToString(again.ActivityArn))
		require.Equal(t, aws.ToTime(created.CreationDate), aws.ToTime(again.CreationDate))
		tags, err := b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		require.NoError(t, err)
		require.Equal(t, []string{"k=v"}, pairs(tags.Tags))

		a, err := b.svc.LookupActivity(ctx, arn)
		require.NoError(t, err)
		require.Equal(t, "worker", a.Name)
		require.Equal(t, arn, a.ARN)
		require.Equal(t, aws.ToTime(created.CreationDate), a.CreationDate.UTC())

		// Paging across three pages, in name order.
		createActivities(t, b, "w4", "w2", "w5", "w1", "w3")
		var pages [][]string
		p := sdk.NewListActivitiesPaginator(b.client, &sdk.ListActivitiesInput{MaxResults: 2})
		for p.HasMorePages() {
			out, err := p.NextPage(ctx)
			require.NoError(t, err)
			var page []string
			for _, a := range out.Activities {
				page = append(page, aws.ToString(a.Name))
				require.Equal(t, arnCfg.ActivityARN(aws.ToString(a.Name)), aws.ToString(a.ActivityArn))
			}
			pages = append(pages, page)
		}
		require.Equal(t, [][]string{{"w1", "w2"}, {"w3", "w4"}, {"w5", "worker"}}, pages)
		_, err = b.client.ListActivities(ctx, &sdk.ListActivitiesInput{NextToken: aws.String("bm90IGEgdG9rZW4")})
		errAs[*types.InvalidToken](t, err)
		smPage, err := func() (*sdk.ListStateMachinesOutput, error) {
			createMachine(t, b, "s1", passDef("a"))
			createMachine(t, b, "s2", passDef("a"))
			return b.client.ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 1})
		}()
		require.NoError(t, err)
		_, err = b.client.ListActivities(ctx, &sdk.ListActivitiesInput{NextToken: smPage.NextToken})
		errAs[*types.InvalidToken](t, err)

		// Errors: missing, elsewhere, wrong resource type.
		for _, x := range []string{arnCfg.ActivityARN("nope"), "arn:aws:states:eu-west-1:123456789012:activity:worker", "arn:aws:states:us-east-1:210987654321:activity:worker"} {
			_, err = b.client.DescribeActivity(ctx, &sdk.DescribeActivityInput{ActivityArn: aws.String(x)})
			errAs[*types.ActivityDoesNotExist](t, err)
			_, err = b.svc.LookupActivity(ctx, x)
			require.Equal(t, sfn.KindActivityDoesNotExist, errAs[*sfn.Error](t, err).Kind)
			_, err = b.client.DeleteActivity(ctx, &sdk.DeleteActivityInput{ActivityArn: aws.String(x)})
			require.NoError(t, err, "deleting what does not exist succeeds")
			_, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(x)})
			errAs[*types.ResourceNotFound](t, err)
		}
		_, err = b.client.DescribeActivity(ctx, &sdk.DescribeActivityInput{ActivityArn: aws.String(arnCfg.StateMachineARN("worker"))})
		errAs[*types.InvalidArn](t, err)
		_, err = b.svc.LookupActivity(ctx, arnCfg.StateMachineARN("worker"))
		require.Equal(t, sfn.KindInvalidArn, errAs[*sfn.Error](t, err).Kind)
		_, err = b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("kms"),
			EncryptionConfiguration: &types.EncryptionConfiguration{Type: types.EncryptionTypeAwsOwnedKey, KmsKeyId: aws.String("k")}})
		errAs[*types.InvalidEncryptionConfiguration](t, err)

		// Delete; the name can be created anew, with a new creation date and no old tags.
		_, err = b.client.DeleteActivity(ctx, &sdk.DeleteActivityInput{ActivityArn: aws.String(arn)})
		require.NoError(t, err)
		_, err = b.client.DescribeActivity(ctx, &sdk.DescribeActivityInput{ActivityArn: aws.String(arn)})
		errAs[*types.ActivityDoesNotExist](t, err)
		_, err = b.client.DeleteActivity(ctx, &sdk.DeleteActivityInput{ActivityArn: aws.String(arn)})
		require.NoError(t, err)
		b.clock.Advance(time.Hour)
		reborn, err := b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("worker")})
		require.NoError(t, err)
		require.True(t, aws.ToTime(reborn.CreationDate).After(aws.ToTime(created.CreationDate)))
		tags, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
		require.NoError(t, err)
		require.Empty(t, tags.Tags)
	})
}

func tagList(kv ...string) []types.Tag {
	var tags []types.Tag
	for i := 0; i < len(kv); i += 2 {
		tags = append(tags, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return tags
}

// pairs renders tags as key=value, in order. An empty value and an absent one read alike: the
// protocol layer's Tag shape omits empty members.
func pairs(tags []types.Tag) []string {
	var out []string
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	return out
}

func TestTags(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		b := setup(t, spec)
		ctx := t.Context()
		machine := aws.ToString(createMachine(t, b, "tagged", passDef("a")).StateMachineArn)
		activity := createActivities(t, b, "tagged")[0]
		for _, arn := range []string{machine, activity} {
			list := func() []types.Tag {
				out, err := b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
				require.NoError(t, err)
				return out.Tags
			}
			require.Empty(t, list())
			_, err := b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("env", "dev", "team", "a")})
			require.NoError(t, err)
			// Merge: an existing key takes its new value in place, a new key is appended.
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("env", "prod", "cost", "42", "empty", "")})
			require.NoError(t, err)
			require.Equal(t, []string{"env=prod", "team=a", "cost=42", "empty="}, pairs(list()))
			// Untag ignores keys the resource does not have.
			_, err = b.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"team", "absent"}})
			require.NoError(t, err)
			require.Equal(t, []string{"env=prod", "cost=42", "empty="}, pairs(list()))

			// 50 tags at most: 47 more would make 50 (allowed, re-tagging a present key counts
			// once), one more is TooManyTags and changes nothing.
			var many []string
			for i := range 47 {
				many = append(many, fmt.Sprintf("k%02d", i), "v")
			}
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList(append(many, "env", "again")...)})
			require.NoError(t, err)
			require.Len(t, list(), 50)
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("one-more", "x", "env", "changed")})
			tooMany := errAs[*types.TooManyTags](t, err)
			require.Equal(t, arn, aws.ToString(tooMany.ResourceName))
			require.Len(t, list(), 50)
			require.Equal(t, "again", aws.ToString(list()[0].Value), "a refused TagResource changes nothing")

			// Characters outside AWS's tag pattern.
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("bad*key", "v")})
			requireCode(t, err, "ValidationException")
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("k", "bad\tvalue")})
			requireCode(t, err, "ValidationException")
			_, err = b.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"bad#key"}})
			requireCode(t, err, "ValidationException")
			// Letters of any script, digits, spaces and _ . : / = + - @ are fine.
			_, err = b.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k00", "k01"}})
			require.NoError(t, err)
			_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("Kunde Ü 7", "a_b.c:d/e=f+g-h@i")})
			require.NoError(t, err)
		}
		// A tagged machine keeps its revision: tags are not configuration.
		before, err := b.svc.LookupStateMachine(ctx, machine)
		require.NoError(t, err)
		_, err = b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(machine), Tags: tagList("k02", "changed")})
		require.NoError(t, err)
		after, err := b.svc.LookupStateMachine(ctx, machine)
		require.NoError(t, err)
		require.Equal(t, before.RevisionID, after.RevisionID)
		require.Equal(t, before.UpdateDate, after.UpdateDate)

		// Unknown resources and ARNs that are not taggable here.
		for _, arn := range []string{arnCfg.StateMachineARN("nope"), arnCfg.ActivityARN("nope"), machine + ":1",
			"arn:aws:states:eu-west-1:123456789012:stateMachine:tagged", "arn:aws:states:us-east-1:210987654321:activity:tagged"} {
			_, err := b.client.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(arn), Tags: tagList("k", "v")})
			require.Equal(t, arn, aws.ToString(errAs[*types.ResourceNotFound](t, err).ResourceName))
			_, err = b.client.UntagResource(ctx, &sdk.UntagResourceInput{ResourceArn: aws.String(arn), TagKeys: []string{"k"}})
			errAs[*types.ResourceNotFound](t, err)
			_, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			errAs[*types.ResourceNotFound](t, err)
		}
		_, err = b.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arnCfg.ExecutionARN("tagged", "e"))})
		errAs[*types.InvalidArn](t, err)

		// Creating with more than 50 tags is TooManyTags, and creates nothing.
		var many []string
		for i := range 51 {
			many = append(many, fmt.Sprintf("k%02d", i), "v")
		}
		_, err = b.client.CreateStateMachine(ctx, &sdk.CreateStateMachineInput{Name: aws.String("crowded"), Definition: aws.String(passDef("a")),
			RoleArn: aws.String(role), Tags: tagList(many...)})
		errAs[*types.TooManyTags](t, err)
		_, err = b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("crowded"), Tags: tagList(many...)})
		errAs[*types.TooManyTags](t, err)
		_, err = b.client.DescribeActivity(ctx, &sdk.DescribeActivityInput{ActivityArn: aws.String(arnCfg.ActivityARN("crowded"))})
		errAs[*types.ActivityDoesNotExist](t, err)
		_, err = b.client.CreateActivity(ctx, &sdk.CreateActivityInput{Name: aws.String("badtag"), Tags: tagList("a|b", "v")})
		requireCode(t, err, "ValidationException")
	})
}

// TestConcurrentWrites has two nodes (two Services, and on PostgreSQL two connection pools) write
// the same state machine and activity at once: every tag lands, and every publishing update gets
// its own version holding its own definition.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	onStores(t, func(t *testing.T, spec string) {
		a := setup(t, spec)
		st := a.store
		if spec[:7] != "sqlite:" {
			var err error
			st, err = storeopen.Open(t.Context(), spec)
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
		}
		nodes := []*testBundle{a, node(t, st)}
		ctx := t.Context()
		machine := aws.ToString(createMachine(t, a, "hot", passDef("start")).StateMachineArn)
		activity := createActivities(t, a, "hot")[0]

		const writers = 12
		versions := make([]string, writers)
		errs := make([]error, 3*writers)
		var wg sync.WaitGroup
		for i := range writers {
			c := nodes[i%2].client
			wg.Go(func() {
				_, errs[3*i] = c.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(machine), Tags: tagList(fmt.Sprintf("w%02d", i), "x")})
			})
			wg.Go(func() {
				_, errs[3*i+1] = c.TagResource(ctx, &sdk.TagResourceInput{ResourceArn: aws.String(activity), Tags: tagList(fmt.Sprintf("w%02d", i), "x")})
			})
			wg.Go(func() {
				var out *sdk.UpdateStateMachineOutput
				out, errs[3*i+2] = c.UpdateStateMachine(ctx, &sdk.UpdateStateMachineInput{StateMachineArn: aws.String(machine),
					Definition: aws.String(passDef(fmt.Sprintf("w%02d", i))), Publish: true})
				if out != nil {
					versions[i] = aws.ToString(out.StateMachineVersionArn)
				}
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		for _, arn := range []string{machine, activity} {
			out, err := a.client.ListTagsForResource(ctx, &sdk.ListTagsForResourceInput{ResourceArn: aws.String(arn)})
			require.NoError(t, err)
			var keys []string
			for _, tg := range out.Tags {
				keys = append(keys, aws.ToString(tg.Key))
			}
			sort.Strings(keys)
			var want []string
			for i := range writers {
				want = append(want, fmt.Sprintf("w%02d", i))
			}
			require.Equal(t, want, keys, "no tag lost on %s", arn)
		}
		seen := map[string]bool{}
		for i, v := range versions {
			require.False(t, seen[v], "version %s answered twice", v)
			seen[v] = true
			got, err := nodes[(i+1)%2].svc.LookupStateMachine(ctx, v)
			require.NoError(t, err)
			require.Equal(t, passDef(fmt.Sprintf("w%02d", i)), got.Definition, "version %s holds its own update", v)
		}
		for n := 1; n <= writers; n++ {
			require.True(t, seen[fmt.Sprintf("%s:%d", machine, n)], "versions are numbered 1..%d without gaps", writers)
		}
		// The machine ends with the last version's definition.
		cur, err := a.svc.LookupStateMachine(ctx, machine)
		require.NoError(t, err)
		last, err := a.svc.LookupStateMachine(ctx, fmt.Sprintf("%s:%d", machine, writers))
		require.NoError(t, err)
		require.Equal(t, last.Definition, cur.Definition)
		require.Equal(t, last.RevisionID, cur.RevisionID)
	})
}
