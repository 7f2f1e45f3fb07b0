package stepfn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"time"

	"github.com/duro-dev/duro/internal/frontend/sfn"
	"github.com/duro-dev/duro/internal/store"
)

// Paging of the catalog's lists. A nextToken is opaque to clients: base64url of a small JSON
// object naming the list it belongs to, the last name already returned and when it was issued.
// Pages are keyset pages in name order, so a token stays valid while resources come and go (a
// page never repeats or skips a resource that existed throughout). Like AWS's, a token expires
// after 24 hours; an expired, malformed or foreign token is InvalidToken.

const (
	// defaultPage is the page size when maxResults is 0, as AWS.
	defaultPage = 100
	// tokenTTL is how long a nextToken is honoured, as AWS.
	tokenTTL = 24 * time.Hour
)

// pageToken is the decoded nextToken.
type pageToken struct {
	Kind   string `json:"k"`
	After  string `json:"a"`
	Issued int64  `json:"t"` // Unix seconds
}

func (s *Service) encodeToken(kind, after string) string {
	b, _ := json.Marshal(pageToken{Kind: kind, After: after, Issued: s.clock.Now().Unix()})
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeToken returns the name after which a page of kind starts ("" without a token).
func (s *Service) decodeToken(kind, tok string) (string, error) {
	if tok == "" {
		return "", nil
	}
	bad := sfn.Errorf(sfn.KindInvalidToken, "Invalid Token: '%s'", tok)
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return "", bad
	}
	var t pageToken
	if err := json.Unmarshal(b, &t); err != nil || t.Kind != kind || t.After == "" {
		return "", bad
	}
	age := s.clock.Now().Sub(time.Unix(t.Issued, 0))
	if age > tokenTTL || age < -time.Minute {
		return "", sfn.Errorf(sfn.KindInvalidToken, "Invalid Token: the token has expired")
	}
	return t.After, nil
}

// listPage reads one page of kind's records in name order: at most maxResults (0 means
// [defaultPage]) after the token's position, and the token of the next page ("" on the last).
func (s *Service) listPage(ctx context.Context, kind string, in *sfn.ListInput) ([]store.Record, string, error) {
	after, err := s.decodeToken(kind, in.NextToken)
	if err != nil {
		return nil, "", err
	}
	limit := int(in.MaxResults)
	if limit <= 0 {
		limit = defaultPage
	}
	recs, err := s.store.ListRecords(ctx, s.cfg.Namespace, kind, after, limit+1)
	if err != nil {
		return nil, "", fmt.Errorf("list %s: %w", kind, err)
	}
	next := ""
	if len(recs) > limit {
		recs = recs[:limit]
		next = s.encodeToken(kind, recs[limit-1].Name)
	}
	return recs, next, nil
}
