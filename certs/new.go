package certs

import (
	"fmt"
	"time"

	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// Options configure New.
type Options struct {
	// Dir is the certificate directory: read in the files modes, written in self-signed mode.
	Dir string
	// Secret, Service and WebhookConfiguration are used in self-signed mode: the Secret that
	// keeps the CA (its namespace is the Service's), the Service the API server calls (the
	// serving certificate's DNS names), the webhook configurations whose caBundle is kept.
	Secret               types.NamespacedName
	Service              string
	WebhookConfiguration string
	// Interval is how often certificates are checked; 0: the mode's default.
	Interval time.Duration
}

// New returns the Source of a mode; cfg reaches the API server in self-signed mode.
func New(mode Mode, o Options, cfg *rest.Config) (Source, error) {
	switch mode {
	case ModeFiles, ModeCertManager, "":
		return &Files{Dir: o.Dir, Interval: o.Interval}, nil
	case ModeSelfSigned:
		c, err := client.New(cfg, client.Options{})
		if err != nil {
			return nil, fmt.Errorf("self-signed certificates: %w", err)
		}
		ns := o.Secret.Namespace
		return &SelfSigned{
			Client: c, Secret: o.Secret, Dir: o.Dir, WebhookConfiguration: o.WebhookConfiguration, Interval: o.Interval,
			DNSNames: []string{o.Service + "." + ns + ".svc", o.Service + "." + ns + ".svc.cluster.local"},
		}, nil
	}
	return nil, fmt.Errorf("certificate mode %q: want %s, %s or %s", mode, ModeFiles, ModeCertManager, ModeSelfSigned)
}
