package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"

	"github.com/metrics-proxy/injector/webhook/names"
)

// DaemonSetJSON injects the DaemonSet encoded in raw, the one code path of the webhook and the CLI.
// A DaemonSet that opted out is returned as it is. The result keeps every field of raw that our Go
// types do not know (see Mutate).
//
// The haproxy container is the injector's own: it comes out exactly as injection writes it (with
// the user's resources), so a field our types do not know cannot ride along on it into the pod,
// unseen by the validator, which decodes into the same types.
func DaemonSetJSON(raw []byte, cfg Config) ([]byte, error) {
	var owned *corev1.Container
	out, err := Mutate(raw, func(ds *appsv1.DaemonSet) error {
		if OptedOut(ds) {
			return nil
		}
		if err := DaemonSet(ds, cfg); err != nil {
			return err
		}
		owned = findContainer(ds.Spec.Template.Spec.Containers)
		return nil
	})
	if err != nil || owned == nil {
		return out, err
	}
	return replaceOwned(out, owned)
}

// replaceOwned returns raw with its haproxy container replaced by owned, or raw itself when they
// already agree (so re-injection stays patch-free).
func replaceOwned(raw []byte, owned *corev1.Container) ([]byte, error) {
	var obj, want map[string]any
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, &obj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	encoded, err := json.Marshal(owned)
	if err != nil {
		return nil, fmt.Errorf("encode container: %w", err)
	}
	if err := kjson.UnmarshalCaseSensitivePreserveInts(encoded, &want); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	containers, _ := dig(obj, "spec", "template", "spec", "containers").([]any)
	for i, c := range containers {
		if m, ok := c.(map[string]any); ok && m["name"] == names.ContainerName {
			if reflect.DeepEqual(m, want) {
				return raw, nil
			}
			containers[i] = want
			return json.Marshal(obj)
		}
	}
	return raw, nil
}

// dig returns the value at path in nested JSON objects, nil when a step is missing.
func dig(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

// ConfigMapJSON fills the stub proxy config encoded in raw (see ConfigMap).
func ConfigMapJSON(raw []byte) ([]byte, error) {
	return Mutate(raw, ConfigMap)
}

// Mutate decodes raw into a T, applies mutate and encodes the result as raw with only the
// mutation's changes applied. A field that T does not know (a newer API's field, say) is neither
// lost nor rewritten, and fields that the round trip through T would merely normalise (a null
// creationTimestamp, an empty status) are not added: the output differs from raw exactly where
// mutate changed something, so a JSON patch between the two holds no removal the user did not ask for.
func Mutate[T any](raw []byte, mutate func(*T) error) ([]byte, error) {
	obj := new(T)
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, obj); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	base, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode object: %w", err)
	}
	if err := mutate(obj); err != nil {
		return nil, err
	}
	mutated, err := json.Marshal(obj)
	if err != nil {
		return nil, fmt.Errorf("encode mutated object: %w", err)
	}
	if bytes.Equal(base, mutated) {
		return raw, nil
	}
	var r, b, m any
	for _, d := range []struct {
		data []byte
		into *any
	}{{raw, &r}, {base, &b}, {mutated, &m}} {
		if err := kjson.UnmarshalCaseSensitivePreserveInts(d.data, d.into); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrDecode, err)
		}
	}
	return json.Marshal(preserve(r, b, m))
}

// preserve returns raw with the differences between base (raw as the Go types see it) and mut
// (base after the mutation) applied.
func preserve(raw, base, mut any) any {
	switch m := mut.(type) {
	case map[string]any:
		r, rok := raw.(map[string]any)
		b, bok := base.(map[string]any)
		if !rok || !bok {
			return mut
		}
		out := make(map[string]any, len(r)+len(m))
		for k, rv := range r {
			bv, inBase := b[k]
			mv, inMut := m[k]
			switch {
			case !inMut && !inBase: // unknown to the types: keep as written
				out[k] = rv
			case !inMut: // known, and the mutation removed it
			default:
				out[k] = preserve(rv, bv, mv)
			}
		}
		for k, mv := range m {
			if _, inRaw := r[k]; inRaw {
				continue
			}
			bv, inBase := b[k]
			if inBase && reflect.DeepEqual(bv, mv) {
				continue // only the round trip's normalisation
			}
			if _, isMap := mv.(map[string]any); isMap && inBase {
				out[k] = preserve(map[string]any{}, bv, mv)
				continue
			}
			out[k] = mv
		}
		return out
	case []any:
		r, rok := raw.([]any)
		b, bok := base.([]any)
		if !rok || !bok || len(r) != len(b) || len(m) < len(r) {
			return mut
		}
		out := make([]any, len(m))
		for i := range m {
			if i < len(r) {
				out[i] = preserve(r[i], b[i], m[i])
			} else {
				out[i] = m[i]
			}
		}
		return out
	default:
		if reflect.DeepEqual(base, mut) {
			return raw
		}
		return mut
	}
}
