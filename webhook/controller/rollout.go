package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"sigs.k8s.io/controller-runtime/pkg/client"
	logf "sigs.k8s.io/controller-runtime/pkg/log"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"
	"sigs.k8s.io/controller-runtime/pkg/recorder"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// Event reasons of the rollout controller.
const (
	// EventConfigRollout (Normal): the mounted haproxy.cfg changed and the pod template's config
	// hash was updated, so the DaemonSet controller rolls the pods.
	EventConfigRollout = "ConfigRollout"
	// EventRolloutDenied (Warning): the API server (the validating webhook, under today's policy)
	// refused the new config hash; the pods keep the old config until the objects comply.
	EventRolloutDenied = "RolloutDenied"
)

// Rollout reconciles one proxy DaemonSet: it sets its pod template's metrics-proxy.io/config-hash
// to the hash of the haproxy.cfg it mounts. The write goes through the API server and its
// webhooks like any update; one write per change of the config, none when the hash is current.
type Rollout struct {
	// Client reads DaemonSets (the manager's cache) and writes them.
	Client client.Client
	// ConfigMaps reads the mounted ConfigMap with its data (the API server: the cache holds
	// ConfigMaps' metadata only).
	ConfigMaps client.Reader
	// Secrets, when set (serve --tls-secret-rollout), reads the frontend certificate Secret the
	// DaemonSet mounts (the API server): the hash then includes it, so a renewed certificate
	// rolls the pods too. Nil: the hash is the ConfigMap's alone.
	Secrets client.Reader
	// Events records the rollout on the DaemonSet.
	Events recorder.EventRecorder
}

// Reconcile implements reconcile.Reconciler for DaemonSets.
func (r *Rollout) Reconcile(ctx context.Context, req reconcile.Request) (reconcile.Result, error) {
	var ds appsv1.DaemonSet
	if err := r.Client.Get(ctx, req.NamespacedName, &ds); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err)
	}
	name := inject.MountedConfigMap(&ds)
	if !Injected(&ds) || inject.OptedOut(&ds) || name == "" || !ds.DeletionTimestamp.IsZero() {
		return reconcile.Result{}, nil
	}
	var cm corev1.ConfigMap
	if err := r.ConfigMaps.Get(ctx, client.ObjectKey{Namespace: ds.Namespace, Name: name}, &cm); err != nil {
		return reconcile.Result{}, client.IgnoreNotFound(err) // no config yet: nothing to roll
	}
	secret, err := r.secret(ctx, &ds)
	if err != nil {
		return reconcile.Result{}, err
	}
	have, want := inject.TemplateConfigHash(&ds), inject.ConfigHashWithSecret(&cm, secret)
	if want == "" || have == want {
		return reconcile.Result{}, nil
	}
	patch := client.MergeFromWithOptions(ds.DeepCopy(), client.MergeFromWithOptimisticLock{})
	if ds.Spec.Template.Annotations == nil {
		ds.Spec.Template.Annotations = map[string]string{}
	}
	ds.Spec.Template.Annotations[names.ConfigHashAnnotation] = want
	err = r.Client.Patch(ctx, &ds, patch)
	writes.WithLabelValues("rollout").Inc()
	switch {
	case apierrors.IsConflict(err):
		return reconcile.Result{Requeue: true}, nil // the cache was behind: read again
	case apierrors.IsForbidden(err) || apierrors.IsInvalid(err):
		// A denial does not heal by retrying: the next change of the DaemonSet or its ConfigMap
		// (or the audit) brings it back.
		r.Events.Eventf(&ds, nil, corev1.EventTypeWarning, EventRolloutDenied, "Rollout",
			"the config hash of ConfigMap %s could not be written: %v", name, err)
		logf.FromContext(ctx).Info("config rollout denied", "configMap", name, "error", err.Error())
		return reconcile.Result{}, nil
	case err != nil:
		return reconcile.Result{}, fmt.Errorf("patch the config hash: %w", err)
	}
	r.Events.Eventf(&ds, nil, corev1.EventTypeNormal, EventConfigRollout, "Rollout",
		"haproxy.cfg of ConfigMap %s or the frontend certificate changed (config hash %q -> %q): the pods roll", name, have, want)
	logf.FromContext(ctx).Info("config rollout", "configMap", name, "from", have, "to", want)
	return reconcile.Result{}, nil
}

// secret returns the frontend certificate Secret ds mounts when Secrets are read, or nil (none
// mounted, not read, or not there yet: the hash is then the ConfigMap's, as at injection).
func (r *Rollout) secret(ctx context.Context, ds *appsv1.DaemonSet) (*corev1.Secret, error) {
	name := inject.MountedTLSSecret(ds)
	if r.Secrets == nil || name == "" {
		return nil, nil
	}
	var s corev1.Secret
	if err := r.Secrets.Get(ctx, client.ObjectKey{Namespace: ds.Namespace, Name: name}, &s); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("read the frontend certificate Secret %s: %w", name, err)
	}
	return &s, nil
}
