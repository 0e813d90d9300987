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
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{}
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{}
	var bundles [][]byte
	found := 0
	for _, cfg := range []struct {
		kind    string
		obj     client.Object
		configs func() []*admissionregistrationv1.WebhookClientConfig
	}{
		{"MutatingWebhookConfiguration", mutating, func() (out []*admissionregistrationv1.WebhookClientConfig) {
			for i := range mutating.Webhooks {
				out = append(out, &mutating.Webhooks[i].ClientConfig)
			}
			return out
		}},
		{"ValidatingWebhookConfiguration", validating, func() (out []*admissionregistrationv1.WebhookClientConfig) {
			for i := range validating.Webhooks {
				out = append(out, &validating.Webhooks[i].ClientConfig)
			}
			return out
		}},
	} {
		held, ok, err := s.injectInto(ctx, cfg.kind, cfg.obj, cfg.configs, bundle)
		if err != nil {
			return err
		}
		if ok {
			found++
			bundles = append(bundles, held...)
		}
	}
	if found == 0 {
		return fmt.Errorf("no webhook configuration named %s", s.WebhookConfiguration)
	}
	s.bundles.Store(&bundles)
	return nil
}

// injectInto reads one configuration into obj, sets bundle on each of its client configs and
// updates it when that changed anything; it returns the bundles the configuration now holds,
// and false when it does not exist.
func (s *SelfSigned) injectInto(ctx context.Context, kind string, obj client.Object,
	configs func() []*admissionregistrationv1.WebhookClientConfig, bundle []byte) ([][]byte, bool, error) {
	err := s.Client.Get(ctx, client.ObjectKey{Name: s.WebhookConfiguration}, obj)
	if apierrors.IsNotFound(err) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("get %s %s: %w", kind, s.WebhookConfiguration, err)
	}
	changed := false
	var held [][]byte
	for _, cc := range configs() {
		if !bytes.Equal(cc.CABundle, bundle) {
			cc.CABundle = bytes.Clone(bundle)
			changed = true
		}
		held = append(held, cc.CABundle)
	}
	if changed {
		if err := s.Client.Update(ctx, obj); err != nil {
			return nil, false, fmt.Errorf("update %s %s: %w", kind, s.WebhookConfiguration, err)
		}
	}
	return held, true, nil
}
