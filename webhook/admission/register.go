package admission

import (
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/webhook"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// Options configure the handlers that Register installs.
type Options struct {
	// Inject is what the injector brings to every injection.
	Inject inject.Config
	// Reader reads cluster objects (Namespaces) through a cache; nil turns the warning that needs it off.
	Reader client.Reader
	// APIReader reads straight from the API server (the ConfigMap a DaemonSet mounts).
	APIReader client.Reader
	// Policies gives the policy in force to the validating handlers.
	Policies PolicySource
}

// Register installs every webhook handler on srv, at the paths the webhook configurations use.
func Register(srv webhook.Server, o Options) {
	srv.Register(MutateDaemonSetPath, &webhook.Admission{Handler: &DaemonSetInjector{Config: o.Inject, Namespaces: o.Reader, ConfigMaps: o.APIReader}})
	srv.Register(MutateConfigMapPath, &webhook.Admission{Handler: ConfigMapFiller{}})
	srv.Register(ValidateDaemonSetPath, &webhook.Admission{Handler: DaemonSetValidator{Policies: o.Policies, ConfigMaps: o.APIReader, Namespaces: o.Reader}})
	srv.Register(ValidateConfigMapPath, &webhook.Admission{Handler: ConfigMapValidator{Policies: o.Policies}})
}
