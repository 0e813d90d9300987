package controller

import (
	"context"
	"errors"
	"fmt"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/controller-runtime/pkg/builder"
	"sigs.k8s.io/controller-runtime/pkg/client"
	ctrlcontroller "sigs.k8s.io/controller-runtime/pkg/controller"
	"sigs.k8s.io/controller-runtime/pkg/handler"
	"sigs.k8s.io/controller-runtime/pkg/manager"
	"sigs.k8s.io/controller-runtime/pkg/predicate"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// ReinjectMode is the value of serve --reinject.
type ReinjectMode string

const (
	// ReinjectOff only reports stale proxies (the default).
	ReinjectOff ReinjectMode = "off"
	// ReinjectStale re-applies stale and never-injected proxies through the API server.
	ReinjectStale ReinjectMode = "stale"
)

// ParseReinjectMode reads a --reinject value; empty means off.
func ParseReinjectMode(s string) (ReinjectMode, error) {
	switch ReinjectMode(s) {
	case "", ReinjectOff:
		return ReinjectOff, nil
	case ReinjectStale:
		return ReinjectStale, nil
	}
	return "", fmt.Errorf("%q: want %s or %s", s, ReinjectOff, ReinjectStale)
}

// DefaultAuditInterval is the time between two audits when Options leave it zero.
const DefaultAuditInterval = 10 * time.Minute

// Options configure the day-two controllers.
type Options struct {
	// Inject is today's injection (the server's version and default image).
	Inject inject.Config
	// Policies gives today's policy.
	Policies PolicySource
	// AuditInterval is the time between two audits; DefaultAuditInterval when zero.
	AuditInterval time.Duration
	// Reinject says whether stale proxies are re-applied.
	Reinject ReinjectMode
	// Client, when set, replaces the manager's client for reads of the cache and every write
	// (a test counts writes through it).
	Client client.Client
	// TLSSecrets makes the config hash include the frontend certificate Secret a proxy mounts
	// (metrics-proxy.io/tls-secret), watched through a metadata-only cache and read from the API
	// server when it changes (serve --tls-secret-rollout; needs get, list, watch on Secrets).
	TLSSecrets bool
}

// EventSource is the name the controllers' Events carry.
const EventSource = "metrics-proxy"

// indexConfigMap indexes DaemonSets by the ConfigMap their config volume mounts; indexTLSSecret
// by the Secret their frontend certificate volume mounts.
const (
	indexConfigMap = "metrics-proxy.configMap"
	indexTLSSecret = "metrics-proxy.tlsSecret"
)

var errNoPolicies = errors.New("day-two controllers: no policy source")

// Setup adds the rollout controller and the auditor to mgr. Both run only on the leader.
func Setup(ctx context.Context, mgr manager.Manager, o Options) error {
	if o.Policies == nil {
		return errNoPolicies
	}
	c := o.Client
	if c == nil {
		c = mgr.GetClient()
	}
	events := mgr.GetEventRecorder(EventSource)
	err := mgr.GetFieldIndexer().IndexField(ctx, &appsv1.DaemonSet{}, indexConfigMap, func(o client.Object) []string {
		if name := inject.MountedConfigMap(o.(*appsv1.DaemonSet)); name != "" {
			return []string{name}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index DaemonSets by ConfigMap: %w", err)
	}
	rollout := &Rollout{Client: c, ConfigMaps: mgr.GetAPIReader(), Events: events}
	// One manager per process in serve; tests build several, and the name check is only about
	// the controller metrics' labels.
	b := builder.ControllerManagedBy(mgr).Named("rollout").
		WithOptions(ctrlcontroller.Options{SkipNameValidation: ptr.To(true)}).
		For(&appsv1.DaemonSet{}, builder.WithPredicates(predicate.GenerationChangedPredicate{})).
		Watches(&corev1.ConfigMap{}, handler.EnqueueRequestsFromMapFunc(mountedBy(c, indexConfigMap)), builder.OnlyMetadata)
	if o.TLSSecrets {
		err := mgr.GetFieldIndexer().IndexField(ctx, &appsv1.DaemonSet{}, indexTLSSecret, func(o client.Object) []string {
			if name := inject.MountedTLSSecret(o.(*appsv1.DaemonSet)); name != "" {
				return []string{name}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("index DaemonSets by Secret: %w", err)
		}
		// Metadata only: the cache never holds key material; the one Secret a proxy mounts is
		// read from the API server when its resourceVersion changes.
		rollout.Secrets = mgr.GetAPIReader()
		b = b.Watches(&corev1.Secret{}, handler.EnqueueRequestsFromMapFunc(mountedBy(c, indexTLSSecret)), builder.OnlyMetadata,
			builder.WithPredicates(predicate.ResourceVersionChangedPredicate{}))
	}
	if err = b.Complete(rollout); err != nil {
		return fmt.Errorf("rollout controller: %w", err)
	}
	interval := o.AuditInterval
	if interval <= 0 {
		interval = DefaultAuditInterval
	}
	auditor := &Auditor{Reader: splitReader{cached: c, direct: mgr.GetAPIReader()}, Client: c, Events: events,
		Policies: o.Policies, Inject: o.Inject, Interval: interval, Reinject: o.Reinject}
	if err := mgr.Add(auditor); err != nil {
		return fmt.Errorf("auditor: %w", err)
	}
	return nil
}

// mountedBy maps a ConfigMap or a Secret to the DaemonSets that mount it (index: indexConfigMap
// or indexTLSSecret).
func mountedBy(c client.Reader, index string) handler.MapFunc {
	return func(ctx context.Context, obj client.Object) []reconcile.Request {
		var dss appsv1.DaemonSetList
		if err := c.List(ctx, &dss, client.InNamespace(obj.GetNamespace()), client.MatchingFields{index: obj.GetName()}); err != nil {
			return nil
		}
		reqs := make([]reconcile.Request, 0, len(dss.Items))
		for _, ds := range dss.Items {
			reqs = append(reqs, reconcile.Request{NamespacedName: client.ObjectKeyFromObject(&ds)})
		}
		return reqs
	}
}

// splitReader reads ConfigMaps (whose data the cache does not hold) from the API server and
// everything else from the cache.
type splitReader struct {
	cached, direct client.Reader
}

// Get implements client.Reader.
func (r splitReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*corev1.ConfigMap); ok {
		return r.direct.Get(ctx, key, obj, opts...)
	}
	return r.cached.Get(ctx, key, obj, opts...)
}

// List implements client.Reader.
func (r splitReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.ConfigMapList); ok {
		return r.direct.List(ctx, list, opts...)
	}
	return r.cached.List(ctx, list, opts...)
}
