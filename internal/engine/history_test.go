package engine

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPubsubPublishAll: after the notifier reconnects every history long poll must look again,
// whichever run it waits on.
func TestPubsubPublishAll(t *testing.T) {
	p := newPubsub()
	a, b := p.subscribe("run-a"), p.subscribe("run-b")
	defer a.cancel()
	defer b.cancel()
	p.publish("run-a")
	require.Len(t, a.ch, 1)
	require.Empty(t, b.ch, "a run's wake-up is only its own")
	<-a.ch
	p.publishAll()
	require.Len(t, a.ch, 1)
	require.Len(t, b.ch, 1)
}
