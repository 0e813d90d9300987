package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	kjson "sigs.k8s.io/json"
)

// DaemonSetJSON injects the DaemonSet encoded in raw, the one code path of the webhook and the CLI.
// A DaemonSet that opted out is returned as it is. The result keeps every field of raw that our Go
// types do not know (see Mutate).
//
// The haproxy container is the injector's own: it comes out exactly as injection writes it (with
// the user's resources), so a field our types do not know cannot ride along on it into the pod,
// unseen by the validator, which decodes into the same types.
func DaemonSetJSON(raw []byte, cfg Config) ([]byte, error) {
	out, _, err := DaemonSetJSONNotes(raw, cfg)
	return out, err
}

// DaemonSetJSONNotes is DaemonSetJSON, with the notes of DaemonSetNotes.
func DaemonSetJSONNotes(raw []byte, cfg Config) ([]byte, []string, error) {
	res, err := DaemonSetTree(raw, func(*appsv1.DaemonSet) (Config, error) { return cfg, nil })
	if err != nil {
		return nil, nil, err
	}
	out, err := res.JSON()
	return out, res.Notes, err
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

// ConfigMapJSONFiltered fills the stub proxy config encoded in raw (see ConfigMapFiltered).
func ConfigMapJSONFiltered(raw []byte, f Filter) ([]byte, error) {
	return Mutate(raw, func(cm *corev1.ConfigMap) error { return ConfigMapFiltered(cm, f) })
}

// Mutate decodes raw into a T, applies mutate and encodes the result as raw with only the
// mutation's changes applied. A field that T does not know (a newer API's field, say) is neither
// lost nor rewritten, and fields that the round trip through T would merely normalise (a null
// creationTimestamp, an empty status) are not added: the output differs from raw exactly where
// mutate changed something, so a JSON patch between the two holds no removal the user did not ask for.
func Mutate[T any](raw []byte, mutate func(*T) error) ([]byte, error) {
	m, err := mutateTree(raw, mutate)
	switch {
	case err != nil || m.unchanged():
		return raw, err
	case m.encoded != nil:
		return m.encoded, nil
	}
	return json.Marshal(m.outTree)
}

// mutation is what mutateTree made of raw: nothing (mutate changed nothing: the result is raw),
// or the result either encoded or as trees. It is encoded when raw is exactly what the Go types
// write, as the API server sends an object in a review: the types then know every field of raw
// and normalise none, so the merge is the mutated object itself, as they write it. Otherwise it
// is raw's decode and the merge into it (decoded as sigs.k8s.io/json decodes: see Injection).
type mutation struct {
	encoded          []byte
	rawTree, outTree any
}

func (m mutation) unchanged() bool { return m.encoded == nil && m.outTree == nil }

// mutateTree is Mutate, its result left decoded with raw's decode (see Injection) unless raw is
// what the types write (see mutation).
func mutateTree[T any](raw []byte, mutate func(*T) error) (mutation, error) {
	obj := new(T)
	if err := kjson.UnmarshalCaseSensitivePreserveInts(raw, obj); err != nil {
		return mutation{}, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	base, err := json.Marshal(obj)
	if err != nil {
		return mutation{}, fmt.Errorf("encode object: %w", err)
	}
	if err := mutate(obj); err != nil {
		return mutation{}, err
	}
	mutated, err := json.Marshal(obj)
	if err != nil {
		return mutation{}, fmt.Errorf("encode mutated object: %w", err)
	}
	switch {
	case bytes.Equal(base, mutated):
		return mutation{}, nil
	case bytes.Equal(raw, base):
		return mutation{encoded: mutated}, nil
	}
	var trees [3]any
	for i, data := range [][]byte{raw, base, mutated} {
		if trees[i], err = decodeTree(data); err != nil {
			return mutation{}, err
		}
	}
	return mutation{rawTree: trees[0], outTree: preserve(trees[0], trees[1], trees[2])}, nil
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
