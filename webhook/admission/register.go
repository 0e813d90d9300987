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
	// Reader reads cluster objects (Namespaces); nil turns the checks that need it off.
	Reader client.Reader
}

// Register installs every webhook handler on srv, at the paths the webhook configurations use.
func Register(srv webhook.Server, o Options) {
	srv.Register(MutateDaemonSetPath, &webhook.Admission{Handler: &DaemonSetInjector{Config: o.Inject, Namespaces: o.Reader}})
	srv.Register(MutateConfigMapPath, &webhook.Admission{Handler: ConfigMapFiller{}})
}
