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
	// Document is the document's index in its stream, from 1; Item the object's position in the
	// list that document holds, 0 when it is no list.
	Document, Item int
	// Object names it: "ConfigMap NAMESPACE/NAME" or "DaemonSet NAMESPACE/NAME".
	Object string
	policy.Violation
}

// Report is what Validate found in a stream.
type Report struct {
	// Findings are the violations, each once.
	Findings []Finding
	// Checked names every object that was checked ("ConfigMap NS/NAME", "DaemonSet NS/NAME").
	Checked []string
	// Unlabelled are the DaemonSets without their own inject label (see Inject).
	Unlabelled []Unlabelled
}

// Validate checks every proxy config and proxy DaemonSet among docs against p as the cluster
// would: first injected as the mutating webhook would (see Inject; namespaceEnabled as there),
// then by the same functions as the validating webhook. A ConfigMap is checked when it holds
// haproxy.cfg; a DaemonSet when it is a proxy (labelled metrics-proxy.io/inject: "true",
// injected, with a haproxy container, or in an enabled namespace) and not opted out, together
// with the ConfigMap it mounts, which must be among docs (the webhook looks it up in the cluster
// instead). A violation of a ConfigMap among docs is reported once, on the ConfigMap, not again
// on each DaemonSet that mounts it. An error is a *DocumentError.
func Validate(docs []Document, p *policy.Policy, cfg inject.Config, namespaceEnabled bool) (Report, error) {
	var r Report
	proxy, err := proxies(docs, namespaceEnabled) // before injection, which makes every DaemonSet look like one
	if err != nil {
		return r, err
	}
	if docs, r.Unlabelled, err = Inject(docs, cfg, namespaceEnabled); err != nil {
		return r, err
	}
	configMaps := map[string]*corev1.ConfigMap{}
	checkedConfig := map[string]bool{} // "configmap/NAME:haproxy.cfg" of the ConfigMaps checked as documents
	var findings []Finding
	var proxies []struct {
		doc Document
		ds  *appsv1.DaemonSet
	}
	for i, d := range docs {
		switch {
		case d.APIVersion == "v1" && d.Kind == "ConfigMap":
			cm := &corev1.ConfigMap{}
			if err := yaml.Unmarshal(d.YAML, cm); err != nil {
				return r, &DocumentError{Index: d.Index, Err: fmt.Errorf("ConfigMap: %w", err)}
			}
			configMaps[cm.Namespace+"/"+cm.Name] = cm
			if _, ok := policy.ConfigText(cm); !ok {
				continue
			}
			r.Checked = append(r.Checked, "ConfigMap "+objectKey(cm.Namespace, cm.Name))
			checkedConfig[cm.Namespace+"/configmap/"+cm.Name+":"+names.ConfigKey] = true
			for _, v := range policy.ValidateConfigMap(cm, p) {
				findings = append(findings, Finding{Document: d.Index, Item: d.Item, Object: "ConfigMap " + objectKey(cm.Namespace, cm.Name), Violation: v})
			}
		case d.APIVersion == "apps/v1" && d.Kind == "DaemonSet":
			ds := &appsv1.DaemonSet{}
			if err := yaml.Unmarshal(d.YAML, ds); err != nil {
				return r, &DocumentError{Index: d.Index, Err: fmt.Errorf("DaemonSet: %w", err)}
			}
			if proxy[i] {
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
			return r, &DocumentError{Index: pr.doc.Index, Err: err}
		}
		r.Checked = append(r.Checked, "DaemonSet "+objectKey(pr.ds.Namespace, pr.ds.Name))
		for _, v := range vs {
			if checkedConfig[pr.ds.Namespace+"/"+v.Source] {
				continue // reported on the ConfigMap itself
			}
			findings = append(findings, Finding{Document: pr.doc.Index, Item: pr.doc.Item, Object: "DaemonSet " + objectKey(pr.ds.Namespace, pr.ds.Name), Violation: v})
		}
	}
	r.Findings = findings
	return r, nil
}

// proxies returns the positions in docs of the proxy DaemonSets, as written.
func proxies(docs []Document, namespaceEnabled bool) (map[int]bool, error) {
	out := map[int]bool{}
	for i, d := range docs {
		if d.APIVersion != "apps/v1" || d.Kind != "DaemonSet" {
			continue
		}
		ds := &appsv1.DaemonSet{}
		if err := yaml.Unmarshal(d.YAML, ds); err != nil {
			return nil, &DocumentError{Index: d.Index, Err: fmt.Errorf("DaemonSet: %w", err)}
		}
		out[i] = isProxy(ds) || namespaceEnabled && !inject.OptedOut(ds)
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
