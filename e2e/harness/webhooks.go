package harness

import (
	"fmt"
	"os"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/manifest"
)

// LoadWebhooks reads the MutatingWebhookConfigurations of a deploy manifest and points their
// service references at https://hostPort, where a cluster's Service would route them.
func LoadWebhooks(file, hostPort string) ([]*admissionregistrationv1.MutatingWebhookConfiguration, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("webhook manifest: %w", err)
	}
	defer f.Close()
	docs, err := manifest.Read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	var out []*admissionregistrationv1.MutatingWebhookConfiguration
	for _, d := range docs {
		if d.Kind != "MutatingWebhookConfiguration" {
			continue
		}
		cfg := &admissionregistrationv1.MutatingWebhookConfiguration{}
		if err := yaml.UnmarshalStrict(d.YAML, cfg); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", file, d.Index, err)
		}
		for i := range cfg.Webhooks {
			svc := cfg.Webhooks[i].ClientConfig.Service
			if svc == nil || svc.Path == nil {
				return nil, fmt.Errorf("%s: webhook %s has no service path", file, cfg.Webhooks[i].Name)
			}
			url := "https://" + hostPort + *svc.Path
			cfg.Webhooks[i].ClientConfig = admissionregistrationv1.WebhookClientConfig{URL: &url}
		}
		out = append(out, cfg)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no MutatingWebhookConfiguration", file)
	}
	return out, nil
}
