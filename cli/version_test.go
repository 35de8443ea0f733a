package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestVersion(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		out, done := startCommand(context.Background(), "version", "--output", "json")
		require.NoError(t, <-done)
		var got versionInfo
		require.NoError(t, json.Unmarshal([]byte(out.String()), &got))
		require.Equal(t, runtime.Version(), got.Go)
		require.NotEmpty(t, got.Version)
	})

	t.Run("text", func(t *testing.T) {
		var out bytes.Buffer
		v := versionInfo{
			Version: "v1.2.3", Revision: "0123456789abcdef", Modified: true,
			Go: "go1.26.8", Platform: "linux/amd64",
		}
		require.NoError(t, runVersion(&out, outputText, v))
		require.Equal(t, "drover v1.2.3 (0123456789ab, modified) go1.26.8 linux/amd64\n",
			out.String())
	})
}
