package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// TestRemoveWebhooksLive: remove-webhooks deletes the mutating and the validating webhook
// configuration it names on a real API server, and nothing else (the harness's own stay); run
// again, it finds nothing and still succeeds (a retried hook); a bad name is refused.
func TestRemoveWebhooksLive(t *testing.T) {
	needControlPlane(t)
	ctx := context.Background()
	const name = "remove-me"
	require.NoError(t, cp.Client.Create(ctx, &admissionregistrationv1.MutatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	require.NoError(t, cp.Client.Create(ctx, &admissionregistrationv1.ValidatingWebhookConfiguration{ObjectMeta: metav1.ObjectMeta{Name: name}}))
	var before admissionregistrationv1.MutatingWebhookConfigurationList
	require.NoError(t, cp.Client.List(ctx, &before))

	stdout, stderr, code := runLive(t, "remove-webhooks", "--webhook-configuration", name)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "MutatingWebhookConfiguration remove-me deleted\nValidatingWebhookConfiguration remove-me deleted\n", stdout)
	err := cp.Client.Get(ctx, clientKey("", name), &admissionregistrationv1.MutatingWebhookConfiguration{})
	assert.True(t, apierrors.IsNotFound(err), "the mutating configuration is gone: %v", err)
	err = cp.Client.Get(ctx, clientKey("", name), &admissionregistrationv1.ValidatingWebhookConfiguration{})
	assert.True(t, apierrors.IsNotFound(err), "the validating configuration is gone: %v", err)
	var after admissionregistrationv1.MutatingWebhookConfigurationList
	require.NoError(t, cp.Client.List(ctx, &after))
	assert.Len(t, after.Items, len(before.Items)-1, "only the named configuration is deleted")

	stdout, stderr, code = runLive(t, "remove-webhooks", "--webhook-configuration", name)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, "MutatingWebhookConfiguration remove-me: not found\nValidatingWebhookConfiguration remove-me: not found\n", stdout)

	_, stderr, code = runLive(t, "remove-webhooks", "--webhook-configuration", "Not_A_Name")
	assert.NotZero(t, code)
	assert.Contains(t, stderr, `--webhook-configuration "Not_A_Name"`)
}
