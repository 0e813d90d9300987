package manifest

import (
	"bytes"
	"fmt"

	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// Inject returns docs with every apps/v1 DaemonSet injected and every stub proxy ConfigMap filled,
// by the same functions the webhooks call; other documents, and objects injection leaves as they
// are (opted out, already injected), keep their bytes. Unlike the webhook, which only sees the
// DaemonSets its selection lets through, Inject injects every DaemonSet that did not opt out: a
// file handed to it is meant to become a proxy. An error is a *DocumentError.
func Inject(docs []Document, cfg inject.Config) ([]Document, error) {
	out := make([]Document, len(docs))
	for i, d := range docs {
		var mutate func([]byte) ([]byte, error)
		switch {
		case d.APIVersion == "apps/v1" && d.Kind == "DaemonSet":
			mutate = func(raw []byte) ([]byte, error) { return inject.DaemonSetJSON(raw, cfg) }
		case d.APIVersion == "v1" && d.Kind == "ConfigMap":
			mutate = inject.ConfigMapJSON
		default:
			out[i] = d
			continue
		}
		injected, err := apply(d, mutate)
		if err != nil {
			return nil, &DocumentError{Index: d.Index, Err: err}
		}
		out[i] = injected
	}
	return out, nil
}

// apply runs mutate on the JSON form of d and returns d re-encoded when it changed.
func apply(d Document, mutate func([]byte) ([]byte, error)) (Document, error) {
	raw, err := yaml.YAMLToJSON(d.YAML)
	if err != nil {
		return d, fmt.Errorf("%s: %w", d.Kind, err)
	}
	mutated, err := mutate(raw)
	if err != nil {
		return d, fmt.Errorf("%s %s: %w", d.Kind, objectName(raw), err)
	}
	if bytes.Equal(raw, mutated) {
		return d, nil
	}
	d.YAML, err = yaml.JSONToYAML(mutated)
	if err != nil {
		return d, fmt.Errorf("%s %s: encode: %w", d.Kind, objectName(raw), err)
	}
	return d, nil
}

// objectName returns namespace/name of a JSON object, or "(unnamed)", for error messages.
func objectName(raw []byte) string {
	var obj struct {
		Metadata struct{ Name, Namespace string } `json:"metadata"`
	}
	if yaml.Unmarshal(raw, &obj) != nil || obj.Metadata.Name == "" {
		return "(unnamed)"
	}
	if obj.Metadata.Namespace == "" {
		return obj.Metadata.Name
	}
	return obj.Metadata.Namespace + "/" + obj.Metadata.Name
}
