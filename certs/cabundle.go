package certs

import (
	"bytes"
	"context"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// injectBundle sets bundle as the caBundle of every webhook of the Mutating- and
// ValidatingWebhookConfiguration named s.WebhookConfiguration, and remembers the bundles they
// hold for Ready. A configuration that does not exist is skipped; both missing is an error.
func (s *SelfSigned) injectBundle(ctx context.Context, bundle []byte) error {
	var bundles [][]byte
	found := 0
	key := client.ObjectKey{Name: s.WebhookConfiguration}

	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	switch err := s.Client.Get(ctx, key, mutating); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get mutating webhook configuration %s: %w", key.Name, err)
	default:
		found++
		changed := false
		for i := range mutating.Webhooks {
			changed = setBundle(&mutating.Webhooks[i].ClientConfig, bundle) || changed
			bundles = append(bundles, mutating.Webhooks[i].ClientConfig.CABundle)
		}
		if changed {
			if err := s.Client.Update(ctx, mutating); err != nil {
				return fmt.Errorf("update mutating webhook configuration %s: %w", key.Name, err)
			}
		}
	}

	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	switch err := s.Client.Get(ctx, key, validating); {
	case apierrors.IsNotFound(err):
	case err != nil:
		return fmt.Errorf("get validating webhook configuration %s: %w", key.Name, err)
	default:
		found++
		changed := false
		for i := range validating.Webhooks {
			changed = setBundle(&validating.Webhooks[i].ClientConfig, bundle) || changed
			bundles = append(bundles, validating.Webhooks[i].ClientConfig.CABundle)
		}
		if changed {
			if err := s.Client.Update(ctx, validating); err != nil {
				return fmt.Errorf("update validating webhook configuration %s: %w", key.Name, err)
			}
		}
	}
	if found == 0 {
		return fmt.Errorf("no webhook configuration named %s", key.Name)
	}
	s.bundles.Store(&bundles)
	return nil
}

// setBundle sets a client config's caBundle and reports whether it changed.
func setBundle(cc *admissionregistrationv1.WebhookClientConfig, bundle []byte) bool {
	if bytes.Equal(cc.CABundle, bundle) {
		return false
	}
	cc.CABundle = bytes.Clone(bundle)
	return true
}
