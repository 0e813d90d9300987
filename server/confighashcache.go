package server

import (
	"context"
	"fmt"
	"net/http"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/healthz"
	"sigs.k8s.io/controller-runtime/pkg/manager"

	"github.com/metrics-proxy/injector/webhook/admission"
)

// The config-hash cache is a second informer cache per replica, apart from the shared one of
// cache.go: it watches only the ConfigMaps labelled metrics-proxy.io/config=haproxy (the shared
// cache's ConfigMap watch, the rollout controller's, must see every ConfigMap, and a cache's
// label selector applies to every informer of a kind), and keeps of each its identity and the
// hash of its haproxy.cfg (admission.TrimToConfigHash): a few hundred bytes per ConfigMap, its
// size aside. The mutating handler reads it for the pod template's config hash instead of a GET
// per review; a ConfigMap it does not hold is read live (see the handler's configHash).

// newConfigHashCache creates the config-hash cache with its ConfigMap informer, runs it on every
// replica with the manager, and adds the readiness check "config-hashes" (ready once it synced).
func newConfigHashCache(ctx context.Context, mgr manager.Manager) (cache.Cache, error) {
	c, err := cache.New(mgr.GetConfig(), cache.Options{
		HTTPClient:           mgr.GetHTTPClient(),
		Scheme:               mgr.GetScheme(),
		Mapper:               mgr.GetRESTMapper(),
		DefaultLabelSelector: admission.ProxyConfigSelector(),
		DefaultTransform:     admission.TrimToConfigHash,
	})
	if err != nil {
		return nil, fmt.Errorf("config-hash cache: %w", err)
	}
	inf, err := c.GetInformer(ctx, &corev1.ConfigMap{})
	if err != nil {
		return nil, fmt.Errorf("config-hash cache informer: %w", err)
	}
	if err := mgr.Add(everyReplica(c.Start)); err != nil {
		return nil, fmt.Errorf("add config-hash cache: %w", err)
	}
	synced := func(*http.Request) error {
		if !inf.HasSynced() {
			return fmt.Errorf("the config-hash cache has not synced yet")
		}
		return nil
	}
	if err := mgr.AddReadyzCheck("config-hashes", healthz.Checker(synced)); err != nil {
		return nil, fmt.Errorf("add readyz check: %w", err)
	}
	return c, nil
}
