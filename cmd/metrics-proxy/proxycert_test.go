package main

import (
	"bytes"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestProxyCert: the command writes a loadable key pair for the IP and prints only the
// certificate's fingerprint, never the key; without an IP it fails naming NODE_IP.
func TestProxyCert(t *testing.T) {
	out := filepath.Join(t.TempDir(), "frontend.pem")
	var stdout, stderr bytes.Buffer
	root := newRootCommand(goldenVersion, strings.NewReader(""), &stdout, &stderr)
	root.SetArgs([]string{"proxy-cert", "--ip", "192.0.2.9", "--out", out})
	require.NoError(t, root.Execute())
	pair, err := tls.LoadX509KeyPair(out, out+".key")
	require.NoError(t, err)
	require.NotNil(t, pair.PrivateKey)
	key, err := os.ReadFile(out + ".key")
	require.NoError(t, err)
	printed := stdout.String() + stderr.String()
	assert.Contains(t, printed, "192.0.2.9")
	assert.Contains(t, printed, "SHA-256")
	assert.NotContains(t, printed, "PRIVATE KEY")
	for _, line := range strings.Split(strings.TrimSpace(string(key)), "\n") {
		if !strings.HasPrefix(line, "-----") {
			assert.NotContains(t, printed, line, "the key is never printed")
		}
	}

	root = newRootCommand(goldenVersion, strings.NewReader(""), &stdout, &stderr)
	root.SetArgs([]string{"proxy-cert", "--ip", "$(NODE_IP)", "--out", out})
	assert.ErrorContains(t, root.Execute(), "NODE_IP")
}
