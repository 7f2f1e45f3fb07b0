package sfn

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdk "github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/smithy-go"

	"github.com/duro-dev/duro/internal/clock"
)

// signed builds a request signed by the AWS SDK for Go v2's own SigV4 signer.
func signed(t *testing.T, key, secret string, at time.Time, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest("POST", "http://127.0.0.1:8083/", bytes.NewReader([]byte(body)))
	r.Header.Set("Content-Type", contentType)
	r.Header.Set("X-Amz-Target", targetPrefix+"ListStateMachines")
	sum := sha256.Sum256([]byte(body))
	err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, r, hex.EncodeToString(sum[:]), "states", "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSigV4(t *testing.T) {
	t.Parallel()
	now := time.Now()
	h := NewHandler(Config{}, stubBackend{}, nil)
	h.RequireSignatures(map[string]string{"AKIDDURO": "s3cret"}, clock.Real{})
	tests := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"good signature", signed(t, "AKIDDURO", "s3cret", now, `{}`), ""},
		{"unknown key", signed(t, "AKIDOTHER", "s3cret", now, `{}`), "UnrecognizedClientException"},
		{"wrong secret", signed(t, "AKIDDURO", "wrong", now, `{}`), "InvalidSignatureException"},
		{"skew over 5 minutes", signed(t, "AKIDDURO", "s3cret", now.Add(-6*time.Minute), `{}`), "InvalidSignatureException"},
		{"skew ahead", signed(t, "AKIDDURO", "s3cret", now.Add(6*time.Minute), `{}`), "InvalidSignatureException"},
		{"unsigned", func() *http.Request {
			r := httptest.NewRequest("POST", "/", bytes.NewReader([]byte(`{}`)))
			r.Header.Set("Content-Type", contentType)
			r.Header.Set("X-Amz-Target", targetPrefix+"ListStateMachines")
			return r
		}(), "MissingAuthenticationTokenException"},
	}
	// A body changed after signing does not match.
	tampered := signed(t, "AKIDDURO", "s3cret", now, `{}`)
	tampered.Body = httptest.NewRequest("POST", "/", bytes.NewReader([]byte(`{"maxResults":1}`))).Body
	tests = append(tests, struct {
		name string
		req  *http.Request
		code string
	}{"tampered body", tampered, "InvalidSignatureException"})
	for _, tt := range tests {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, tt.req)
		m := checkWellFormed(t, w)
		if tt.code == "" && w.Code != 200 || tt.code != "" && m["__type"] != tt.code {
			t.Errorf("%s: %d %s, want %q", tt.name, w.Code, w.Body.String(), tt.code)
		}
	}
}

func TestSigV4SDKClient(t *testing.T) {
	t.Parallel()
	h := NewHandler(Config{}, stubBackend{}, nil)
	h.RequireSignatures(map[string]string{"AKIDDURO": "s3cret"}, clock.Real{})
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	client := func(key, secret string) *sdk.Client {
		return sdk.New(sdk.Options{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: key, SecretAccessKey: secret}, nil
			})})
	}
	ctx := context.Background()
	if _, err := client("AKIDDURO", "s3cret").ListStateMachines(ctx, &sdk.ListStateMachinesInput{MaxResults: 5}); err != nil {
		t.Fatalf("signed by the SDK: %v", err)
	}
	_, err := client("AKIDDURO", "nope").ListStateMachines(ctx, &sdk.ListStateMachinesInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %v, want InvalidSignatureException", err)
	}
}
