package manifest

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// Finding is one policy violation of one document.
type Finding struct {
	// Document is the document's index in its stream, from 1.
	Document int
	// Object names it: "ConfigMap NAMESPACE/NAME" or "DaemonSet NAMESPACE/NAME".
	Object string
	policy.Violation
}

// Validate checks every proxy config and proxy DaemonSet among docs against p as the cluster
// would: first injected as the mutating webhook would (see Inject), then by the same functions as
// the validating webhook. A ConfigMap is checked when it holds haproxy.cfg; a
// DaemonSet when it is a proxy (labelled metrics-proxy.io/inject: "true", injected, or with a
// haproxy container) and not opted out, together with the ConfigMap it mounts, which must be
// among docs (the webhook looks it up in the cluster instead). An error is a *DocumentError.
func Validate(docs []Document, p *policy.Policy, cfg inject.Config) ([]Finding, error) {
	proxy, err := proxies(docs) // before injection, which makes every DaemonSet look like one
	if err != nil {
		return nil, err
	}
	if docs, err = Inject(docs, cfg); err != nil {
		return nil, err
	}
	configMaps := map[string]*corev1.ConfigMap{}
	var findings []Finding
	var proxies []struct {
		doc Document
		ds  *appsv1.DaemonSet
	}
	for _, d := range docs {
		switch {
		case d.APIVersion == "v1" && d.Kind == "ConfigMap":
			cm := &corev1.ConfigMap{}
			if err := yaml.Unmarshal(d.YAML, cm); err != nil {
				return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("ConfigMap: %w", err)}
			}
			configMaps[cm.Namespace+"/"+cm.Name] = cm
			for _, v := range policy.ValidateConfigMap(cm, p) {
				findings = append(findings, Finding{Document: d.Index, Object: "ConfigMap " + objectKey(cm.Namespace, cm.Name), Violation: v})
			}
		case d.APIVersion == "apps/v1" && d.Kind == "DaemonSet":
			ds := &appsv1.DaemonSet{}
			if err := yaml.Unmarshal(d.YAML, ds); err != nil {
				return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("DaemonSet: %w", err)}
			}
			if proxy[d.Index] {
				proxies = append(proxies, struct {
					doc Document
					ds  *appsv1.DaemonSet
				}{d, ds})
			}
		}
	}
	lookup := func(namespace, name string) (*corev1.ConfigMap, error) { return configMaps[namespace+"/"+name], nil }
	for _, pr := range proxies {
		vs, err := policy.ValidateProxy(pr.ds, p, lookup)
		if err != nil {
			return nil, &DocumentError{Index: pr.doc.Index, Err: err}
		}
		for _, v := range vs {
			findings = append(findings, Finding{Document: pr.doc.Index, Object: "DaemonSet " + objectKey(pr.ds.Namespace, pr.ds.Name), Violation: v})
		}
	}
	return findings, nil
}

// proxies returns the indexes of the documents that are proxy DaemonSets, as written.
func proxies(docs []Document) (map[int]bool, error) {
	out := map[int]bool{}
	for _, d := range docs {
		if d.APIVersion != "apps/v1" || d.Kind != "DaemonSet" {
			continue
		}
		ds := &appsv1.DaemonSet{}
		if err := yaml.Unmarshal(d.YAML, ds); err != nil {
			return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("DaemonSet: %w", err)}
		}
		out[d.Index] = isProxy(ds)
	}
	return out, nil
}

// isProxy tells a proxy DaemonSet from any other in a file.
func isProxy(ds *appsv1.DaemonSet) bool {
	if inject.OptedOut(ds) {
		return false
	}
	if ds.Labels[names.InjectLabel] == "true" || ds.Annotations[names.StatusAnnotation] != "" {
		return true
	}
	for _, c := range ds.Spec.Template.Spec.Containers {
		if c.Name == names.ContainerName {
			return true
		}
	}
	return false
}

// objectKey is namespace/name, or name when the document sets no namespace.
func objectKey(namespace, name string) string {
	if namespace == "" {
		return name
	}
	return namespace + "/" + name
}
