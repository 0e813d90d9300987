package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/names"
)

// Injection is what DaemonSetTree returns.
type Injection struct {
	// Notes are the notes of DaemonSetNotes.
	Notes []string
	// Raw is the reviewed DaemonSet and Out the injected one, decoded as sigs.k8s.io/json
	// decodes JSON (objects map[string]any, arrays []any, integers int64, other numbers
	// float64), so that a JSON patch between them needs no decode of its own. Both are nil when
	// injection left the DaemonSet exactly as written (Unchanged), and when the reviewed
	// DaemonSet is exactly what the Go types write (see Encoded). They may share values: do not
	// change them.
	Raw, Out any
	raw      []byte
	// encoded is the injected DaemonSet as the Go types write it, when raw is too.
	encoded []byte
}

// Unchanged reports whether the injected DaemonSet is the reviewed one, byte for byte.
func (r *Injection) Unchanged() bool { return r.Out == nil && r.encoded == nil }

// Encoded returns the reviewed and the injected DaemonSet, both exactly as the Go types write
// them (compact, fields in the types' order, map keys sorted), when the reviewed one was written
// that way, as the API server sends an object in a review; ok is false otherwise (Raw and Out
// then hold them). Two parts of such documents are equal values exactly when their bytes are
// equal, so a JSON patch between them can compare bytes where it would compare decoded values.
func (r *Injection) Encoded() (reviewed, injected []byte, ok bool) {
	return r.raw, r.encoded, r.encoded != nil
}

// JSON encodes the injected DaemonSet (the reviewed bytes themselves when Unchanged).
func (r *Injection) JSON() ([]byte, error) {
	switch {
	case r.encoded != nil:
		return r.encoded, nil
	case r.Out == nil:
		return r.raw, nil
	}
	out, err := json.Marshal(r.Out)
	if err != nil {
		return nil, fmt.Errorf("encode injected DaemonSet: %w", err)
	}
	return out, nil
}

// DaemonSetTree is DaemonSetJSONNotes with the Config that configure returns for the DaemonSet
// as decoded from raw, before injection (and not called for one that opted out): the webhook
// reads the DaemonSet's annotations there to look up its config hash, so that raw is decoded
// once for both. The result is left decoded (see Injection): the webhook diffs the trees that the
// merge of Mutate decoded anyway, or the encoded documents (see Injection.Encoded), and never
// encodes the injected DaemonSet again. An error of configure is returned as it is.
func DaemonSetTree(raw []byte, configure func(*appsv1.DaemonSet) (Config, error)) (Injection, error) {
	var owned *corev1.Container
	var notes []string
	m, err := mutateTree(raw, func(ds *appsv1.DaemonSet) error {
		if OptedOut(ds) {
			return nil
		}
		cfg, err := configure(ds)
		if err != nil {
			return err
		}
		if notes, err = DaemonSetNotes(ds, cfg); err != nil {
			return err
		}
		owned = findContainer(ds.Spec.Template.Spec.Containers)
		return nil
	})
	if err != nil {
		return Injection{}, err
	}
	res := Injection{Notes: notes, Raw: m.rawTree, Out: m.outTree, raw: raw, encoded: m.encoded}
	// Encoded, the haproxy container is owned as the types write it: no field of raw can ride on it.
	if owned == nil || m.encoded != nil || !mayHoldOwned(raw) {
		return res, nil
	}
	if res.Out != nil {
		_, err := replaceOwned(res.Out, owned)
		return res, err
	}
	obj, err := decodeTree(raw)
	if err != nil {
		return Injection{}, err
	}
	changed, err := replaceOwned(obj, owned)
	if err != nil || !changed {
		return res, err
	}
	if res.Raw, err = decodeTree(raw); err != nil { // obj was changed: Raw is raw's own decode
		return Injection{}, err
	}
	res.Out = obj
	return res, nil
}

// mayHoldOwned reports whether raw may hold a container named haproxy. Only then can Mutate's
// merge have kept on it a field our types do not know, for replaceOwned to drop: without the
// name's bytes, or a \u escape that could spell it, the output's haproxy container is the typed
// one exactly, and replaceOwned would change nothing.
func mayHoldOwned(raw []byte) bool {
	return bytes.Contains(raw, []byte(names.ContainerName)) || bytes.Contains(raw, []byte(`\u`))
}

// replaceOwned replaces the haproxy container of the decoded DaemonSet obj by owned, unless they
// already agree (so re-injection stays patch-free), and reports whether it did. It changes the
// map holding the containers, never the list it found there (a list Raw may share).
func replaceOwned(obj any, owned *corev1.Container) (bool, error) {
	encoded, err := json.Marshal(owned)
	if err != nil {
		return false, fmt.Errorf("encode container: %w", err)
	}
	want, err := decodeTree(encoded)
	if err != nil {
		return false, err
	}
	pod, _ := dig(obj, "spec", "template", "spec").(map[string]any)
	containers, _ := pod["containers"].([]any)
	for i, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == names.ContainerName {
			if reflect.DeepEqual(m, want) {
				return false, nil
			}
			containers = slices.Clone(containers)
			containers[i] = want
			pod["containers"] = containers
			return true, nil
		}
	}
	return false, nil
}

// decodeTree decodes data as sigs.k8s.io/json does, strictly and keeping integers int64.
func decodeTree(data []byte) (any, error) {
	var v any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(data, &v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return v, nil
}
