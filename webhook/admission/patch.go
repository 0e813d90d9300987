package admission

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	jsonpatch "gomodules.xyz/jsonpatch/v2"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/inject"
)

// patchResponse is admission.PatchResponseFromRaw for an injection: the JSON patch from the
// reviewed DaemonSet to the injected one, diffed on the trees injection decoded for its merge
// (inject.Injection) instead of encoding the result and decoding both again.
func patchResponse(res *inject.Injection) admission.Response {
	var ops []jsonpatch.JsonPatchOperation
	if reviewed, injected, ok := res.Encoded(); ok {
		var err error
		if ops, err = diffEncoded(reviewed, injected, "", nil); err != nil {
			return admission.Errored(http.StatusInternalServerError, fmt.Errorf("JSON patch: %w", err))
		}
	} else if !res.Unchanged() {
		ops = diffJSON(res.Raw, res.Out, "", nil)
	}
	resp := admission.Response{Patches: ops, AdmissionResponse: admissionv1.AdmissionResponse{Allowed: true}}
	if len(ops) > 0 {
		pt := admissionv1.PatchTypeJSONPatch
		resp.PatchType = &pt
	}
	return resp
}

// diffJSON appends to ops the JSON patch (RFC 6902) operations that turn a into b, decoded JSON
// values (objects map[string]any, arrays []any, strings, bools, nil, int64 or float64 numbers),
// at path. It is gomodules.xyz/jsonpatch's CreatePatch on decoded values: an object is diffed
// key by key; an array element by element, its surplus removed from the end or its new elements
// added at the end; any other change, a change of type included, is a replace.
func diffJSON(a, b any, path string, ops []jsonpatch.JsonPatchOperation) []jsonpatch.JsonPatchOperation {
	switch at := a.(type) {
	case map[string]any:
		bt, ok := b.(map[string]any)
		if !ok {
			return append(ops, jsonpatch.NewOperation("replace", path, b))
		}
		for k, bv := range bt {
			av, ok := at[k]
			if !ok {
				ops = append(ops, jsonpatch.NewOperation("add", pointer(path, k), bv))
				continue
			}
			ops = diffJSON(av, bv, pointer(path, k), ops)
		}
		for k := range at {
			if _, ok := bt[k]; !ok {
				ops = append(ops, jsonpatch.NewOperation("remove", pointer(path, k), nil))
			}
		}
		return ops
	case []any:
		bt, ok := b.([]any)
		if !ok {
			return append(ops, jsonpatch.NewOperation("replace", path, b))
		}
		ops = resizeArray(path, len(at), len(bt), func(i int) any { return bt[i] }, ops)
		for i := range min(len(at), len(bt)) {
			ops = diffJSON(at[i], bt[i], path+"/"+strconv.Itoa(i), ops)
		}
		return ops
	}
	if !sameScalar(a, b) {
		ops = append(ops, jsonpatch.NewOperation("replace", path, b))
	}
	return ops
}

// resizeArray appends the operations that turn an array of na elements at path into one of nb:
// the surplus removed from the end, the new elements (added(i) for index i) added at the end.
// The elements both have are left to the caller.
func resizeArray(path string, na, nb int, added func(int) any, ops []jsonpatch.JsonPatchOperation) []jsonpatch.JsonPatchOperation {
	n := min(na, nb)
	for i := na - 1; i >= n; i-- {
		ops = append(ops, jsonpatch.NewOperation("remove", path+"/"+strconv.Itoa(i), nil))
	}
	for i := n; i < nb; i++ {
		ops = append(ops, jsonpatch.NewOperation("add", path+"/"+strconv.Itoa(i), added(i)))
	}
	return ops
}

// sameScalar reports whether a and b are the same JSON scalar, of the same type: 1 and 1.0
// differ, as they do for CreatePatch.
func sameScalar(a, b any) bool {
	switch at := a.(type) {
	case nil:
		return b == nil
	case string:
		bt, ok := b.(string)
		return ok && at == bt
	case bool:
		bt, ok := b.(bool)
		return ok && at == bt
	case int64:
		bt, ok := b.(int64)
		return ok && at == bt
	case float64:
		bt, ok := b.(float64)
		return ok && at == bt
	}
	return false
}

// pointerEscaper escapes a key for a JSON pointer (RFC 6901).
var pointerEscaper = strings.NewReplacer("~", "~0", "/", "~1")

// pointer is path extended with the object key k.
func pointer(path, k string) string {
	if strings.ContainsAny(k, "~/") {
		k = pointerEscaper.Replace(k)
	}
	return path + "/" + k
}
