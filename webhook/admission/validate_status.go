package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	admissionv1 "k8s.io/api/admission/v1"
	appsv1 "k8s.io/api/apps/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/metrics-proxy/injector/webhook/inject"
	"github.com/metrics-proxy/injector/webhook/names"
	"github.com/metrics-proxy/injector/webhook/policy"
)

// The status subresource and the status annotation: what keeps a DaemonSet from becoming a proxy
// (labelled metrics-proxy.io/inject=true, or carrying the injector's metrics-proxy.io/status
// record) without a review of its spec.

// statusWrite reviews a write through a DaemonSet's status subresource: the API server keeps the
// spec of such a write but takes its labels and annotations, so it must change none of ours (the
// audit's annotation aside; see policy.StatusMetadataChanges). Only the metadata is decoded.
func statusWrite(ctx context.Context, req admission.Request, p *policy.Policy) admission.Response {
	if req.Operation != admissionv1.Update {
		return decided(ctx, WebhookValidate, req, OutcomeSkipped, "status "+string(req.Operation), admission.Allowed(""))
	}
	if len(req.OldObject.Raw) == 0 {
		return malformed(ctx, WebhookValidate, req, fmt.Errorf("%w: an update of the status subresource without the old object", errMalformed))
	}
	var ds, old metav1.PartialObjectMetadata
	if err := json.Unmarshal(req.Object.Raw, &ds); err != nil {
		err = fmt.Errorf("decode DaemonSet metadata: %w", err)
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
		err = fmt.Errorf("decode the old DaemonSet's metadata: %w", err)
		return decided(ctx, WebhookValidate, req, OutcomeError, err.Error(), admission.Errored(http.StatusBadRequest, err))
	}
	if ds.Name == "" {
		ds.Name = req.Name
	}
	return verdict(ctx, req, "DaemonSet", policy.StatusMetadataChanges(&old.ObjectMeta, &ds.ObjectMeta), p)
}

// oldMetadata returns the metadata of an update's old object; nil for another operation or an
// old object that does not decode (left to the rest of the review).
func oldMetadata(req admission.Request) *metav1.ObjectMeta {
	if req.Operation != admissionv1.Update || len(req.OldObject.Raw) == 0 {
		return nil
	}
	var old metav1.PartialObjectMetadata
	if err := json.Unmarshal(req.OldObject.Raw, &old); err != nil {
		return nil
	}
	return &old.ObjectMeta
}

// unwrittenStatus returns a violation when this write adds or changes the status annotation of a
// DaemonSet the injector does not inject (not labelled metrics-proxy.io/inject=true, namespace
// without injection enabled) and the annotation is not a record the injector could have written
// for this spec (inject.StatusMatches). Where the injector injects, the mutating webhook has just
// rewritten the annotation (another mutating webhook may have changed the spec after it: that is
// the audit's to report). The namespace is read from the API server, not the cache, so that a
// namespace losing its label is not seen enabled here after the API server stopped injecting
// there; the read happens only for an annotation that does not match. An annotation that this
// write leaves as it was is not judged again (a proxy edited since its namespace lost injection
// stays the validator's to judge as a whole), unless the DaemonSet was opted out, when no webhook
// saw the annotation arrive.
func (h DaemonSetValidator) unwrittenStatus(ctx context.Context, old *metav1.ObjectMeta, ds *appsv1.DaemonSet) (*policy.Violation, error) {
	now, has := ds.Annotations[names.StatusAnnotation]
	if !has || ds.Labels[names.InjectLabel] == "true" {
		return nil, nil
	}
	if old != nil && old.Labels[names.InjectLabel] != "false" {
		if was, had := old.Annotations[names.StatusAnnotation]; had && was == now {
			return nil, nil
		}
	}
	if inject.StatusMatches(ds) {
		return nil, nil
	}
	namespaces := h.LiveNamespaces
	if namespaces == nil {
		namespaces = h.Namespaces
	}
	if enabled, err := injectionEnabled(ctx, namespaces, ds.Namespace); err != nil || enabled {
		return nil, err
	}
	return &policy.Violation{Source: "daemonset/" + ds.Name + ".metadata.annotations", Rule: policy.RuleStatusAnnotation,
		Message: fmt.Sprintf("the annotation %s is the injector's record of what it injected, and this one does not match the "+
			"DaemonSet's spec: the injector did not write it; remove it, or label the DaemonSet %s=true to have it injected",
			names.StatusAnnotation, names.InjectLabel)}, nil
}

// terminatingMetadataOnly reports whether an update of a DaemonSet being deleted leaves its spec
// and our labels and annotations as they were: what the garbage collector writes to remove its
// finalizer after a foreground deletion, which must complete even for a proxy the policy would
// refuse now (its ConfigMap deleted first, say). The DaemonSet controller runs no pod of a
// DaemonSet being deleted; whatever else such an update may change is reviewed as usual.
func terminatingMetadataOnly(req admission.Request, old *metav1.ObjectMeta, ds *appsv1.DaemonSet) bool {
	if old == nil || old.DeletionTimestamp == nil || len(policy.StatusMetadataChanges(old, &ds.ObjectMeta)) > 0 {
		return false
	}
	var before, after struct {
		Spec json.RawMessage `json:"spec"`
	}
	if json.Unmarshal(req.OldObject.Raw, &before) != nil || json.Unmarshal(req.Object.Raw, &after) != nil {
		return false
	}
	return bytes.Equal(before.Spec, after.Spec)
}
