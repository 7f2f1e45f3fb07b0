package sfn

import (
	"context"
	"testing"
)

// panicBackend is a TEST FIXTURE: a backend whose DescribeActivity panics, to show that no panic
// reaches a client.
type panicBackend struct{ stubBackend }

func (panicBackend) DescribeActivity(context.Context, *ARNInput) (*DescribeActivityOutput, error) {
	panic("backend bug")
}

func TestPanicIsInternalFailure(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{}, panicBackend{}, nil)
	w := do(h, "POST", targetPrefix+"DescribeActivity", contentType, []byte(`{"activityArn":"arn:aws:states:us-east-1:123456789012:activity:a"}`))
	m := checkWellFormed(t, w)
	if w.Code != 500 || m["__type"] != "InternalFailure" {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}

func TestErrorMembers(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{}, stubBackend{err: &Error{Kind: KindResourceNotFound, Message: "Resource not found", ResourceName: "arn:aws:states:us-east-1:123456789012:activity:a"}}, nil)
	w := do(h, "POST", targetPrefix+"ListTagsForResource", contentType, []byte(`{"resourceArn":"arn:aws:states:us-east-1:123456789012:activity:a"}`))
	m := checkWellFormed(t, w)
	if w.Code != 400 || m["__type"] != "ResourceNotFound" || m["resourceName"] != "arn:aws:states:us-east-1:123456789012:activity:a" {
		t.Fatalf("got %d %s", w.Code, w.Body.String())
	}
}
