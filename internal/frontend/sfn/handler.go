package sfn

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
)

const (
	contentType  = "application/x-amz-json-1.0"
	targetPrefix = "AWSStepFunctions."
)

// action decodes, validates and runs one action, returning the output to encode.
type action func(ctx context.Context, h *Handler, body []byte) (any, error)

// Handler serves the Step Functions API over AWS JSON 1.0. It is safe for concurrent use.
type Handler struct {
	cfg     Config
	backend Backend
	log     *slog.Logger
	// verify, when set, checks a request's SigV4 signature before it is decoded. Nil accepts any
	// signature, or none.
	verify func(r *http.Request, body []byte) error
}

// NewHandler returns a handler over backend. A nil logger discards logs.
func NewHandler(cfg Config, backend Backend, log *slog.Logger) *Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg.WithDefaults(), backend: backend, log: log}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := requestID()
	w.Header().Set("x-amzn-RequestId", id)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("sfn: panic", "request_id", id, "panic", fmt.Sprint(p))
			writeError(w, &Error{Kind: KindInternalFailure, Message: "An internal error occurred"})
		}
	}()
	out, err := h.serve(r)
	if err != nil {
		e := asError(err)
		if e.Kind == KindInternalFailure {
			h.log.Error("sfn: internal failure", "request_id", id, "err", err)
		}
		writeError(w, e)
		return
	}
	b, err := json.Marshal(out)
	if err != nil {
		h.log.Error("sfn: encode", "request_id", id, "err", err)
		writeError(w, &Error{Kind: KindInternalFailure, Message: "An internal error occurred"})
		return
	}
	write(w, http.StatusOK, b)
}

func (h *Handler) serve(r *http.Request) (any, error) {
	if r.Method != http.MethodPost || !jsonContentType(r.Header.Get("Content-Type")) {
		return nil, Errorf(KindUnsupportedContentType, "Requests must be POST with Content-Type %s", contentType)
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.cfg.MaxBodyBytes+1))
	if err != nil {
		return nil, Errorf(KindSerialization, "Cannot read the request body")
	}
	if int64(len(body)) > h.cfg.MaxBodyBytes {
		return nil, Errorf(KindRequestEntityTooLarge, "Request body exceeds %d bytes", h.cfg.MaxBodyBytes)
	}
	if err := checkObject(body); err != nil {
		return nil, err
	}
	target := r.Header.Get("X-Amz-Target")
	name, ok := strings.CutPrefix(target, targetPrefix)
	run := actions[name]
	if !ok || run == nil {
		return nil, Errorf(KindUnknownOperation, "Unknown operation: %q", target)
	}
	if h.verify != nil {
		if err := h.verify(r, body); err != nil {
			return nil, err
		}
	}
	return run(r.Context(), h, body)
}

// jsonContentType accepts the AWS JSON 1.0 media type, with parameters (charset).
func jsonContentType(v string) bool {
	mt, _, err := mime.ParseMediaType(v)
	return err == nil && mt == contentType
}

// checkObject answers SerializationException unless body is exactly one JSON object.
func checkObject(body []byte) error {
	d := json.NewDecoder(bytes.NewReader(body))
	tok, err := d.Token()
	if err != nil || tok != json.Delim('{') {
		return Errorf(KindSerialization, "The request body must be a JSON object")
	}
	d = json.NewDecoder(bytes.NewReader(body))
	var raw json.RawMessage
	if err := d.Decode(&raw); err != nil {
		return Errorf(KindSerialization, "The request body is not valid JSON: %v", err)
	}
	if _, err := d.Token(); !errors.Is(err, io.EOF) {
		return Errorf(KindSerialization, "Unexpected content after the JSON object")
	}
	return nil
}

// decode reads body (already checked to be one JSON object) into in.
func decode(body []byte, in any) error {
	if err := json.Unmarshal(body, in); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Errorf(KindSerialization, "Unexpected value type for member '%s': %s", te.Field, te.Value)
		}
		return Errorf(KindSerialization, "The request body cannot be read: %v", err)
	}
	return nil
}

func writeError(w http.ResponseWriter, e *Error) {
	b, _ := json.Marshal(errorBody{Type: e.Kind.Code(), Message: e.Message, Reason: e.Reason, ResourceName: e.ResourceName})
	write(w, e.Kind.Status(), b)
}

func write(w http.ResponseWriter, status int, b []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", fmt.Sprint(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// requestID returns a random UUID (version 4).
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// route builds an action from a validator and a backend call.
func route[I, O any](check func(h *Handler, in *I) error, call func(h *Handler, ctx context.Context, in *I) (O, error)) action {
	return func(ctx context.Context, h *Handler, body []byte) (any, error) {
		in := new(I)
		if err := decode(body, in); err != nil {
			return nil, err
		}
		if err := check(h, in); err != nil {
			return nil, err
		}
		return call(h, ctx, in)
	}
}

// empty adapts a backend call without output to the {} answer.
func empty[I any](f func(ctx context.Context, in *I) error) func(ctx context.Context, in *I) (Empty, error) {
	return func(ctx context.Context, in *I) (Empty, error) { return Empty{}, f(ctx, in) }
}
