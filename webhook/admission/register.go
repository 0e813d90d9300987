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
	// Reader reads cluster objects through a cache: Namespaces (their metadata), and DaemonSets
	// through the IndexMountedConfigMaps index (see IndexDaemonSets), for the proxies that may
	// mount an unlabelled ConfigMap; nil turns what needs it off.
	Reader client.Reader
	// APIReader reads straight from the API server (the ConfigMap a DaemonSet mounts: ConfigMaps
	// are not cached, a tenant may store many large ones; a namespace's labels when a status
	// annotation does not match its DaemonSet).
	APIReader client.Reader
	// ConfigHashes reads the config-hash cache (ProxyConfigSelector's ConfigMaps, cut by
	// TrimToConfigHash) for the mutating handler, and for the identity of the ConfigMaps the
	// validating handler found compliant (see VerdictCache); nil: every config hash is read
	// live, every mounted ConfigMap validated.
	ConfigHashes client.Reader
	// Policies gives the policy in force to the validating handlers.
	Policies PolicySource
	// Secrets, when set, reads the frontend certificate Secrets that the config hash includes
	// (serve --tls-secret-rollout).
	Secrets client.Reader
	// Live lists a namespace's DaemonSets from the API server when the cache finds no proxy that
	// mounts an unlabelled ConfigMap holding haproxy.cfg (see ConfigMapValidator), and reads the
	// DaemonSet that owns a pod (see PodValidator); nil: off (the pod validator then errs).
	Live *LiveDaemonSets
}

// verdicts is the validating handler's VerdictCache: none without the config-hash cache.
func verdicts(hashes client.Reader) *VerdictCache {
	if hashes == nil {
		return nil
	}
	return NewVerdictCache(DefaultVerdictCacheSize)
}

// Register installs every webhook handler on srv, at the paths the webhook configurations use.
func Register(srv webhook.Server, o Options) {
	srv.Register(MutateDaemonSetPath, &webhook.Admission{Handler: &DaemonSetInjector{Config: o.Inject, Namespaces: o.Reader, ConfigMaps: o.APIReader,
		ConfigHashes: o.ConfigHashes, Secrets: o.Secrets}})
	srv.Register(MutateConfigMapPath, &webhook.Admission{Handler: ConfigMapFiller{Policies: o.Policies}})
	srv.Register(ValidateDaemonSetPath, &webhook.Admission{Handler: DaemonSetValidator{Policies: o.Policies, ConfigMaps: o.APIReader, Namespaces: o.Reader, LiveNamespaces: o.APIReader,
		ConfigHashes: o.ConfigHashes, Verdicts: verdicts(o.ConfigHashes)}})
	srv.Register(ValidatePodPath, &webhook.Admission{Handler: PodValidator{Policies: o.Policies, ConfigMaps: o.APIReader, Namespaces: o.Reader, DaemonSets: o.Live}})
	srv.Register(ValidateConfigMapPath, &webhook.Admission{Handler: ConfigMapValidator{Policies: o.Policies, Namespaces: o.Reader, DaemonSets: o.Reader, Live: o.Live}})
}
