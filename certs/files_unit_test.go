package certs

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFilesWaitsForTheCertificate: before the files exist the source is not ready and refuses
// handshakes; once they appear it loads them and exports their expiry.
func TestFilesWaitsForTheCertificate(t *testing.T) {
	dir := t.TempDir()
	f := &Files{Dir: dir, Interval: 50 * time.Millisecond}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.Start(ctx) }()
	defer func() { cancel(); require.NoError(t, <-done) }()

	assert.ErrorIs(t, f.Ready(nil), errNotLoaded)
	_, err := f.GetCertificate(nil)
	assert.ErrorIs(t, err, errNotLoaded)

	iss := issuer([]string{"localhost"})
	notAfter := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	ca, err := iss.CreateCACert(time.Now().Add(-time.Hour), notAfter.Add(time.Hour))
	require.NoError(t, err)
	cert, key, err := iss.CreateCertPEM(ca, time.Now().Add(-time.Hour), notAfter)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, KeyFile), key, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, CertFile), cert, 0o600))

	require.Eventually(t, func() bool { return f.Ready(nil) == nil }, 10*time.Second, 20*time.Millisecond)
	got, err := f.GetCertificate(nil)
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, float64(notAfter.Unix()), testutil.ToFloat64(servingExpiry))
}

func TestParseMode(t *testing.T) {
	for _, m := range []string{"files", "cert-manager", "self-signed"} {
		got, err := ParseMode(m)
		require.NoError(t, err)
		assert.Equal(t, Mode(m), got)
	}
	_, err := ParseMode("vault")
	assert.ErrorContains(t, err, `"vault"`)
}
