package server

import (
	"context"
	"errors"
)

// Server is one Duro node.
type Server struct {
	cfg Config
}

// New validates cfg, opens and migrates the store and binds the listeners, so the addresses are known
// (and a port conflict is reported) before Run.
func New(ctx context.Context, cfg Config) (*Server, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return nil, errors.New("server: not assembled yet")
}

// GRPCAddr is the bound Temporal API address.
func (s *Server) GRPCAddr() string { return s.cfg.GRPCAddr }

// HTTPAddr is the bound health/metrics address ("" if disabled).
func (s *Server) HTTPAddr() string { return s.cfg.HTTPAddr }

// Run serves until ctx is done, then stops gracefully and closes the store.
func (s *Server) Run(ctx context.Context) error {
	<-ctx.Done()
	return nil
}
