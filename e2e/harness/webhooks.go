package harness

import (
	"fmt"
	"os"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/manifest"
)

// Webhooks are the webhook configurations of the deploy manifests.
type Webhooks struct {
	Mutating   []*admissionregistrationv1.MutatingWebhookConfiguration
	Validating []*admissionregistrationv1.ValidatingWebhookConfiguration
}

// LoadWebhooks reads the webhook configurations of deploy manifests and points their service
// references at https://hostPort, where a cluster's Service would route them.
func LoadWebhooks(hostPort string, files ...string) (*Webhooks, error) {
	hooks := &Webhooks{}
	for _, file := range files {
		if err := hooks.load(file, hostPort); err != nil {
			return nil, err
		}
	}
	if len(hooks.Mutating)+len(hooks.Validating) == 0 {
		return nil, fmt.Errorf("no webhook configuration in %v", files)
	}
	return hooks, nil
}

func (h *Webhooks) load(file, hostPort string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("webhook manifest: %w", err)
	}
	defer f.Close()
	docs, err := manifest.Read(f)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	for _, d := range docs {
		var configs []*admissionregistrationv1.WebhookClientConfig
		switch d.Kind {
		case "MutatingWebhookConfiguration":
			cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
			if err := yaml.UnmarshalStrict(d.YAML, cfg); err != nil {
				return fmt.Errorf("%s: document %d: %w", file, d.Index, err)
			}
			for i := range cfg.Webhooks {
				configs = append(configs, &cfg.Webhooks[i].ClientConfig)
			}
			h.Mutating = append(h.Mutating, cfg)
		case "ValidatingWebhookConfiguration":
			cfg := &admissionregistrationv1.ValidatingWebhookConfiguration{}
			if err := yaml.UnmarshalStrict(d.YAML, cfg); err != nil {
				return fmt.Errorf("%s: document %d: %w", file, d.Index, err)
			}
			for i := range cfg.Webhooks {
				configs = append(configs, &cfg.Webhooks[i].ClientConfig)
			}
			h.Validating = append(h.Validating, cfg)
		}
		for _, cc := range configs {
			if cc.Service == nil || cc.Service.Path == nil {
				return fmt.Errorf("%s: document %d: a webhook has no service path", file, d.Index)
			}
			url := "https://" + hostPort + *cc.Service.Path
			*cc = admissionregistrationv1.WebhookClientConfig{URL: &url}
		}
	}
	return nil
}
