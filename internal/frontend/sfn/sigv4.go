package sfn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/duro-dev/duro/internal/clock"
)

const maxSkew = 5 * time.Minute

// RequireSignatures makes h verify every request's SigV4 signature against keys (access key ID →
// secret access key), reading the time from clk. Without it, h accepts any signature or none, as
// the AWS clients always sign and a local server has no account to check against.
func (h *Handler) RequireSignatures(keys map[string]string, clk clock.Clock) {
	h.verify = func(r *http.Request, body []byte) error { return verifySigV4(r, body, keys, clk.Now()) }
}

// verifySigV4 checks an Authorization header of the AWS4-HMAC-SHA256 scheme: the scope names the
// states service, the date is within 5 minutes of now, the key is known and the signature over
// the canonical request matches (compared in constant time). The scope's region is not checked
// against the configured one: clients sign with whatever region they run in.
func verifySigV4(r *http.Request, body []byte, keys map[string]string, now time.Time) error {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return Errorf(KindMissingAuthenticationToken, "Request is missing Authentication Token")
	}
	alg, rest, _ := strings.Cut(auth, " ")
	if alg != "AWS4-HMAC-SHA256" {
		return Errorf(KindIncompleteSignature, "Unsupported AWS 'algorithm': '%s'", alg)
	}
	params := map[string]string{}
	for _, kv := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(kv), "=")
		params[k] = v
	}
	cred, signed, sig := params["Credential"], params["SignedHeaders"], params["Signature"]
	if cred == "" || signed == "" || sig == "" {
		return Errorf(KindIncompleteSignature, "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters")
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 {
		return Errorf(KindIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'", cred)
	}
	amzDate := r.Header.Get("X-Amz-Date")
	t, err := time.Parse("20060102T150405Z", amzDate)
	if err != nil {
		return Errorf(KindIncompleteSignature, "Date must be in ISO-8601 'basic format'. Got '%s'", amzDate)
	}
	if scope[3] != "states" || scope[4] != "aws4_request" || scope[1] != amzDate[:8] {
		return Errorf(KindInvalidSignature, "Credential should be scoped to correct service: 'states', with a valid terminator 'aws4_request' and the date of X-Amz-Date")
	}
	const layout = "20060102T150405Z"
	if t.Before(now.Add(-maxSkew)) {
		return Errorf(KindInvalidSignature, "Signature expired: %s is now earlier than %s (%s - 5 min.)", amzDate, now.Add(-maxSkew).UTC().Format(layout), now.UTC().Format(layout))
	}
	if t.After(now.Add(maxSkew)) {
		return Errorf(KindInvalidSignature, "Signature not yet current: %s is still later than %s (%s + 5 min.)", amzDate, now.Add(maxSkew).UTC().Format(layout), now.UTC().Format(layout))
	}
	secret, ok := keys[scope[0]]
	if !ok {
		return Errorf(KindUnrecognizedClient, "The security token included in the request is invalid.")
	}
	names := strings.Split(signed, ";")
	var ch strings.Builder
	for _, n := range names {
		ch.WriteString(n + ":" + headerValue(r, n) + "\n")
	}
	sum := sha256.Sum256(body)
	creq := strings.Join([]string{r.Method, canonicalPath(r.URL), canonicalQuery(r.URL), ch.String(), signed, hex.EncodeToString(sum[:])}, "\n")
	creqSum := sha256.Sum256([]byte(creq))
	sts := strings.Join([]string{"AWS4-HMAC-SHA256", amzDate, strings.Join(scope[1:], "/"), hex.EncodeToString(creqSum[:])}, "\n")
	key := []byte("AWS4" + secret)
	for _, part := range scope[1:] {
		key = hmacSHA256(key, part)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return Errorf(KindInvalidSignature, "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
	}
	return nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

// headerValue returns a signed header's canonical value: values joined by commas, trimmed, inner
// runs of spaces collapsed. Host and Content-Length live outside r.Header in net/http.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{itoa(int(r.ContentLength))}
		}
	default:
		vals = r.Header.Values(name)
	}
	for i, v := range vals {
		vals[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(vals, ",")
}

// canonicalPath is the URI-encoded path; AWS encodes each segment again for services other than S3.
func canonicalPath(u *url.URL) string {
	p := u.EscapedPath()
	if p == "" {
		return "/"
	}
	segs := strings.Split(p, "/")
	for i, s := range segs {
		segs[i] = uriEncode(s)
	}
	return strings.Join(segs, "/")
}

func canonicalQuery(u *url.URL) string {
	q := u.Query()
	var parts []string
	for k, vs := range q {
		for _, v := range vs {
			parts = append(parts, uriEncode(k)+"="+uriEncode(v))
		}
	}
	sort.Strings(parts)
	return strings.Join(parts, "&")
}

// uriEncode percent-encodes every byte but the unreserved characters, as SigV4 requires.
func uriEncode(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.IndexByte("-_.~", c) >= 0 {
			b.WriteByte(c)
		} else {
			b.WriteString("%" + strings.ToUpper(hex.EncodeToString([]byte{c})))
		}
	}
	return b.String()
}
