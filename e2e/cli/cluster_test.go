package cli

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTemporalCLIClusterDescribe: `temporal operator cluster describe` reads GetClusterInfo: one
// cluster named duro, its ID stable across calls, the store in use.
func TestTemporalCLIClusterDescribe(t *testing.T) {
	bin := ensureCLI(t)
	e := newEnv(t, bin)
	var info map[string]any
	require.NoError(t, json.Unmarshal(e.cliRaw(t, "operator", "cluster", "describe", "-o", "json"), &info))
	require.Equal(t, "duro", info["clusterName"])
	require.NotEmpty(t, info["clusterId"])
	store := "sqlite"
	if strings.HasPrefix(os.Getenv("DURO_E2E_STORE"), "postgres") {
		store = "postgresql"
	}
	require.Equal(t, store, info["persistenceStore"])
	var again map[string]any
	require.NoError(t, json.Unmarshal(e.cliRaw(t, "operator", "cluster", "describe", "-o", "json"), &again))
	require.Equal(t, info["clusterId"], again["clusterId"])
}
