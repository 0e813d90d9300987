package manifest

import (
	"bytes"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
)

// Unlabelled is a DaemonSet without its own metrics-proxy.io/inject label, which only a namespace
// with injection enabled makes a proxy: Inject reports each, injected or left alone, so that
// nothing differs silently from what the webhook would do.
type Unlabelled struct {
	// Document is the DaemonSet's index in its stream; Object is "DaemonSet NAMESPACE/NAME".
	Document int
	Object   string
	// Injected is true when Inject injected it (namespaceEnabled), false when it left it alone.
	Injected bool
}

// Inject returns docs with the DaemonSets the webhook would select injected and every stub proxy
// ConfigMap filled, by the same functions the webhooks call; other documents, and objects
// injection leaves as they are (opted out, already injected), keep their bytes. Like the webhook,
// Inject follows the labels: a DaemonSet labelled metrics-proxy.io/inject: "true" is injected; one
// without the label only when namespaceEnabled says its namespace is labelled
// metrics-proxy.io/injection: enabled (a file does not say); each such DaemonSet is reported.
// An error is a *DocumentError.
func Inject(docs []Document, cfg inject.Config, namespaceEnabled bool) ([]Document, []Unlabelled, error) {
	out, unlabelled, _, err := InjectNotes(docs, cfg, namespaceEnabled)
	return out, unlabelled, err
}

// Note is what injection of one DaemonSet says the webhook would warn about (see
// inject.DaemonSetNotes and inject.IsProxy).
type Note struct {
	// Document is the DaemonSet's index in its stream; Object is "DaemonSet NAMESPACE/NAME".
	Document int
	Object   string
	// Text is the warning.
	Text string
}

// InjectNotes is Inject, and returns the notes of every DaemonSet it injected: what the webhook
// would return as warnings.
func InjectNotes(docs []Document, cfg inject.Config, namespaceEnabled bool) ([]Document, []Unlabelled, []Note, error) {
	out := make([]Document, len(docs))
	var unlabelled []Unlabelled
	var notes []Note
	for i, d := range docs {
		var mutate func([]byte) ([]byte, error)
		switch {
		case d.APIVersion == "apps/v1" && d.Kind == "DaemonSet":
			selected, labelled, name, err := selection(d)
			if err != nil {
				return nil, nil, nil, &DocumentError{Index: d.Index, Err: err}
			}
			if !labelled && selected {
				unlabelled = append(unlabelled, Unlabelled{Document: d.Index, Object: "DaemonSet " + name, Injected: namespaceEnabled})
				selected = namespaceEnabled
			}
			if !selected {
				out[i] = d
				continue
			}
			object := "DaemonSet " + name
			mutate = func(raw []byte) ([]byte, error) {
				if !labelled {
					if text := notAProxy(raw); text != "" {
						notes = append(notes, Note{Document: d.Index, Object: object, Text: text})
					}
				}
				out, texts, err := inject.DaemonSetJSONNotes(raw, cfg)
				for _, text := range texts {
					notes = append(notes, Note{Document: d.Index, Object: object, Text: text})
				}
				return out, err
			}
		case d.APIVersion == "v1" && d.Kind == "ConfigMap":
			mutate = inject.ConfigMapJSON
		default:
			out[i] = d
			continue
		}
		injected, err := apply(d, mutate)
		if err != nil {
			return nil, nil, nil, &DocumentError{Index: d.Index, Err: err}
		}
		out[i] = injected
	}
	return out, unlabelled, notes, nil
}

// notAProxy is inject.NotAProxyNote for the DaemonSet in raw when inject.IsProxy says it is no
// proxy, else "".
func notAProxy(raw []byte) string {
	var ds appsv1.DaemonSet
	if kjson.UnmarshalCaseSensitivePreserveInts(raw, &ds) != nil || inject.IsProxy(&ds) {
		return ""
	}
	return inject.NotAProxyNote(&ds)
}

// selection reads a DaemonSet document's labels: selected unless it opted out, labelled when it
// carries metrics-proxy.io/inject: "true" itself.
func selection(d Document) (selected, labelled bool, name string, err error) {
	var meta struct {
		Metadata struct {
			Name, Namespace string
			Labels          map[string]string
		} `json:"metadata"`
	}
	if err := yaml.Unmarshal(d.YAML, &meta); err != nil {
		return false, false, "", fmt.Errorf("DaemonSet: %w", err)
	}
	name = objectKey(meta.Metadata.Namespace, meta.Metadata.Name)
	switch meta.Metadata.Labels[names.InjectLabel] {
	case "false":
		return false, false, name, nil
	case "true":
		return true, true, name, nil
	}
	return true, false, name, nil
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
