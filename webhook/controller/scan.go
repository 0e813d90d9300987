package controller

import (
	"context"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Report is the result of a Scan: the findings, and the DaemonSets in scope (those the webhook
// selects or injected, not opted out) or carrying an audit annotation, findings or not.
type Report struct {
	Findings []Finding
	// DaemonSets are the DaemonSets in scope, by "namespace/name".
	DaemonSets map[string]*appsv1.DaemonSet
	// ConfigMaps are the proxy configs checked, by "namespace/name".
	ConfigMaps map[string]*corev1.ConfigMap
	// Selected holds the DaemonSets the webhook selects now, by "namespace/name": only a write of
	// theirs reaches the mutating webhook, so only they can be re-injected.
	Selected map[string]bool
}

// Scan checks every object in scope with CheckDaemonSet and CheckConfigMap: the DaemonSets the
// webhook selects or injected, and the proxy ConfigMaps (labelled metrics-proxy.io/config=haproxy,
// or holding haproxy.cfg in a namespace with injection enabled). It only reads, through r:
// Namespaces (metadata), DaemonSets and ConfigMaps.
func Scan(ctx context.Context, r client.Reader, p *policy.Policy, cfg inject.Config) (*Report, error) {
	nsLabels, err := namespaceLabels(ctx, r)
	if err != nil {
		return nil, err
	}
	configMaps, err := proxyConfigMaps(ctx, r, nsLabels)
	if err != nil {
		return nil, err
	}
	var dss appsv1.DaemonSetList
	if err := r.List(ctx, &dss); err != nil {
		return nil, fmt.Errorf("list DaemonSets: %w", err)
	}
	rep := &Report{DaemonSets: map[string]*appsv1.DaemonSet{}, ConfigMaps: configMaps, Selected: map[string]bool{}}
	get := cachedGet(ctx, r, configMaps)
	for i := range dss.Items {
		ds := &dss.Items[i]
		var mounted *corev1.ConfigMap
		if name := inject.MountedConfigMap(ds); name != "" {
			if mounted, err = get(ds.Namespace, name); err != nil {
				return nil, err
			}
		}
		fs, err := CheckDaemonSet(ds, ProxyInput{NamespaceLabels: nsLabels[ds.Namespace], ConfigMap: mounted, GetConfigMap: get}, p, cfg)
		if err != nil {
			return nil, fmt.Errorf("DaemonSet %s/%s: %w", ds.Namespace, ds.Name, err)
		}
		if !inject.OptedOut(ds) && Selection(ds, nsLabels[ds.Namespace]).Selected {
			rep.Selected[ds.Namespace+"/"+ds.Name] = true
		}
		_, annotated := ds.Annotations[names.AuditAnnotation]
		if annotated || !inject.OptedOut(ds) && (Injected(ds) || Selection(ds, nsLabels[ds.Namespace]).Selected) {
			rep.DaemonSets[ds.Namespace+"/"+ds.Name] = ds
		}
		rep.Findings = append(rep.Findings, fs...)
	}
	for _, cm := range configMaps {
		rep.Findings = append(rep.Findings, CheckConfigMap(cm, p)...)
	}
	sortFindings(rep.Findings)
	return rep, nil
}

// namespaceLabels returns the labels of every namespace.
func namespaceLabels(ctx context.Context, r client.Reader) (map[string]map[string]string, error) {
	var nss metav1.PartialObjectMetadataList
	nss.SetGroupVersionKind(corev1.SchemeGroupVersion.WithKind("NamespaceList"))
	if err := r.List(ctx, &nss); err != nil {
		return nil, fmt.Errorf("list namespaces: %w", err)
	}
	out := make(map[string]map[string]string, len(nss.Items))
	for _, ns := range nss.Items {
		out[ns.Name] = ns.Labels
	}
	return out, nil
}

// proxyConfigMaps returns the proxy configs by "namespace/name": labelled ones anywhere, and in
// namespaces with injection enabled every ConfigMap holding haproxy.cfg (as the validating
// webhook selects them).
func proxyConfigMaps(ctx context.Context, r client.Reader, nsLabels map[string]map[string]string) (map[string]*corev1.ConfigMap, error) {
	out := map[string]*corev1.ConfigMap{}
	var labelled corev1.ConfigMapList
	if err := r.List(ctx, &labelled, client.MatchingLabels{names.ConfigLabel: names.ConfigLabelValue}); err != nil {
		return nil, fmt.Errorf("list labelled ConfigMaps: %w", err)
	}
	for i := range labelled.Items {
		cm := &labelled.Items[i]
		out[cm.Namespace+"/"+cm.Name] = cm
	}
	for ns, labels := range nsLabels {
		if labels[names.NamespaceInjectionLabel] != "enabled" {
			continue
		}
		var cms corev1.ConfigMapList
		if err := r.List(ctx, &cms, client.InNamespace(ns)); err != nil {
			return nil, fmt.Errorf("list ConfigMaps in %s: %w", ns, err)
		}
		for i := range cms.Items {
			cm := &cms.Items[i]
			if _, ok := policy.ConfigText(cm); ok {
				out[cm.Namespace+"/"+cm.Name] = cm
			}
		}
	}
	return out, nil
}

// cachedGet reads ConfigMaps from known first, then through r, remembering what it read.
func cachedGet(ctx context.Context, r client.Reader, known map[string]*corev1.ConfigMap) policy.GetConfigMap {
	read := map[string]*corev1.ConfigMap{} // outside known; nil: does not exist
	return func(namespace, name string) (*corev1.ConfigMap, error) {
		key := namespace + "/" + name
		if cm, ok := known[key]; ok {
			return cm, nil
		}
		if cm, ok := read[key]; ok {
			return cm, nil
		}
		var cm corev1.ConfigMap
		if err := r.Get(ctx, client.ObjectKey{Namespace: namespace, Name: name}, &cm); apierrors.IsNotFound(err) {
			read[key] = nil
			return nil, nil
		} else if err != nil {
			return nil, fmt.Errorf("get ConfigMap %s: %w", key, err)
		}
		read[key] = &cm // not in known: the set of proxy configs stays what the webhook selects
		return &cm, nil
	}
}
