package stepfn

import "github.com/duro-dev/duro/internal/frontend/sfn"

var _ sfn.Backend = (*Service)(nil)
